package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posid/internal/users"
)

// maxPrunedFailures bounds the forgotten sign-in failure rows one Fail
// deletes, so that pruning is a small, bounded part of each failure.
const maxPrunedFailures = 100

var _ users.FailureStore = userStore{}

// Locked implements users.FailureStore.
func (s userStore) Locked(ctx context.Context, subject string, now time.Time) (time.Duration, error) {
	var until string
	err := s.db.sql.QueryRowContext(ctx, `SELECT locked_until FROM sign_in_failures WHERE subject = ?`, subject).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read sign-in failures: %w", err)
	}
	return users.Failures{Until: parseTime(until)}.Locked(now), nil
}

// Fail implements users.FailureStore in one immediate transaction: a
// second writer, in this process or another, waits for it, so no failure
// is lost. It also deletes up to maxPrunedFailures rows forgotten
// (users.ForgetAfter) by now.
func (s userStore) Fail(ctx context.Context, subject string, threshold int, now time.Time) (time.Duration, error) {
	var lock time.Duration
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		var (
			f           users.Failures
			last, until string
		)
		err := tx.QueryRowContext(ctx, `SELECT count, last_failure, locked_until FROM sign_in_failures WHERE subject = ?`, subject).Scan(&f.Count, &last, &until)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read sign-in failures: %w", err)
		}
		f.Last, f.Until = parseTime(last), parseTime(until)
		f, lock = f.Fail(now, threshold)
		if _, err := tx.ExecContext(ctx, `INSERT INTO sign_in_failures (subject, count, last_failure, locked_until) VALUES (?, ?, ?, ?)
			ON CONFLICT (subject) DO UPDATE SET count = excluded.count, last_failure = excluded.last_failure, locked_until = excluded.locked_until`,
			subject, f.Count, fmtTime(f.Last), fmtTime(f.Until)); err != nil {
			return fmt.Errorf("count sign-in failure: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE subject IN
			(SELECT subject FROM sign_in_failures WHERE last_failure < ? ORDER BY last_failure LIMIT ?)`,
			fmtTime(now.Add(-users.ForgetAfter)), maxPrunedFailures); err != nil {
			return fmt.Errorf("prune sign-in failures: %w", err)
		}
		return nil
	})
	return lock, err
}

// Succeed implements users.FailureStore.
func (s userStore) Succeed(ctx context.Context, subject string) error {
	if _, err := s.db.sql.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE subject = ?`, subject); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}
