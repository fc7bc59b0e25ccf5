-- Reviewers' comments on risk cases, oldest first by id.
CREATE TABLE risk_case_comments (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES risk_cases (id),
    at      TIMESTAMPTZ NOT NULL,
    actor   TEXT NOT NULL DEFAULT '',
    text    TEXT NOT NULL
);
CREATE INDEX risk_case_comments_case ON risk_case_comments (case_id, id);
