package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/internal/risk"
	"posid/internal/text"
)

// RiskStore returns the risk store of d.
func (d *DB) RiskStore() risk.Store { return riskStore{d} }

// riskStore implements risk.Store.
type riskStore struct{ db *DB }

const eventColumns = `e.id, e.at, e.kind, e.actor, e.merchant_no, e.ip, e.sn, e.known, e.registered_merchant, e.codes, e.formats,
	e.verdict, e.seal_model, e.registry_model, e.lat, e.lon, e.app_version`

// AddEvent implements risk.Store.
func (s riskStore) AddEvent(ctx context.Context, e risk.Event) (int64, error) {
	res, err := s.db.sql.ExecContext(ctx, `INSERT INTO risk_events (at, kind, actor, merchant_no, ip, sn, known, registered_merchant, codes, formats,
		verdict, seal_model, registry_model, lat, lon, app_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		fmtTime(e.At), string(e.Kind), e.Actor, e.MerchantNo, e.IP, e.SN, e.Known, e.RegisteredMerchant, e.Codes, strings.Join(e.Formats, ","),
		e.Verdict, e.SealModel, e.RegistryModel, e.Lat, e.Lon, e.AppVersion)
	if err != nil {
		return 0, fmt.Errorf("insert event: %w", err)
	}
	return res.LastInsertId()
}

// Window implements risk.Store.
func (s riskStore) Window(ctx context.Context, q risk.WindowQuery) (risk.WindowStats, error) {
	var col, val string
	switch {
	case q.SN != "":
		col, val = "sn", q.SN
	case q.Actor != "":
		col, val = "actor", q.Actor
	case q.IP != "":
		col, val = "ip", q.IP
	default:
		return risk.WindowStats{}, fmt.Errorf("%w: window needs an SN, actor or IP", risk.ErrInvalid)
	}
	since := fmtTime(q.Since)
	var w risk.WindowStats
	err := s.db.sql.QueryRowContext(ctx, `SELECT count(*),
		count(DISTINCT NULLIF(merchant_no, '')), count(DISTINCT NULLIF(ip, '')), count(DISTINCT NULLIF(sn, ''))
		FROM risk_events WHERE `+col+` = ? AND at >= ?`, val, since).Scan(&w.Events, &w.Merchants, &w.IPs, &w.SNs)
	if err != nil {
		return w, fmt.Errorf("window %s: %w", col, err)
	}
	if q.MaxIDs <= 0 {
		return w, nil
	}
	rows, err := s.db.sql.QueryContext(ctx, `SELECT id FROM risk_events WHERE `+col+` = ? AND at >= ? ORDER BY id DESC LIMIT ?`, val, since, q.MaxIDs)
	if err != nil {
		return w, fmt.Errorf("window %s: %w", col, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return w, err
		}
		w.IDs = append(w.IDs, id)
	}
	return w, rows.Err()
}

// RaiseCase implements risk.Store.
func (s riskStore) RaiseCase(ctx context.Context, f risk.Flag, at time.Time, maxEvidence int) (risk.Case, error) {
	var id int64
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = raiseCase(ctx, tx, f, at, maxEvidence)
		return err
	})
	if err != nil {
		return risk.Case{}, err
	}
	return s.getCase(ctx, s.db.sql, id)
}

// raiseCase opens or updates the unresolved case of f's rule and subject and
// links f's events to it, returning the case ID.
func raiseCase(ctx context.Context, q querier, f risk.Flag, at time.Time, maxEvidence int) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM risk_cases WHERE rule = ? AND subject = ? AND status <> 'resolved'`, string(f.Rule), f.Subject).Scan(&id)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := q.ExecContext(ctx, `INSERT INTO risk_cases (rule, sn, subject, status, detail, hits, opened_at, updated_at)
			VALUES (?, ?, ?, 'open', ?, 1, ?, ?)`, string(f.Rule), f.SN, f.Subject, f.Detail, fmtTime(at), fmtTime(at))
		if err != nil {
			return 0, fmt.Errorf("open case: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return 0, err
		}
	case err != nil:
		return 0, fmt.Errorf("find case: %w", err)
	default:
		if _, err := q.ExecContext(ctx, `UPDATE risk_cases SET hits = hits + 1, detail = ?, updated_at = ? WHERE id = ?`, f.Detail, fmtTime(at), id); err != nil {
			return 0, fmt.Errorf("update case %d: %w", id, err)
		}
	}
	var linked int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM risk_case_events WHERE case_id = ?`, id).Scan(&linked); err != nil {
		return 0, err
	}
	for _, ev := range f.Events {
		if linked >= maxEvidence {
			break
		}
		res, err := q.ExecContext(ctx, `INSERT OR IGNORE INTO risk_case_events (case_id, event_id) VALUES (?, ?)`, id, ev)
		if err != nil {
			return 0, fmt.Errorf("link event %d to case %d: %w", ev, id, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			linked++
		}
	}
	return id, nil
}

const caseColumns = `c.id, c.rule, c.sn, c.subject, c.status, c.detail, c.hits, c.opened_at, c.updated_at,
	c.assignee, c.resolved_at, c.resolved_by, c.outcome, c.note`

func scanCase(row interface{ Scan(...any) error }) (risk.Case, error) {
	var c risk.Case
	var rule, status, outcome, opened, updated, resolved string
	err := row.Scan(&c.ID, &rule, &c.SN, &c.Subject, &status, &c.Detail, &c.Hits, &opened, &updated,
		&c.Assignee, &resolved, &c.ResolvedBy, &outcome, &c.Note)
	if err != nil {
		return c, err
	}
	c.Rule, c.Status, c.Outcome = risk.Rule(rule), risk.Status(status), risk.Outcome(outcome)
	c.Severity = c.Rule.Severity()
	c.OpenedAt, c.UpdatedAt, c.ResolvedAt = parseTime(opened), parseTime(updated), parseTime(resolved)
	return c, nil
}

// GetCase implements risk.Store.
func (s riskStore) GetCase(ctx context.Context, id int64) (risk.Case, error) {
	c, err := s.getCase(ctx, s.db.sql, id)
	if err != nil {
		return c, err
	}
	rows, err := s.db.sql.QueryContext(ctx, `SELECT `+eventColumns+` FROM risk_case_events l JOIN risk_events e ON e.id = l.event_id
		WHERE l.case_id = ? ORDER BY e.id`, id)
	if err != nil {
		return c, fmt.Errorf("case %d evidence: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return c, err
		}
		c.Evidence = append(c.Evidence, e)
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	c.Complaints, err = s.complaints(ctx, `c.case_id = ?`, id, MaxComplaintsPerCase)
	if err != nil {
		return c, err
	}
	c.Comments, err = s.comments(ctx, id)
	return c, err
}

// MaxComplaintsPerCase caps the complaints GetCase returns with a case.
const MaxComplaintsPerCase = 200

func (s riskStore) getCase(ctx context.Context, q querier, id int64) (risk.Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM risk_cases c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return c, risk.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read case: %w", err)
	}
	return c, nil
}

func scanEvent(row interface{ Scan(...any) error }) (risk.Event, error) {
	var e risk.Event
	var at, kind, formats string
	var lat, lon sql.NullFloat64
	err := row.Scan(&e.ID, &at, &kind, &e.Actor, &e.MerchantNo, &e.IP, &e.SN, &e.Known, &e.RegisteredMerchant, &e.Codes, &formats,
		&e.Verdict, &e.SealModel, &e.RegistryModel, &lat, &lon, &e.AppVersion)
	if err != nil {
		return e, err
	}
	e.At, e.Kind = parseTime(at), risk.Kind(kind)
	if formats != "" {
		e.Formats = strings.Split(formats, ",")
	}
	if lat.Valid && lon.Valid && text.Finite(lat.Float64, lon.Float64) { // rows from before NaN was refused
		e.Lat, e.Lon = &lat.Float64, &lon.Float64
	}
	return e, nil
}

// ListCases implements risk.Store.
func (s riskStore) ListCases(ctx context.Context, f risk.CaseFilter) ([]risk.Case, error) {
	where, args := []string{"1=1"}, []any{}
	if f.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, string(f.Status))
	}
	if f.Rule != "" {
		where, args = append(where, "c.rule = ?"), append(args, string(f.Rule))
	}
	if f.SN != "" {
		where, args = append(where, "c.sn = ?"), append(args, f.SN)
	}
	if f.Assignee != "" {
		where, args = append(where, "c.assignee = ?"), append(args, f.Assignee)
	}
	if f.Before > 0 {
		where, args = append(where, "c.id < ?"), append(args, f.Before)
	}
	rows, err := s.db.sql.QueryContext(ctx, `SELECT `+caseColumns+` FROM risk_cases c WHERE `+strings.Join(where, " AND ")+
		` ORDER BY c.id DESC LIMIT ?`, append(args, f.PageSize())...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	cs := []risk.Case{}
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// AssignCase implements risk.Store.
func (s riskStore) AssignCase(ctx context.Context, id int64, assignee string, at time.Time, log ...audit.Entry) (risk.Case, error) {
	return s.review(ctx, id, log, `UPDATE risk_cases SET status = 'assigned', assignee = ?, updated_at = ? WHERE id = ?`, assignee, fmtTime(at), id)
}

// ResolveCase implements risk.Store.
func (s riskStore) ResolveCase(ctx context.Context, id int64, by string, o risk.Outcome, note string, at time.Time, log ...audit.Entry) (risk.Case, error) {
	return s.review(ctx, id, log, `UPDATE risk_cases SET status = 'resolved', resolved_by = ?, outcome = ?, note = ?, resolved_at = ?, updated_at = ? WHERE id = ?`,
		by, string(o), note, fmtTime(at), fmtTime(at), id)
}

// review runs update on case id if it is not resolved, and appends log.
func (s riskStore) review(ctx context.Context, id int64, log []audit.Entry, update string, args ...any) (risk.Case, error) {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		c, err := s.getCase(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status == risk.StatusResolved {
			return fmt.Errorf("%w: already resolved", risk.ErrConflict)
		}
		if _, err = tx.ExecContext(ctx, update, args...); err != nil {
			return err
		}
		return s.db.appendAudit(ctx, tx, log)
	})
	if err != nil {
		return risk.Case{}, err
	}
	return s.getCase(ctx, s.db.sql, id)
}

// AddComplaint implements risk.Store.
func (s riskStore) AddComplaint(ctx context.Context, c risk.Complaint, photo *risk.Photo, maxEvidence int, log func(risk.Complaint) []audit.Entry) (risk.Complaint, error) {
	detail := fmt.Sprintf("%s complaint by merchant %s", c.Category, c.MerchantNo)
	var blob []byte
	if photo != nil {
		blob = photo.Data
	}
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		id, err := raiseCase(ctx, tx, risk.Flag{Rule: risk.RuleComplaint, SN: c.SN, Subject: c.SN, Detail: detail}, c.At, maxEvidence)
		if err != nil {
			return err
		}
		c.CaseID = id
		res, err := tx.ExecContext(ctx, `INSERT INTO risk_complaints (at, actor, merchant_no, sn, category, text, photo_type, photo_size, photo, case_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, fmtTime(c.At), c.Actor, c.MerchantNo, c.SN, string(c.Category), c.Text, c.PhotoType, c.PhotoSize, blob, id)
		if err != nil {
			return fmt.Errorf("insert complaint: %w", err)
		}
		if c.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if log == nil {
			return nil
		}
		return s.db.appendAudit(ctx, tx, log(c))
	})
	if err != nil {
		return risk.Complaint{}, err
	}
	cs, err := s.complaints(ctx, `c.id = ?`, c.ID, 1)
	if err != nil || len(cs) == 0 {
		return c, err
	}
	return cs[0], nil
}

