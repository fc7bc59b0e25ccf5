package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
	"posid/internal/risk"
	"posid/internal/text"
)

// RiskStore returns the risk store of d. Events, cases and complaints are
// shared by every process on the database, so the rules see the scans of
// all of them; the risk.Monitor in front of the store (its throttles and
// caches) is per process.
func (d *DB) RiskStore() risk.Store { return riskStore{d} }

// riskStore implements risk.Store.
type riskStore struct{ db *DB }

// maxComplaintsPerCase caps the complaints GetCase returns with a case.
const maxComplaintsPerCase = 200

const eventColumns = `e.id, e.at, e.kind, e.actor, e.merchant_no, e.ip, e.sn, e.known, e.registered_merchant, e.codes, e.formats,
	e.verdict, e.seal_model, e.registry_model, e.lat, e.lon, e.app_version`

const caseColumns = `c.id, c.rule, c.sn, c.subject, c.status, c.detail, c.hits, c.opened_at, c.updated_at,
	c.assignee, c.resolved_at, c.resolved_by, c.outcome, c.note`

// AddEvent implements risk.Store.
func (s riskStore) AddEvent(ctx context.Context, e risk.Event) (int64, error) {
	var id int64
	err := s.db.pool.QueryRow(ctx, `INSERT INTO risk_events (at, kind, actor, merchant_no, ip, sn, known, registered_merchant, codes, formats,
		verdict, seal_model, registry_model, lat, lon, app_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
		RETURNING id`,
		e.At, string(e.Kind), e.Actor, e.MerchantNo, e.IP, e.SN, e.Known, e.RegisteredMerchant, e.Codes, strings.Join(e.Formats, ","),
		e.Verdict, e.SealModel, e.RegistryModel, e.Lat, e.Lon, e.AppVersion).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert event: %w", mapErr(err))
	}
	return id, nil
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
	var w risk.WindowStats
	err := s.db.pool.QueryRow(ctx, `SELECT count(*),
		count(DISTINCT NULLIF(merchant_no, '')), count(DISTINCT NULLIF(ip, '')), count(DISTINCT NULLIF(sn, ''))
		FROM risk_events WHERE `+col+` = $1 AND at >= $2`, val, q.Since).Scan(&w.Events, &w.Merchants, &w.IPs, &w.SNs)
	if err != nil {
		return w, fmt.Errorf("window %s: %w", col, err)
	}
	if q.MaxIDs <= 0 {
		return w, nil
	}
	rows, err := s.db.pool.Query(ctx, `SELECT id FROM risk_events WHERE `+col+` = $1 AND at >= $2 ORDER BY id DESC LIMIT $3`, val, q.Since, q.MaxIDs)
	if err != nil {
		return w, fmt.Errorf("window %s: %w", col, err)
	}
	w.IDs, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return w, fmt.Errorf("window %s: %w", col, err)
	}
	return w, nil
}

// RaiseCase implements risk.Store.
func (s riskStore) RaiseCase(ctx context.Context, f risk.Flag, at time.Time, maxEvidence int) (risk.Case, error) {
	var id int64
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		id, err = raiseCase(ctx, tx, f, at, maxEvidence)
		return err
	})
	if err != nil {
		return risk.Case{}, err
	}
	return s.getCase(ctx, s.db.pool, id)
}

// raiseCase opens or updates the unresolved case of f's rule and subject and
// links f's events to it, returning the case ID. It updates the open case
// if there is one, else inserts with an upsert on the partial unique index,
// so that two processes opening the same case at once meet in one row (the
// second waits for the first and adds its hit). Trying the update first
// keeps case IDs free of the gaps a failed insert leaves in the sequence.
func raiseCase(ctx context.Context, q querier, f risk.Flag, at time.Time, maxEvidence int) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `UPDATE risk_cases SET hits = hits + 1, detail = $1, updated_at = $2
		WHERE rule = $3 AND subject = $4 AND status <> 'resolved' RETURNING id`, f.Detail, at, string(f.Rule), f.Subject).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = q.QueryRow(ctx, `INSERT INTO risk_cases (rule, sn, subject, status, detail, hits, opened_at, updated_at)
			VALUES ($1, $2, $3, 'open', $4, 1, $5, $5)
			ON CONFLICT (rule, subject) WHERE status <> 'resolved'
			DO UPDATE SET hits = risk_cases.hits + 1, detail = excluded.detail, updated_at = excluded.updated_at
			RETURNING id`, string(f.Rule), f.SN, f.Subject, f.Detail, at).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("raise case: %w", mapErr(err))
	}
	var linked int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM risk_case_events WHERE case_id = $1`, id).Scan(&linked); err != nil {
		return 0, err
	}
	for _, ev := range f.Events {
		if linked >= maxEvidence {
			break
		}
		tag, err := q.Exec(ctx, `INSERT INTO risk_case_events (case_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, ev)
		if err != nil {
			return 0, fmt.Errorf("link event %d to case %d: %w", ev, id, err)
		}
		if tag.RowsAffected() > 0 {
			linked++
		}
	}
	return id, nil
}

