package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/users"
)

// maxPrunedFailures bounds the forgotten sign-in failure rows one Fail
// deletes, so that pruning is a small, bounded part of each failure.
const maxPrunedFailures = 100

// failuresLockClass is the first key of the transaction advisory locks
// that order the failures of one subject ("sf" in ASCII); the second is
// the subject's hash. Two-key advisory locks never meet the one-key
// migration lock.
const failuresLockClass int32 = 0x7366

var _ users.FailureStore = userStore{}

// Locked implements users.FailureStore.
func (s userStore) Locked(ctx context.Context, subject string, now time.Time) (time.Duration, error) {
	var until *time.Time
	err := s.db.pool.QueryRow(ctx, `SELECT locked_until FROM sign_in_failures WHERE subject = $1`, subject).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && until == nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read sign-in failures: %w", err)
	}
	return users.Failures{Until: *until}.Locked(now), nil
}

// Fail implements users.FailureStore in one transaction that holds an
// advisory lock on the subject, row or no row yet: servers failing the
// same subject at once take turns, and each counts on the row the one
// before wrote. It also deletes up to maxPrunedFailures rows forgotten
// (users.ForgetAfter) by now, skipping rows another failure holds.
func (s userStore) Fail(ctx context.Context, subject string, threshold int, now time.Time) (time.Duration, error) {
	var lock time.Duration
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, failuresLockClass, subject); err != nil {
			return fmt.Errorf("lock sign-in failures: %w", err)
		}
		var (
			f           users.Failures
			last, until *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT count, last_failure, locked_until FROM sign_in_failures WHERE subject = $1 FOR UPDATE`, subject).Scan(&f.Count, &last, &until)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read sign-in failures: %w", err)
		}
		if last != nil {
			f.Last = *last
		}
		if until != nil {
			f.Until = *until
		}
		f, lock = f.Fail(now, threshold)
		var lockedUntil *time.Time
		if !f.Until.IsZero() {
			lockedUntil = &f.Until
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sign_in_failures (subject, count, last_failure, locked_until) VALUES ($1, $2, $3, $4)
			ON CONFLICT (subject) DO UPDATE SET count = excluded.count, last_failure = excluded.last_failure, locked_until = excluded.locked_until`,
			subject, f.Count, f.Last, lockedUntil); err != nil {
			return fmt.Errorf("count sign-in failure: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sign_in_failures WHERE subject IN
			(SELECT subject FROM sign_in_failures WHERE last_failure < $1 ORDER BY last_failure LIMIT $2 FOR UPDATE SKIP LOCKED)`,
			now.Add(-users.ForgetAfter), maxPrunedFailures); err != nil {
			return fmt.Errorf("prune sign-in failures: %w", err)
		}
		return nil
	})
	return lock, err
}

// Succeed implements users.FailureStore.
func (s userStore) Succeed(ctx context.Context, subject string) error {
	if _, err := s.db.pool.Exec(ctx, `DELETE FROM sign_in_failures WHERE subject = $1`, subject); err != nil {
		return fmt.Errorf("clear sign-in failures: %w", err)
	}
	return nil
}
