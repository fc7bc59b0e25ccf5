package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"posid/internal/registry"
)

// Import implements registry.Tx: every record is written in the
// transaction, or — if any record fails — none is, and the failures come
// back as one *registry.ImportError.
func (t txStore) Import(ctx context.Context, actor string, recs []registry.Record, mode registry.ImportMode, check registry.ImportCheck) (registry.ImportSummary, error) {
	s := t.s
	sum := registry.ImportSummary{Rows: len(recs)}
	err := func() error {
		q := newStmtCache(t.tx)
		defer q.close()
		var bad registry.ImportError
		for i := range recs {
			if i%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			rec := &recs[i]
			if err := rec.Device.ValidateAll(); err != nil {
				bad.AddRecord(*rec, err)
				continue
			}
			created, changed, err := s.importOne(ctx, q, actor, *rec, mode, check)
			switch {
			case errors.Is(err, registry.ErrExists), errors.Is(err, registry.ErrInvalid), errors.Is(err, registry.ErrTransition):
				bad.AddRecord(*rec, err)
			case err != nil:
				return err
			case created:
				sum.Created++
			case changed:
				sum.Updated++
			default:
				sum.Unchanged++
			}
		}
		return bad.Err()
	}()
	if err != nil {
		return registry.ImportSummary{}, err
	}
	return sum, nil
}

// importOne creates rec's device, or in upsert mode updates the stored
// device to match it.
func (s deviceStore) importOne(ctx context.Context, q querier, actor string, rec registry.Record, mode registry.ImportMode, check registry.ImportCheck) (created, changed bool, err error) {
	dev := rec.Device
	insert := func() (bool, bool, error) {
		if check != nil {
			if err := check(nil, dev); err != nil {
				return false, false, fmt.Errorf("line %d: %w", rec.Line, err)
			}
		}
		return true, true, s.insert(ctx, q, actor, &dev)
	}
	if mode == registry.ImportCreate {
		return insert()
	}
	old, err := s.get(ctx, q, dev.SN, registry.ReadOptions{RevealAccount: true})
	if errors.Is(err, registry.ErrNotFound) {
		return insert()
	}
	if err != nil {
		return false, false, err
	}
	if old.Registration != nil {
		old.Registration.AccountRevealed = false
	}
	if dev, err = rec.Upsert(old); err != nil {
		return false, false, err
	}
	if len(registry.Diff(old, dev)) == 0 {
		return false, false, nil
	}
	if check != nil {
		if err := check(&old, dev); err != nil {
			return false, false, fmt.Errorf("line %d: %w", rec.Line, err)
		}
	}
	return false, true, s.write(ctx, q, actor, old, dev)
}

// stmtCache is a querier over a transaction that prepares each distinct
// query once, which makes bulk imports several times faster.
type stmtCache struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newStmtCache(tx *sql.Tx) *stmtCache { return &stmtCache{tx: tx, stmts: map[string]*sql.Stmt{}} }

func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return c.tx.QueryRowContext(ctx, query, args...) // reports the same error on Scan
	}
	return st.QueryRowContext(ctx, args...)
}

func (c *stmtCache) close() {
	for _, st := range c.stmts {
		st.Close()
	}
}
