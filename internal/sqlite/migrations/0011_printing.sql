-- printers are the label printers posid sends jobs to: ZPL over raw TCP
-- or IPP (PDF).
CREATE TABLE printers (
    name       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('zpl', 'ipp')),
    address    TEXT NOT NULL,
    dpi        INTEGER NOT NULL CHECK (dpi IN (203, 300, 600)),
    size       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT ''
);

-- print_jobs records every job sent to a printer, taken or failed. The
-- printer is kept by name: removing a printer keeps its jobs.
CREATE TABLE print_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    printer        TEXT NOT NULL,
    format         TEXT NOT NULL,
    size           TEXT NOT NULL,
    dpi            INTEGER NOT NULL,
    target         TEXT NOT NULL,
    sns            TEXT NOT NULL,
    bytes          INTEGER NOT NULL,
    reprints       INTEGER NOT NULL,
    ok             INTEGER NOT NULL,
    error          TEXT NOT NULL DEFAULT '',
    printer_job_id INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX print_jobs_printer ON print_jobs (printer, id);

-- label_issues holds every SN that has had a label issued (rendered or
-- printed): a later label of it is a reprint.
CREATE TABLE label_issues (
    sn       TEXT PRIMARY KEY,
    first_at TEXT NOT NULL,
    last_at  TEXT NOT NULL,
    issues   INTEGER NOT NULL
);
