-- Every history row names the merchant whose registration it belongs to
-- (see internal/sqlite/migrations/0007_history_merchant.sql, which this
-- matches): new rows are stamped by the store; older rows get the merchant
-- in effect when they were written, and registration rows written with a
-- change of merchant, which hold both merchants' values, are marked '*'.
-- history is append-only: its row trigger is disabled for the backfill
-- inside this migration's transaction only.
ALTER TABLE history ADD COLUMN merchant_no TEXT NOT NULL DEFAULT '';
ALTER TABLE history DISABLE TRIGGER history_no_update;
UPDATE history h SET merchant_no = '*'
WHERE (h.field = 'registration' OR h.field LIKE 'registration.%') AND EXISTS (
    SELECT 1 FROM history m WHERE m.sn = h.sn AND m.at = h.at AND m.actor = h.actor
        AND m.field = 'registration.merchant_no' AND m.old <> '');
UPDATE history h SET merchant_no = COALESCE(
    (SELECT m.new FROM history m WHERE m.sn = h.sn AND m.at <= h.at AND m.field = 'registration.merchant_no'
        ORDER BY m.at DESC, m.id DESC LIMIT 1),
    (SELECT split_part(c.new, ' ', 1) FROM history c WHERE c.sn = h.sn AND c.at <= h.at AND c.field = 'registration'
        ORDER BY c.id LIMIT 1),
    '')
WHERE h.merchant_no = '';
ALTER TABLE history ENABLE TRIGGER history_no_update;
