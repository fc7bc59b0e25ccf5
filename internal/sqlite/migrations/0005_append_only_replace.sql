-- INSERT OR REPLACE (and REPLACE INTO) with an existing id deletes the old
-- row without firing a DELETE trigger (recursive_triggers is off), which
-- rewrote history and audit rows. An insert may not name an id already
-- taken, and ids below 1 are refused (a row may not take the -1 a BEFORE
-- trigger sees for an id not yet assigned).
CREATE TRIGGER history_no_replace BEFORE INSERT ON history
WHEN EXISTS (SELECT 1 FROM history WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_positive_id AFTER INSERT ON history
WHEN NEW.id < 1
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;

CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER audit_positive_id AFTER INSERT ON audit
WHEN NEW.id < 1
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
