-- People who sign in (internal/users): accounts with argon2id password
-- hashes and sealed TOTP secrets, their recovery codes (hashed) and
-- sessions (the SHA-256 of the cookie's token, never the token). API keys
-- created by a signed-in admin point at that user (api_key_users); a
-- disabled user's keys stop working.
CREATE TABLE users (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('merchant','warehouse','supplier','reviewer','admin')),
    merchant_no      TEXT NOT NULL DEFAULT '',
    supplier_code    TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL DEFAULT '',
    disabled         INTEGER NOT NULL DEFAULT 0,
    password_hash    TEXT NOT NULL,
    -- totp_enc and totp_pending_enc are sealed with the account
    -- encryption key (internal/secret), bound to the user id.
    totp_enc         BLOB,
    totp_pending_enc BLOB,
    -- totp_last_step is the last TOTP time step used: a code is never
    -- accepted twice.
    totp_last_step   INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

CREATE TABLE user_recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id),
    hash    BLOB NOT NULL,
    PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;

CREATE TABLE sessions (
    id_hash      BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

-- api_key_users ties an API key to the user who made it (keys made by
-- the CLI or another key have no row). It refers to no api_keys row by a
-- foreign key, so that api_keys can be rebuilt by later migrations.
CREATE TABLE api_key_users (
    key_id  TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id)
);
CREATE INDEX api_key_users_user ON api_key_users (user_id);
