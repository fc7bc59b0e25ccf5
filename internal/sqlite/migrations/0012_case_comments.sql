-- Reviewers' comments on risk cases, oldest first by id.
CREATE TABLE risk_case_comments (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES risk_cases (id),
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL DEFAULT '',
    text    TEXT NOT NULL
);
CREATE INDEX risk_case_comments_case ON risk_case_comments (case_id, id);
