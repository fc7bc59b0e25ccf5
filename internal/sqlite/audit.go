package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"posid/internal/audit"
)

// Audit returns the audit log of d. The audit table refuses UPDATE and
// DELETE (triggers), so the log is append-only.
func (d *DB) Audit() audit.Log { return auditLog{d} }

// auditLog implements audit.Log.
type auditLog struct{ db *DB }

// Append implements audit.Log.
func (l auditLog) Append(ctx context.Context, entries ...audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return l.db.inTx(ctx, func(tx *sql.Tx) error { return l.db.appendAudit(ctx, tx, entries) })
}

// appendAudit writes entries in the transaction tx.
func (d *DB) appendAudit(ctx context.Context, tx *sql.Tx, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO audit (at, actor, action, target, client_ip, request_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	defer st.Close()
	now := d.now()
	for _, e := range entries {
		at := e.At
		if at.IsZero() {
			at = now
		}
		if _, err := st.ExecContext(ctx, fmtTime(at), e.Actor, e.Action, audit.Truncate(e.Target), e.ClientIP, e.RequestID, e.Detail); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// List implements audit.Log.
func (l auditLog) List(ctx context.Context, f audit.Filter) ([]audit.Entry, int64, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if c.v != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT id, at, actor, action, target, client_ip, request_id, detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	n := f.PageSize()
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", n+1)
	rows, err := l.db.sql.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	es := []audit.Entry{}
	for rows.Next() {
		var e audit.Entry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.ClientIP, &e.RequestID, &e.Detail); err != nil {
			return nil, 0, fmt.Errorf("audit: list: %w", err)
		}
		e.At = parseTime(at)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	var next int64
	if len(es) > n {
		es = es[:n]
		next = es[n-1].ID
	}
	return es, next, nil
}
