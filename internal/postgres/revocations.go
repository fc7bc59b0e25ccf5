package postgres

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/labels"
)

// revocationChannel is the NOTIFY channel a revocation is announced on.
const revocationChannel = "posid_revocations"

// listenerName is the application_name of the listening connection.
const listenerName = "posid-revocations"

// listenRetry is how long the listener waits before it reconnects after
// losing its connection.
const listenRetry = 250 * time.Millisecond

// Revocations returns d's revocation signal: LISTEN on a dedicated
// connection (outside the pool), with the meta counter compared after
// every reconnect so that a revocation made while it was away is not missed.
func (d *DB) Revocations() auth.Revocations { return revocations{d} }

// BumpRevocations moves and announces the revocation counter, for
// revocations kept outside the database (label signing keys).
func (d *DB) BumpRevocations(ctx context.Context) error {
	return d.inTx(ctx, func(tx pgx.Tx) error { return bumpRevocations(ctx, tx) })
}

// revocations implements auth.Revocations with LISTEN/NOTIFY.
type revocations struct{ db *DB }

// Watch implements auth.Revocations.
func (r revocations) Watch(ctx context.Context, changed func()) error {
	last := int64(-1)
	for {
		err := r.listen(ctx, &last, changed)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		_ = err // the connection dropped; reconnect and compare the counter
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(listenRetry):
		}
	}
}

// listen connects, listens and calls changed for each notification until
// the connection fails or ctx ends. After connecting it reads the counter
// and calls changed if it moved since *last (a revocation missed while
// disconnected) or if this is the first connection.
func (r revocations) listen(ctx context.Context, last *int64, changed func()) error {
	cfg := r.db.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = listenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+revocationChannel); err != nil {
		return err
	}
	var v string
	if err := conn.QueryRow(ctx, `SELECT value FROM meta WHERE name = 'revocations'`).Scan(&v); err != nil {
		return fmt.Errorf("revocation counter: %w", err)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	// The first connection calls changed too: a server fills its caches
	// before its listener is up, and a revocation made in between would
	// otherwise be missed until the caches expire.
	if *last < 0 || n != *last {
		changed()
	}
	*last = n
	for {
		note, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n, err := strconv.ParseInt(note.Payload, 10, 64); err == nil {
			*last = n
		}
		changed()
	}
}

// bumpRevocations moves the counter inside tx and announces it; the
// notification is delivered when tx commits.
func bumpRevocations(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `WITH c AS (
		INSERT INTO meta (name, value) VALUES ('revocations', '1')
		ON CONFLICT (name) DO UPDATE SET value = ((meta.value)::bigint + 1)::text
		RETURNING value)
	SELECT pg_notify('`+revocationChannel+`', value) FROM c`)
	if err != nil {
		return fmt.Errorf("revocation counter: %w", err)
	}
	return nil
}

// LabelKeyStatus returns the shared log of label key retirements and
// revocations; recording one moves and announces the revocation counter.
func (d *DB) LabelKeyStatus() labels.KeyStatusLog { return labelKeyStatus{d} }

// labelKeyStatus implements labels.KeyStatusLog.
type labelKeyStatus struct{ db *DB }

// KeyStatusChanges implements labels.KeyStatusLog.
func (l labelKeyStatus) KeyStatusChanges(ctx context.Context) ([]labels.KeyStatusChange, error) {
	rows, err := l.db.pool.Query(ctx, `SELECT kid, status, changed_at FROM label_key_status ORDER BY kid`)
	if err != nil {
		return nil, fmt.Errorf("label key status: %w", err)
	}
	defer rows.Close()
	var cs []labels.KeyStatusChange
	for rows.Next() {
		var (
			kid    int32
			status string
			at     time.Time
		)
		if err := rows.Scan(&kid, &status, &at); err != nil {
			return nil, fmt.Errorf("label key status: %w", err)
		}
		cs = append(cs, labels.KeyStatusChange{ID: labels.KeyID(kid), Status: labels.KeyStatus(status), At: at.UTC()})
	}
	return cs, rows.Err()
}

// RecordKeyStatus implements labels.KeyStatusLog: a revoked key stays
// revoked, and the first change's time is kept.
func (l labelKeyStatus) RecordKeyStatus(ctx context.Context, c labels.KeyStatusChange, log ...audit.Entry) error {
	return l.db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO label_key_status (kid, status, changed_at) VALUES ($1, $2, $3)
			ON CONFLICT (kid) DO UPDATE SET status = excluded.status WHERE label_key_status.status <> 'revoked'`,
			int32(c.ID), string(c.Status), c.At)
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
	return l.db.inTx(ctx, func(tx pgx.Tx) error {
		log, err := change()
		if err != nil {
			return err
		}
		return l.db.appendAudit(ctx, tx, log)
	})
}