func scanCase(row pgx.Row) (risk.Case, error) {
	var c risk.Case
	var rule, status, outcome string
	var resolved *time.Time
	err := row.Scan(&c.ID, &rule, &c.SN, &c.Subject, &status, &c.Detail, &c.Hits, &c.OpenedAt, &c.UpdatedAt,
		&c.Assignee, &resolved, &c.ResolvedBy, &outcome, &c.Note)
	if err != nil {
		return c, err
	}
	c.Rule, c.Status, c.Outcome = risk.Rule(rule), risk.Status(status), risk.Outcome(outcome)
	c.Severity = c.Rule.Severity()
	c.OpenedAt, c.UpdatedAt = c.OpenedAt.UTC(), c.UpdatedAt.UTC()
	if resolved != nil {
		c.ResolvedAt = resolved.UTC()
	}
	return c, nil
}

// GetCase implements risk.Store.
func (s riskStore) GetCase(ctx context.Context, id int64) (risk.Case, error) {
	c, err := s.getCase(ctx, s.db.pool, id)
	if err != nil {
		return c, err
	}
	rows, err := s.db.pool.Query(ctx, `SELECT `+eventColumns+` FROM risk_case_events l JOIN risk_events e ON e.id = l.event_id
		WHERE l.case_id = $1 ORDER BY e.id`, id)
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
	c.Complaints, err = s.complaints(ctx, `c.case_id = $1`, id, maxComplaintsPerCase)
	if err != nil {
		return c, err
	}
	c.Comments, err = s.comments(ctx, id)
	return c, err
}

func (s riskStore) getCase(ctx context.Context, q querier, id int64) (risk.Case, error) {
	c, err := scanCase(q.QueryRow(ctx, `SELECT `+caseColumns+` FROM risk_cases c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, risk.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("read case: %w", err)
	}
	return c, nil
}

func scanEvent(row pgx.Row) (risk.Event, error) {
	var e risk.Event
	var kind, formats string
	err := row.Scan(&e.ID, &e.At, &kind, &e.Actor, &e.MerchantNo, &e.IP, &e.SN, &e.Known, &e.RegisteredMerchant, &e.Codes, &formats,
		&e.Verdict, &e.SealModel, &e.RegistryModel, &e.Lat, &e.Lon, &e.AppVersion)
	if err != nil {
		return e, err
	}
	e.At, e.Kind = e.At.UTC(), risk.Kind(kind)
	if formats != "" {
		e.Formats = strings.Split(formats, ",")
	}
	if e.Lat == nil || e.Lon == nil || !text.Finite(*e.Lat, *e.Lon) { // NaN: rows from before it was refused
		e.Lat, e.Lon = nil, nil
	}
	return e, nil
}

// ListCases implements risk.Store.
func (s riskStore) ListCases(ctx context.Context, f risk.CaseFilter) ([]risk.Case, error) {
	where, args := []string{"true"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if f.Status != "" {
		add("c.status =", string(f.Status))
	}
	if f.Rule != "" {
		add("c.rule =", string(f.Rule))
	}
	if f.SN != "" {
		add("c.sn =", f.SN)
	}
	if f.Assignee != "" {
		add("c.assignee =", f.Assignee)
	}
	if f.Before > 0 {
		add("c.id <", f.Before)
	}
	args = append(args, f.PageSize())
	rows, err := s.db.pool.Query(ctx, `SELECT `+caseColumns+` FROM risk_cases c WHERE `+strings.Join(where, " AND ")+
		` ORDER BY c.id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
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
	return s.review(ctx, id, log, `UPDATE risk_cases SET status = 'assigned', assignee = $1, updated_at = $2 WHERE id = $3`, assignee, at, id)
}

// ResolveCase implements risk.Store.
func (s riskStore) ResolveCase(ctx context.Context, id int64, by string, o risk.Outcome, note string, at time.Time, log ...audit.Entry) (risk.Case, error) {
	return s.review(ctx, id, log, `UPDATE risk_cases SET status = 'resolved', resolved_by = $1, outcome = $2, note = $3, resolved_at = $4, updated_at = $4 WHERE id = $5`,
		by, string(o), note, at, id)
}

// review runs update on case id if it is not resolved, and appends log;
// the case row is locked between the check and the update.
func (s riskStore) review(ctx context.Context, id int64, log []audit.Entry, update string, args ...any) (risk.Case, error) {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM risk_cases WHERE id = $1 FOR UPDATE`, id).Scan(&status)
		if errors.Is(err, pgx.ErrNoRows) {
			return risk.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read case: %w", err)
		}
		if risk.Status(status) == risk.StatusResolved {
			return fmt.Errorf("%w: already resolved", risk.ErrConflict)
		}
		if _, err = tx.Exec(ctx, update, args...); err != nil {
			return fmt.Errorf("case %d: %w", id, mapErr(err))
		}
		return s.db.appendAudit(ctx, tx, log)
	})
	if err != nil {
		return risk.Case{}, err
	}
	return s.getCase(ctx, s.db.pool, id)
}

// AddComplaint implements risk.Store.
func (s riskStore) AddComplaint(ctx context.Context, c risk.Complaint, photo *risk.Photo, maxEvidence int, log func(risk.Complaint) []audit.Entry) (risk.Complaint, error) {
	detail := fmt.Sprintf("%s complaint by merchant %s", c.Category, c.MerchantNo)
	var blob []byte
	if photo != nil {
		blob = photo.Data
	}
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		id, err := raiseCase(ctx, tx, risk.Flag{Rule: risk.RuleComplaint, SN: c.SN, Subject: c.SN, Detail: detail}, c.At, maxEvidence)
		if err != nil {
			return err
		}
		c.CaseID = id
		err = tx.QueryRow(ctx, `INSERT INTO risk_complaints (at, actor, merchant_no, sn, category, text, photo_type, photo_size, photo, case_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
			c.At, c.Actor, c.MerchantNo, c.SN, string(c.Category), c.Text, c.PhotoType, c.PhotoSize, blob, id).Scan(&c.ID)
		if err != nil {
			return fmt.Errorf("insert complaint: %w", mapErr(err))
		}
		if log == nil {
			return nil
		}
		return s.db.appendAudit(ctx, tx, log(c))
	})
	if err != nil {
		return risk.Complaint{}, err
	}
	cs, err := s.complaints(ctx, `c.id = $1`, c.ID, 1)
	if err != nil || len(cs) == 0 {
		return c, err
	}
	return cs[0], nil
}

