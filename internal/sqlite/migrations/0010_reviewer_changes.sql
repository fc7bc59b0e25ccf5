-- The reviewer role, and merchants' change requests.
--
-- api_keys gains the role 'reviewer'. SQLite cannot change a CHECK
-- constraint in place: the table is copied into one with the new check
-- (no index, trigger or view refers to it).
CREATE TABLE api_keys_new (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('merchant','warehouse','supplier','reviewer','admin')),
    merchant_no   TEXT NOT NULL DEFAULT '',
    supplier_code TEXT NOT NULL DEFAULT '',
    hash          BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    revoked_at    TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
INSERT INTO api_keys_new (id, name, role, merchant_no, supplier_code, hash, created_at, revoked_at)
    SELECT id, name, role, merchant_no, supplier_code, hash, created_at, revoked_at FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;

-- change_requests: a merchant asks to change one registration field of
-- one of its devices; a reviewer approves or rejects, the merchant may
-- withdraw. old_value and new_value hold what the merchant and reviewers
-- see (for the settlement account its mask); old_enc and new_enc hold a
-- settlement account in full, encrypted like registrations.account_enc.
-- The address columns hold a bank branch's address (field 'branch').
CREATE TABLE change_requests (
    id          INTEGER PRIMARY KEY,
    sn          TEXT NOT NULL,
    merchant_no TEXT NOT NULL,
    actor       TEXT NOT NULL,
    field       TEXT NOT NULL CHECK (field IN ('merchant_name','terminal_id','access','branch','account')),
    old_value   TEXT NOT NULL DEFAULT '',
    old_address TEXT NOT NULL DEFAULT '',
    old_enc     BLOB,
    new_value   TEXT NOT NULL DEFAULT '',
    new_address TEXT NOT NULL DEFAULT '',
    new_enc     BLOB,
    reason      TEXT NOT NULL,
    photo_type  TEXT NOT NULL DEFAULT '',
    photo_size  INTEGER NOT NULL DEFAULT 0,
    photo       BLOB,
    state       TEXT NOT NULL CHECK (state IN ('pending','approved','rejected','withdrawn')),
    filed_at    TEXT NOT NULL,
    decided_at  TEXT NOT NULL DEFAULT '',
    decided_by  TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_requests_sn ON change_requests (sn, state);
CREATE INDEX change_requests_merchant ON change_requests (merchant_no, id);
CREATE INDEX change_requests_state ON change_requests (state, id);
