-- Risk monitoring: scan and lookup events, review cases with their
-- evidence, and merchants' complaints, as in internal/sqlite/migrations/0003_risk.sql.
CREATE TABLE risk_events (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at                  TIMESTAMPTZ NOT NULL,
    kind                TEXT NOT NULL,
    actor               TEXT NOT NULL DEFAULT '',
    merchant_no         TEXT NOT NULL DEFAULT '',
    ip                  TEXT NOT NULL DEFAULT '',
    sn                  TEXT NOT NULL DEFAULT '',
    known               BOOLEAN NOT NULL DEFAULT false,
    registered_merchant TEXT NOT NULL DEFAULT '',
    codes               INTEGER NOT NULL DEFAULT 0,
    formats             TEXT NOT NULL DEFAULT '',
    verdict             TEXT NOT NULL DEFAULT '',
    seal_model          TEXT NOT NULL DEFAULT '',
    registry_model      TEXT NOT NULL DEFAULT '',
    lat                 DOUBLE PRECISION,
    lon                 DOUBLE PRECISION,
    app_version         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX risk_events_sn ON risk_events (sn, at);
CREATE INDEX risk_events_actor ON risk_events (actor, at);
CREATE INDEX risk_events_ip ON risk_events (ip, at);
CREATE INDEX risk_events_at ON risk_events (at);

CREATE TABLE risk_cases (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule        TEXT NOT NULL,
    sn          TEXT NOT NULL DEFAULT '',
    subject     TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open','assigned','resolved')),
    detail      TEXT NOT NULL DEFAULT '',
    hits        INTEGER NOT NULL DEFAULT 1,
    opened_at   TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    assignee    TEXT NOT NULL DEFAULT '',
    resolved_at TIMESTAMPTZ,
    resolved_by TEXT NOT NULL DEFAULT '',
    outcome     TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT ''
);
-- At most one unresolved case per rule and subject; RaiseCase upserts on it.
CREATE UNIQUE INDEX risk_cases_open ON risk_cases (rule, subject) WHERE status <> 'resolved';
CREATE INDEX risk_cases_status ON risk_cases (status, id);
CREATE INDEX risk_cases_sn ON risk_cases (sn, id);

CREATE TABLE risk_case_events (
    case_id  BIGINT NOT NULL REFERENCES risk_cases (id),
    event_id BIGINT NOT NULL REFERENCES risk_events (id),
    PRIMARY KEY (case_id, event_id)
);
CREATE INDEX risk_case_events_event ON risk_case_events (event_id);

CREATE TABLE risk_complaints (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor       TEXT NOT NULL DEFAULT '',
    merchant_no TEXT NOT NULL DEFAULT '',
    sn          TEXT NOT NULL,
    category    TEXT NOT NULL,
    text        TEXT NOT NULL DEFAULT '',
    photo_type  TEXT NOT NULL DEFAULT '',
    photo_size  INTEGER NOT NULL DEFAULT 0,
    photo       BYTEA,
    case_id     BIGINT NOT NULL REFERENCES risk_cases (id)
);
CREATE INDEX risk_complaints_merchant ON risk_complaints (merchant_no, id);
CREATE INDEX risk_complaints_case ON risk_complaints (case_id, id);
