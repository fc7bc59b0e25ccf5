package users

import (
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
// ForgetAfter without one. The counts live in the process: with several
// servers each keeps its own.
const (
	AccountThreshold = 5
	AddressThreshold = 20
	BaseLock         = time.Minute
	MaxLock          = 15 * time.Minute
	ForgetAfter      = 24 * time.Hour
	// maxSubjects bounds the throttle's memory; when full, entries that
	// are not locked are dropped first.
	maxSubjects = 100_000
)

// Throttle counts sign-in failures per subject. It is safe for
// concurrent use.
type Throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	subj map[string]*failures
}

type failures struct {
	n           int
	last, until time.Time
}

// NewThrottle returns a throttle on the clock now (nil: time.Now).
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{now: now, subj: map[string]*failures{}}
}

// Locked returns how long subject stays locked (0: not locked).
func (t *Throttle) Locked(subject string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.subj[subject]
	if f == nil {
		return 0
	}
	if d := f.until.Sub(t.now()); d > 0 {
		return d
	}
	return 0
}

// Fail counts a failure of subject, whose threshold is threshold, and
// returns the lock it starts (0: none).
func (t *Throttle) Fail(subject string, threshold int) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	f := t.subj[subject]
	if f == nil || now.Sub(f.last) > ForgetAfter {
		if len(t.subj) >= maxSubjects {
			t.prune(now)
		}
		f = &failures{}
		t.subj[subject] = f
	}
	f.n++
	f.last = now
	if f.n < threshold {
		return 0
	}
	d := BaseLock
	for i := threshold; i < f.n && d < MaxLock; i++ {
		d *= 2
	}
	d = min(d, MaxLock)
	f.until = now.Add(d)
	return d
}

// Succeed clears subject's failures.
func (t *Throttle) Succeed(subject string) {
	t.mu.Lock()
	delete(t.subj, subject)
	t.mu.Unlock()
}

// prune drops unlocked subjects, or everything if all are locked.
func (t *Throttle) prune(now time.Time) {
	for k, f := range t.subj {
		if !now.Before(f.until) {
			delete(t.subj, k)
		}
	}
	if len(t.subj) >= maxSubjects {
		clear(t.subj)
	}
}