// ListComplaints implements risk.Store.
func (s riskStore) ListComplaints(ctx context.Context, merchantNo string, limit int) ([]risk.Complaint, error) {
	if merchantNo == "" {
		return s.complaints(ctx, `1 = ?`, 1, limit)
	}
	return s.complaints(ctx, `c.merchant_no = ?`, merchantNo, limit)
}

func (s riskStore) complaints(ctx context.Context, where string, arg any, limit int) ([]risk.Complaint, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT c.id, c.at, c.actor, c.merchant_no, c.sn, c.category, c.text, c.photo_type, c.photo_size,
		c.case_id, k.status, k.resolved_at FROM risk_complaints c JOIN risk_cases k ON k.id = c.case_id
		WHERE `+where+` ORDER BY c.id DESC LIMIT ?`, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("complaints: %w", err)
	}
	defer rows.Close()
	out := []risk.Complaint{}
	for rows.Next() {
		var c risk.Complaint
		var at, cat, status, resolved string
		if err := rows.Scan(&c.ID, &at, &c.Actor, &c.MerchantNo, &c.SN, &cat, &c.Text, &c.PhotoType, &c.PhotoSize, &c.CaseID, &status, &resolved); err != nil {
			return nil, err
		}
		c.At, c.Category, c.Status, c.ResolvedAt = parseTime(at), risk.Category(cat), risk.Status(status), parseTime(resolved)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ComplaintPhoto implements risk.Store.
func (s riskStore) ComplaintPhoto(ctx context.Context, id int64) (risk.Photo, error) {
	var p risk.Photo
	err := s.db.sql.QueryRowContext(ctx, `SELECT photo_type, photo FROM risk_complaints WHERE id = ? AND photo IS NOT NULL`, id).Scan(&p.Type, &p.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return p, risk.ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("read photo: %w", err)
	}
	return p, nil
}

// PruneEvents implements risk.Store.
func (s riskStore) PruneEvents(ctx context.Context, before time.Time, keep int) (int64, error) {
	const unlinked = `NOT EXISTS (SELECT 1 FROM risk_case_events l WHERE l.event_id = risk_events.id)`
	var total int64
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM risk_events WHERE at < ? AND `+unlinked, fmtTime(before))
		if err != nil {
			return fmt.Errorf("prune by age: %w", err)
		}
		n, _ := res.RowsAffected()
		total += n
		if keep <= 0 {
			return nil
		}
		res, err = tx.ExecContext(ctx, `DELETE FROM risk_events WHERE id <= (SELECT id FROM risk_events ORDER BY id DESC LIMIT 1 OFFSET ?) AND `+unlinked, keep)
		if err != nil {
			return fmt.Errorf("prune by rows: %w", err)
		}
		n, _ = res.RowsAffected()
		total += n
		return nil
	})
	return total, err
}
