-- meta holds facts about the database itself. key_check is the account
-- encryption key's check value (secret.Box.KeyCheck): a database refuses
-- to open with any other key. (Version 5 exists on SQLite only: PostgreSQL
-- needed no change to refuse INSERT ... ON CONFLICT rewrites of history
-- and audit, whose UPDATE and DELETE row triggers fire for them.)
CREATE TABLE meta (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);
