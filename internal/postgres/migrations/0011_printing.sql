-- printers are the label printers posid sends jobs to: ZPL over raw TCP
-- or IPP (PDF).
CREATE TABLE printers (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('zpl', 'ipp')),
    address    TEXT NOT NULL,
    dpi        INTEGER NOT NULL CHECK (dpi IN (203, 300, 600)),
    size       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
);

-- print_jobs records every job sent to a printer, taken or failed. The
-- printer is kept by name: removing a printer keeps its jobs.
CREATE TABLE print_jobs (
    id             BIGSERIAL PRIMARY KEY,
    at             TIMESTAMPTZ NOT NULL,
    actor          TEXT NOT NULL,
    printer        TEXT NOT NULL,
    format         TEXT NOT NULL,
    size           TEXT NOT NULL,
    dpi            INTEGER NOT NULL,
    target         TEXT NOT NULL,
    sns            TEXT NOT NULL,
    bytes          BIGINT NOT NULL,
    reprints       INTEGER NOT NULL,
    ok             BOOLEAN NOT NULL,
    error          TEXT NOT NULL DEFAULT '',
    printer_job_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX print_jobs_printer ON print_jobs (printer, id);

-- label_issues holds every SN that has had a label issued (rendered or
-- printed): a later label of it is a reprint.
CREATE TABLE label_issues (
    sn       TEXT PRIMARY KEY,
    first_at TIMESTAMPTZ NOT NULL,
    last_at  TIMESTAMPTZ NOT NULL,
    issues   INTEGER NOT NULL
);
