-- People who sign in, as in internal/sqlite/migrations/0009_users.sql.
CREATE TABLE users (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             TEXT COLLATE "C" NOT NULL UNIQUE,
    role             TEXT NOT NULL CHECK (role IN ('merchant','warehouse','supplier','reviewer','admin')),
    merchant_no      TEXT NOT NULL DEFAULT '',
    supplier_code    TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',
    email            TEXT NOT NULL DEFAULT '',
    disabled         BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash    TEXT NOT NULL,
    totp_enc         BYTEA,
    totp_pending_enc BYTEA,
    totp_last_step   BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE user_recovery_codes (
    user_id BIGINT NOT NULL REFERENCES users (id),
    hash    BYTEA NOT NULL,
    PRIMARY KEY (user_id, hash)
);

CREATE TABLE sessions (
    id_hash      BYTEA PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

ALTER TABLE api_keys ADD COLUMN user_id BIGINT REFERENCES users (id);
