-- The reviewer role, and merchants' change requests, as in
-- internal/sqlite/migrations/0010_reviewer_changes.sql.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('merchant','warehouse','supplier','reviewer','admin'));

CREATE TABLE change_requests (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sn          TEXT COLLATE "C" NOT NULL,
    merchant_no TEXT COLLATE "C" NOT NULL,
    actor       TEXT NOT NULL,
    field       TEXT NOT NULL CHECK (field IN ('merchant_name','terminal_id','access','branch','account')),
    old_value   TEXT NOT NULL DEFAULT '',
    old_address TEXT NOT NULL DEFAULT '',
    old_enc     BYTEA,
    new_value   TEXT NOT NULL DEFAULT '',
    new_address TEXT NOT NULL DEFAULT '',
    new_enc     BYTEA,
    reason      TEXT NOT NULL,
    photo_type  TEXT NOT NULL DEFAULT '',
    photo_size  INTEGER NOT NULL DEFAULT 0,
    photo       BYTEA,
    state       TEXT NOT NULL CHECK (state IN ('pending','approved','rejected','withdrawn')),
    filed_at    TIMESTAMPTZ NOT NULL,
    decided_at  TIMESTAMPTZ,
    decided_by  TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_requests_sn ON change_requests (sn, state);
CREATE INDEX change_requests_merchant ON change_requests (merchant_no, id);
CREATE INDEX change_requests_state ON change_requests (state, id);
