-- meta holds facts about the database itself. key_check is the account
-- encryption key's check value (secret.Box.KeyCheck): a database refuses
-- to open with any other key.
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
