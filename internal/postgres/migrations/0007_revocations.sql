-- revocations counts key revocations (API keys and label keys): it is
-- bumped in the same transaction as each one, together with a NOTIFY on
-- channel posid_revocations; a server whose listener reconnects compares
-- it with the value it last saw.
INSERT INTO meta (name, value) VALUES ('revocations', '0') ON CONFLICT (name) DO NOTHING;
