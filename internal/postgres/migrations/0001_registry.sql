-- Devices, their network-access registrations, and the append-only history.
-- The same tables as internal/sqlite/migrations/0001_registry.sql, in
-- PostgreSQL types.
CREATE TABLE devices (
    -- COLLATE "C": byte order, the order SQLite lists in and list cursors assume.
    sn            TEXT COLLATE "C" PRIMARY KEY,
    model         TEXT NOT NULL,
    manufacturer  TEXT NOT NULL,
    supplier_code TEXT NOT NULL,
    batch         TEXT NOT NULL DEFAULT '',
    produced_on   DATE,
    status        TEXT NOT NULL CHECK (status IN ('provisioned','shipped','active','suspended','retired','revoked')),
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX devices_status ON devices (status, sn);
CREATE INDEX devices_supplier ON devices (supplier_code, sn);
CREATE INDEX devices_batch ON devices (batch, sn);

CREATE TABLE registrations (
    sn             TEXT COLLATE "C" PRIMARY KEY REFERENCES devices (sn),
    merchant_no    TEXT NOT NULL,
    merchant_name  TEXT NOT NULL,
    terminal_id    TEXT NOT NULL,
    acquirer       TEXT NOT NULL,
    branch_name    TEXT NOT NULL DEFAULT '',
    branch_address TEXT NOT NULL DEFAULT '',
    -- account_enc is AES-256-GCM ciphertext bound to sn; account_mask is what reads show.
    account_enc    BYTEA,
    account_mask   TEXT NOT NULL DEFAULT '',
    access         TEXT NOT NULL,
    registered_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX registrations_merchant ON registrations (merchant_no, sn);

CREATE TABLE history (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sn     TEXT COLLATE "C" NOT NULL,
    actor  TEXT NOT NULL,
    at     TIMESTAMPTZ NOT NULL,
    field  TEXT NOT NULL,
    old    TEXT NOT NULL DEFAULT '',
    new    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_sn ON history (sn, id);

CREATE FUNCTION history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only';
END $$;
CREATE TRIGGER history_no_update BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION history_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION history_append_only();
