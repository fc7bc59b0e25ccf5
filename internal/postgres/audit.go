package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
)

// Audit returns the audit log of d. The audit table refuses UPDATE, DELETE
// and TRUNCATE (triggers), so the log is append-only. Every process on the
// database appends to the same log; the audit.Batcher that buffers entries
// is per process.
func (d *DB) Audit() audit.Log { return auditLog{d} }

// auditLog implements audit.Log.
type auditLog struct{ db *DB }

// Append implements audit.Log: all entries in one transaction, one round trip.
func (l auditLog) Append(ctx context.Context, entries ...audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	return l.db.inTx(ctx, func(tx pgx.Tx) error { return l.db.appendAudit(ctx, tx, entries) })
}

// appendAudit writes entries in the transaction tx, in one round trip.
func (d *DB) appendAudit(ctx context.Context, tx pgx.Tx, entries []audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	now := d.now()
	b := &pgx.Batch{}
	for _, e := range entries {
		at := e.At
		if at.IsZero() {
			at = now
		}
		b.Queue(`INSERT INTO audit (at, actor, action, target, client_ip, request_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			at, e.Actor, e.Action, audit.Truncate(e.Target), e.ClientIP, e.RequestID, e.Detail)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("audit: %w", mapErr(err))
	}
	return nil
}

// List implements audit.Log.
func (l auditLog) List(ctx context.Context, f audit.Filter) ([]audit.Entry, int64, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	for _, c := range []struct{ col, v string }{{"actor", f.Actor}, {"action", f.Action}, {"target", f.Target}} {
		if c.v != "" {
			add(c.col+" =", c.v)
		}
	}
	if f.Before > 0 {
		add("id <", f.Before)
	}
	q := `SELECT id, at, actor, action, target, client_ip, request_id, detail FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	n := f.PageSize()
	q += fmt.Sprintf(" ORDER BY id DESC LIMIT %d", n+1)
	rows, err := l.db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	es := []audit.Entry{}
	for rows.Next() {
		var e audit.Entry
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Target, &e.ClientIP, &e.RequestID, &e.Detail); err != nil {
			return nil, 0, fmt.Errorf("audit: list: %w", err)
		}
		e.At = e.At.UTC()
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
