-- Settlement account masks show at most the last four digits, and never
-- more than a third of them (registry.MaskAccount). Masks written before
-- showed the first four and last four digits; this rewrites them from what
-- they kept: "****5678" (8 digits) keeps 2; one hidden group (9–12 digits)
-- keeps 3, the most a 9-digit account may show; more groups keep 4.
-- history is append-only: its update trigger is dropped and created again
-- inside this migration's transaction, so no other connection ever sees
-- the table without it, and only account masks are rewritten.
UPDATE registrations SET account_mask = CASE
    WHEN account_mask = '' THEN ''
    WHEN instr(account_mask, ' ') = 0 THEN '**** ' || substr(account_mask, -(length(account_mask) / 3))
    WHEN length(account_mask) - length(replace(account_mask, '*', '')) <= 4 THEN '**** ' || substr(account_mask, -3)
    ELSE '**** ' || substr(account_mask, -4) END;

DROP TRIGGER history_no_update;
UPDATE history SET
    old = CASE
        WHEN old = '' THEN ''
        WHEN instr(old, ' ') = 0 THEN '**** ' || substr(old, -(length(old) / 3))
        WHEN length(old) - length(replace(old, '*', '')) <= 4 THEN '**** ' || substr(old, -3)
        ELSE '**** ' || substr(old, -4) END,
    new = CASE
        WHEN new = '' THEN ''
        WHEN instr(new, ' ') = 0 THEN '**** ' || substr(new, -(length(new) / 3))
        WHEN length(new) - length(replace(new, '*', '')) <= 4 THEN '**** ' || substr(new, -3)
        ELSE '**** ' || substr(new, -4) END
WHERE field = 'registration.account';
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
