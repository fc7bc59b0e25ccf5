package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
	"posid/internal/risk"
)

// AddComment implements risk.Store. The case row is locked while its
// comments are counted, so concurrent comments never pass max.
func (s riskStore) AddComment(ctx context.Context, c risk.Comment, max int, log func(risk.Comment) []audit.Entry) (risk.Comment, error) {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM risk_cases WHERE id = $1 FOR UPDATE`, c.CaseID).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return risk.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("read case: %w", err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM risk_case_comments WHERE case_id = $1`, c.CaseID).Scan(&n); err != nil {
			return fmt.Errorf("count comments: %w", err)
		}
		if n >= max {
			return fmt.Errorf("%w: the case has %d comments, the most it takes", risk.ErrConflict, n)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO risk_case_comments (case_id, at, actor, text) VALUES ($1, $2, $3, $4) RETURNING id, at`,
			c.CaseID, c.At, c.Actor, c.Text).Scan(&c.ID, &c.At); err != nil {
			return err
		}
		if log == nil {
			return nil
		}
		return s.db.appendAudit(ctx, tx, log(c))
	})
	if err != nil {
		return risk.Comment{}, err
	}
	c.At = c.At.UTC()
	return c, nil
}

// comments returns the comments of case id, oldest first.
func (s riskStore) comments(ctx context.Context, id int64) ([]risk.Comment, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT id, case_id, at, actor, text FROM risk_case_comments WHERE case_id = $1 ORDER BY id LIMIT $2`,
		id, risk.MaxCommentsPerCase)
	if err != nil {
		return nil, fmt.Errorf("case %d comments: %w", id, mapErr(err))
	}
	defer rows.Close()
	var out []risk.Comment
	for rows.Next() {
		var c risk.Comment
		if err := rows.Scan(&c.ID, &c.CaseID, &c.At, &c.Actor, &c.Text); err != nil {
			return nil, err
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeviceEvents implements risk.Store.
func (s riskStore) DeviceEvents(ctx context.Context, sn string, limit int) ([]risk.Event, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+eventColumns+` FROM risk_events e WHERE e.sn = $1 ORDER BY e.at DESC, e.id DESC LIMIT $2`, sn, limit)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", sn, mapErr(err))
	}
	defer rows.Close()
	var out []risk.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
