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

-- api_key_users ties an API key to the user who made it (keys made by
-- the CLI or another key have no row). It refers to no api_keys row by a
-- foreign key, so that api_keys can be rebuilt by later migrations.
CREATE TABLE api_key_users (
    key_id  TEXT COLLATE "C" PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id)
);
CREATE INDEX api_key_users_user ON api_key_users (user_id);
