-- revocations counts key revocations (API keys and label keys): it is
-- bumped in the same transaction as each one, together with a NOTIFY on
-- channel posid_revocations; a server whose listener reconnects compares
-- it with the value it last saw.
INSERT INTO meta (name, value) VALUES ('revocations', '0') ON CONFLICT (name) DO NOTHING;

-- label_key_status shares label signing key retirements and revocations
-- between servers whose key directories are copies of each other.
CREATE TABLE label_key_status (
    kid        INTEGER PRIMARY KEY CHECK (kid BETWEEN 1 AND 65535),
    status     TEXT NOT NULL CHECK (status IN ('retired', 'revoked')),
    changed_at TIMESTAMPTZ NOT NULL
);
