package users

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Sign-in throttle: after Threshold failures in a row a subject (an
// account, or a client address) is locked for BaseLock; each further
// failure after a lock ends doubles it, up to MaxLock. Attempts while
// locked are refused without checking the password and are not counted, so
// a lock always ends at most MaxLock after the last counted failure: an
// attacker cannot lock an account for good, only for MaxLock at a time,
// and locks its own address as it tries. A successful sign-in clears the
// account's count (not the address's). Failures are forgotten after
// ForgetAfter without one. The counts live in the store (FailureStore)
// when it keeps them, as both SQLite and PostgreSQL do: every server on
// one database shares them, so a lock taken on one holds on all, and N
// servers give an attacker no more attempts than one. Throttle keeps them
// in the process for a store without them.
const (
	AccountThreshold = 5
	AddressThreshold = 20
	BaseLock         = time.Minute
	MaxLock          = 15 * time.Minute
	ForgetAfter      = 24 * time.Hour
	// maxSubjects bounds the in-process throttle's memory; when full,
	// entries that are not locked are dropped first.
	maxSubjects = 100_000
)

// ErrThrottleUnavailable means the sign-in failure counts could not be
// read or written: the sign-in is refused rather than let through
// unthrottled.
var ErrThrottleUnavailable = errors.New("sign-in is unavailable: the failure counts cannot be read")

// FailureStore keeps the sign-in failures of each subject. Every call is
// atomic, so that servers counting failures of one subject at once lose
// none. now is the caller's clock.
type FailureStore interface {
	// Locked returns how long subject stays locked after now (0: not locked).
	Locked(ctx context.Context, subject string, now time.Time) (time.Duration, error)
	// Fail counts a failure of subject at now, whose threshold is
	// threshold, and returns the lock it starts (0: none).
	Fail(ctx context.Context, subject string, threshold int, now time.Time) (time.Duration, error)
	// Succeed clears subject's failures.
	Succeed(ctx context.Context, subject string) error
}

// Failures is what the throttle knows of one subject: the failures
// counted, the last one, and the end of its lock.
type Failures struct {
	Count       int
	Last, Until time.Time
}

// Locked returns how long f stays locked after now (0: not locked).
func (f Failures) Locked(now time.Time) time.Duration {
	return max(f.Until.Sub(now), 0)
}

// Fail returns f after a failure at now of a subject whose threshold is
// threshold, and the lock the failure starts (0: none). A count whose
// last failure is more than ForgetAfter old starts again. This is the
// throttle's one counting rule; every FailureStore applies it.
func (f Failures) Fail(now time.Time, threshold int) (Failures, time.Duration) {
	if f.Count == 0 || now.Sub(f.Last) > ForgetAfter {
		f = Failures{}
	}
	f.Count++
	f.Last = now
	if f.Count < threshold {
		return f, 0
	}
	d := BaseLock
	for i := threshold; i < f.Count && d < MaxLock; i++ {
		d *= 2
	}
	d = min(d, MaxLock)
	f.Until = now.Add(d)
	return f, d
}

// Throttle is the FailureStore of one process, for stores that keep no
// failures. It is safe for concurrent use.
type Throttle struct {
	mu   sync.Mutex
	subj map[string]Failures
}

// NewThrottle returns an empty in-process throttle.
func NewThrottle() *Throttle {
	return &Throttle{subj: map[string]Failures{}}
}

// Locked implements FailureStore.
func (t *Throttle) Locked(_ context.Context, subject string, now time.Time) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.subj[subject].Locked(now), nil
}

// Fail implements FailureStore.
func (t *Throttle) Fail(_ context.Context, subject string, threshold int, now time.Time) (time.Duration, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.subj[subject]; !ok && len(t.subj) >= maxSubjects {
		t.prune(now)
	}
	f, d := t.subj[subject].Fail(now, threshold)
	t.subj[subject] = f
	return d, nil
}

// Succeed implements FailureStore.
func (t *Throttle) Succeed(_ context.Context, subject string) error {
	t.mu.Lock()
	delete(t.subj, subject)
	t.mu.Unlock()
	return nil
}

// prune drops unlocked subjects, or everything if all are locked.
func (t *Throttle) prune(now time.Time) {
	for k, f := range t.subj {
		if !now.Before(f.Until) {
			delete(t.subj, k)
		}
	}
	if len(t.subj) >= maxSubjects {
		clear(t.subj)
	}
}
