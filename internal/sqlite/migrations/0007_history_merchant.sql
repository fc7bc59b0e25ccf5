-- Every history row names the merchant whose registration it belongs to,
-- so a merchant reads its own rows of a device's history and never those
-- of the merchant before or after it. Rows written from now on are
-- stamped by the store (registry.Diff never puts two merchants' values in
-- one row). Older rows get the merchant in effect when they were written:
-- the last merchant number set at or before the row, else the merchant of
-- the registration the device was created with. Older registration rows
-- written together with a change of merchant hold both merchants' values
-- and are marked '*' (registry.LegacyMixedMerchant): no merchant's own.
-- history is append-only: its update trigger is dropped and created again
-- inside this migration's transaction.
ALTER TABLE history ADD COLUMN merchant_no TEXT NOT NULL DEFAULT '';
DROP TRIGGER history_no_update;
UPDATE history SET merchant_no = '*'
WHERE (field = 'registration' OR field LIKE 'registration.%') AND EXISTS (
    SELECT 1 FROM history m WHERE m.sn = history.sn AND m.at = history.at AND m.actor = history.actor
        AND m.field = 'registration.merchant_no' AND m.old <> '');
UPDATE history SET merchant_no = COALESCE(
    (SELECT m.new FROM history m WHERE m.sn = history.sn AND m.at <= history.at AND m.field = 'registration.merchant_no'
        ORDER BY m.at DESC, m.id DESC LIMIT 1),
    (SELECT CASE WHEN instr(c.new, ' ') > 0 THEN substr(c.new, 1, instr(c.new, ' ') - 1) ELSE c.new END
        FROM history c WHERE c.sn = history.sn AND c.at <= history.at AND c.field = 'registration' ORDER BY c.id LIMIT 1),
    '')
WHERE merchant_no = '';
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
