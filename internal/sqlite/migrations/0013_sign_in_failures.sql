-- Failed sign-ins per subject ("user:NAME" or "ip:ADDRESS"), the sign-in
-- throttle's state (internal/users): every server on the database counts
-- in the same row, so a lock taken on one holds on all. A row whose last
-- failure is older than users.ForgetAfter means nothing and is pruned.
CREATE TABLE sign_in_failures (
    subject      TEXT PRIMARY KEY,
    count        INTEGER NOT NULL CHECK (count > 0),
    last_failure TEXT NOT NULL,
    locked_until TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure);
