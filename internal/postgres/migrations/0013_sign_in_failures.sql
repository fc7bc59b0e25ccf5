-- Failed sign-ins per subject, as in
-- internal/sqlite/migrations/0013_sign_in_failures.sql.
CREATE TABLE sign_in_failures (
    subject      TEXT COLLATE "C" PRIMARY KEY,
    count        INTEGER NOT NULL CHECK (count > 0),
    last_failure TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);
CREATE INDEX sign_in_failures_last ON sign_in_failures (last_failure);
