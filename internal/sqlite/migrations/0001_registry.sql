-- Devices, their network-access registrations, and the append-only history.
CREATE TABLE devices (
    sn            TEXT PRIMARY KEY,
    model         TEXT NOT NULL,
    manufacturer  TEXT NOT NULL,
    supplier_code TEXT NOT NULL,
    batch         TEXT NOT NULL DEFAULT '',
    produced_on   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL CHECK (status IN ('provisioned','shipped','active','suspended','retired','revoked')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX devices_status ON devices (status, sn);
CREATE INDEX devices_supplier ON devices (supplier_code, sn);
CREATE INDEX devices_batch ON devices (batch, sn);

CREATE TABLE registrations (
    sn             TEXT PRIMARY KEY REFERENCES devices (sn),
    merchant_no    TEXT NOT NULL,
    merchant_name  TEXT NOT NULL,
    terminal_id    TEXT NOT NULL,
    acquirer       TEXT NOT NULL,
    branch_name    TEXT NOT NULL DEFAULT '',
    branch_address TEXT NOT NULL DEFAULT '',
    -- account_enc is AES-256-GCM ciphertext bound to sn; account_mask is what reads show.
    account_enc    BLOB,
    account_mask   TEXT NOT NULL DEFAULT '',
    access         TEXT NOT NULL,
    registered_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX registrations_merchant ON registrations (merchant_no, sn);

CREATE TABLE history (
    id     INTEGER PRIMARY KEY,
    sn     TEXT NOT NULL,
    actor  TEXT NOT NULL,
    at     TEXT NOT NULL,
    field  TEXT NOT NULL,
    old    TEXT NOT NULL DEFAULT '',
    new    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_sn ON history (sn, id);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
