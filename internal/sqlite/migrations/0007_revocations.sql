-- revocations counts key revocations (API keys and label keys): it is
-- bumped in the same transaction as each one, and every server polls it to
-- drop its cached keys when it moves.
INSERT INTO meta (name, value) VALUES ('revocations', '0') ON CONFLICT (name) DO NOTHING;
