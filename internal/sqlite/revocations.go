package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/labels"
)

// Revocations returns d's revocation signal: a counter in the meta table
// that every revocation bumps, polled every auth.RevocationPollInterval.
func (d *DB) Revocations() auth.Revocations {
	return revocations{db: d, every: auth.RevocationPollInterval}
}

// BumpRevocations moves the revocation counter, for revocations kept
// outside the database (label signing keys): every server that watches
// d.Revocations reloads what it caches.
func (d *DB) BumpRevocations(ctx context.Context) error {
	return d.inTx(ctx, func(tx *sql.Tx) error { return bumpRevocations(ctx, tx) })
}

// revocations implements auth.Revocations by polling.
type revocations struct {
	db    *DB
	every time.Duration
}

// Watch implements auth.Revocations. A failed read counts as a change
// (the caller drops its cache, which is always safe).
func (r revocations) Watch(ctx context.Context, changed func()) error {
	last, err := r.db.revocationCount(ctx)
	if err != nil {
		return err
	}
	// Whatever was cached before the watch began may be stale already.
	changed()
	t := time.NewTicker(r.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		n, err := r.db.revocationCount(ctx)
		if err != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil || n != last {
			last = n
			changed()
		}
	}
}

// revocationCount reads the counter (one primary-key read).
func (d *DB) revocationCount(ctx context.Context) (int64, error) {
	var v string
	if err := d.sql.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'revocations'`).Scan(&v); err != nil {
		return 0, fmt.Errorf("revocation counter: %w", err)
	}
	return strconv.ParseInt(v, 10, 64)
}

// bumpRevocations moves the counter inside tx.
func bumpRevocations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('revocations', '1')
		ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`)
	if err != nil {
		return fmt.Errorf("revocation counter: %w", err)
	}
	return nil
}

// LabelKeyStatus returns the shared log of label key retirements and
// revocations; recording one moves the revocation counter.
func (d *DB) LabelKeyStatus() labels.KeyStatusLog { return labelKeyStatus{d} }

// labelKeyStatus implements labels.KeyStatusLog.
type labelKeyStatus struct{ db *DB }

// KeyStatusChanges implements labels.KeyStatusLog.
func (l labelKeyStatus) KeyStatusChanges(ctx context.Context) ([]labels.KeyStatusChange, error) {
	rows, err := l.db.sql.QueryContext(ctx, `SELECT kid, status, changed_at FROM label_key_status ORDER BY kid`)
	if err != nil {
		return nil, fmt.Errorf("label key status: %w", err)
	}
	defer rows.Close()
	var cs []labels.KeyStatusChange
	for rows.Next() {
		var (
			c          labels.KeyStatusChange
			status, at string
		)
		if err := rows.Scan(&c.ID, &status, &at); err != nil {
			return nil, fmt.Errorf("label key status: %w", err)
		}
		c.Status, c.At = labels.KeyStatus(status), parseTime(at)
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// RecordKeyStatus implements labels.KeyStatusLog: a revoked key stays
// revoked, and the first change's time is kept.
func (l labelKeyStatus) RecordKeyStatus(ctx context.Context, c labels.KeyStatusChange, log ...audit.Entry) error {
	return l.db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO label_key_status (kid, status, changed_at) VALUES (?, ?, ?)
			ON CONFLICT (kid) DO UPDATE SET status = excluded.status WHERE label_key_status.status <> 'revoked'`,
			int(c.ID), string(c.Status), fmtTime(c.At))
		if err != nil {
			return fmt.Errorf("label key %s: %w", c.ID, err)
		}
		if err := bumpRevocations(ctx, tx); err != nil {
			return err
		}
		return l.db.appendAudit(ctx, tx, log)
	})
}

// Audited implements labels.KeyStatusLog.
func (l labelKeyStatus) Audited(ctx context.Context, change func() ([]audit.Entry, error)) error {
	return l.db.inTx(ctx, func(tx *sql.Tx) error {
		log, err := change()
		if err != nil {
			return err
		}
		return l.db.appendAudit(ctx, tx, log)
	})
}
