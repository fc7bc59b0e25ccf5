package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"posid/internal/audit"
	"posid/internal/risk"
)

// AddComment implements risk.Store.
func (s riskStore) AddComment(ctx context.Context, c risk.Comment, max int, log func(risk.Comment) []audit.Entry) (risk.Comment, error) {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getCase(ctx, tx, c.CaseID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM risk_case_comments WHERE case_id = ?`, c.CaseID).Scan(&n); err != nil {
			return fmt.Errorf("count comments: %w", err)
		}
		if n >= max {
			return fmt.Errorf("%w: the case has %d comments, the most it takes", risk.ErrConflict, n)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO risk_case_comments (case_id, at, actor, text) VALUES (?, ?, ?, ?)`,
			c.CaseID, fmtTime(c.At), c.Actor, c.Text)
		if err != nil {
			return fmt.Errorf("add comment: %w", err)
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
		return risk.Comment{}, err
	}
	c.At = parseTime(fmtTime(c.At))
	return c, nil
}

// comments returns the comments of case id, oldest first.
func (s riskStore) comments(ctx context.Context, id int64) ([]risk.Comment, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT id, case_id, at, actor, text FROM risk_case_comments WHERE case_id = ? ORDER BY id LIMIT ?`,
		id, risk.MaxCommentsPerCase)
	if err != nil {
		return nil, fmt.Errorf("case %d comments: %w", id, err)
	}
	defer rows.Close()
	var out []risk.Comment
	for rows.Next() {
		var c risk.Comment
		var at string
		if err := rows.Scan(&c.ID, &c.CaseID, &at, &c.Actor, &c.Text); err != nil {
			return nil, err
		}
		c.At = parseTime(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeviceEvents implements risk.Store.
func (s riskStore) DeviceEvents(ctx context.Context, sn string, limit int) ([]risk.Event, error) {
	rows, err := s.db.sql.QueryContext(ctx, `SELECT `+eventColumns+` FROM risk_events e WHERE e.sn = ? ORDER BY e.at DESC, e.id DESC LIMIT ?`, sn, limit)
	if err != nil {
		return nil, fmt.Errorf("events of %s: %w", sn, err)
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
