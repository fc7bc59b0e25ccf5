-- Settlement account masks show at most the last four digits, and never
-- more than a third of them, as in internal/sqlite/migrations/0004_account_masks.sql:
-- "****5678" (8 digits) keeps 2; one hidden group (9–12 digits) keeps 3;
-- more groups keep 4. history is append-only: its row trigger is disabled
-- and enabled again inside this migration's transaction (ALTER TABLE holds
-- an exclusive lock on history until commit, so no other session writes or
-- sees it meanwhile), and only account masks are rewritten.
CREATE FUNCTION pg_temp.remask(m TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN m = '' THEN ''
        WHEN position(' ' IN m) = 0 THEN '**** ' || right(m, length(m) / 3)
        WHEN length(m) - length(replace(m, '*', '')) <= 4 THEN '**** ' || right(m, 3)
        ELSE '**** ' || right(m, 4) END
$$;

UPDATE registrations SET account_mask = pg_temp.remask(account_mask) WHERE account_mask <> '';

ALTER TABLE history DISABLE TRIGGER history_no_update;
UPDATE history SET old = pg_temp.remask(old), new = pg_temp.remask(new) WHERE field = 'registration.account';
ALTER TABLE history ENABLE TRIGGER history_no_update;

DROP FUNCTION pg_temp.remask(TEXT);