// ListComplaints implements risk.Store.
func (s riskStore) ListComplaints(ctx context.Context, merchantNo string, limit int) ([]risk.Complaint, error) {
	if merchantNo == "" {
		return s.complaints(ctx, `$1::int = 1`, 1, limit)
	}
	return s.complaints(ctx, `c.merchant_no = $1`, merchantNo, limit)
}

// complaints lists complaints matching where (with one parameter, $1), newest first.
func (s riskStore) complaints(ctx context.Context, where string, arg any, limit int) ([]risk.Complaint, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT c.id, c.at, c.actor, c.merchant_no, c.sn, c.category, c.text, c.photo_type, c.photo_size,
		c.case_id, k.status, k.resolved_at FROM risk_complaints c JOIN risk_cases k ON k.id = c.case_id
		WHERE `+where+` ORDER BY c.id DESC LIMIT $2`, arg, limit)
	if err != nil {
		return nil, fmt.Errorf("complaints: %w", err)
	}
	defer rows.Close()
	out := []risk.Complaint{}
	for rows.Next() {
		var c risk.Complaint
		var cat, status string
		var resolved *time.Time
		if err := rows.Scan(&c.ID, &c.At, &c.Actor, &c.MerchantNo, &c.SN, &cat, &c.Text, &c.PhotoType, &c.PhotoSize, &c.CaseID, &status, &resolved); err != nil {
			return nil, err
		}
		c.At, c.Category, c.Status = c.At.UTC(), risk.Category(cat), risk.Status(status)
		if resolved != nil {
			c.ResolvedAt = resolved.UTC()
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ComplaintPhoto implements risk.Store.
func (s riskStore) ComplaintPhoto(ctx context.Context, id int64) (risk.Photo, error) {
	var p risk.Photo
	err := s.db.pool.QueryRow(ctx, `SELECT photo_type, photo FROM risk_complaints WHERE id = $1 AND photo IS NOT NULL`, id).Scan(&p.Type, &p.Data)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM risk_events WHERE at < $1 AND `+unlinked, before)
		if err != nil {
			return fmt.Errorf("prune by age: %w", err)
		}
		total += tag.RowsAffected()
		if keep <= 0 {
			return nil
		}
		tag, err = tx.Exec(ctx, `DELETE FROM risk_events WHERE id <= (SELECT id FROM risk_events ORDER BY id DESC LIMIT 1 OFFSET $1) AND `+unlinked, keep)
		if err != nil {
			return fmt.Errorf("prune by rows: %w", err)
		}
		total += tag.RowsAffected()
		return nil
	})
	return total, err
}
