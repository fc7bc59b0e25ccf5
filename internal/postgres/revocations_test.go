package postgres

import (
	"context"
	"testing"
	"time"

	"posid/internal/auth"
	"posid/labels"
)

// TestRevocationSignal revokes keys through one handle on the database
// and checks that a watch on another hears of each: by NOTIFY, and by the
// counter after its connection was cut while a revocation happened.
func TestRevocationSignal(t *testing.T) {
	a, u := openTest(t)
	b, err := Open(context.Background(), u, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	heard := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Revocations().Watch(ctx, func() { heard <- struct{}{} })
	}()
	defer func() { cancel(); <-done }()

	// revoke revokes a fresh key and reports whether the watch heard of it
	// within wait.
	revoke := func(wait time.Duration) bool {
		k, _, err := auth.Create(ctx, a.Keys(), auth.Key{Name: "till", Role: auth.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Keys().RevokeKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case <-heard:
			return true
		case <-time.After(wait):
			return false
		}
	}
	// Until the listener is up a revocation may go unheard.
	for i := 0; !revoke(200 * time.Millisecond); i++ {
		if i == 50 {
			t.Fatal("the watch never heard of a revocation")
		}
	}
	if !revoke(10 * time.Second) {
		t.Fatal("API key revocation not heard")
	}
	if err := a.LabelKeyStatus().RecordKeyStatus(ctx, labels.KeyStatusChange{ID: 2, Status: labels.KeyRevoked, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-heard:
	case <-time.After(10 * time.Second):
		t.Fatal("label key revocation not heard")
	}

	// Cut the listener's connection and revoke before it is back.
	if _, err := a.pool.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`, listenerName); err != nil {
		t.Fatal(err)
	}
	if !revoke(10 * time.Second) {
		t.Fatal("revocation while the listener reconnected not heard")
	}
}

// TestRevocationBeforeListening revokes a key after a server could have
// cached it but before its watch is listening: the watch's first
// connection still reports a change, so the caches are cleared instead of
// serving the revoked key until they expire.
func TestRevocationBeforeListening(t *testing.T) {
	a, u := openTest(t)
	b, err := Open(context.Background(), u, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	k, _, err := auth.Create(ctx, a.Keys(), auth.Key{Name: "till", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Keys().RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	heard := make(chan struct{}, 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Revocations().Watch(ctx, func() { heard <- struct{}{} })
	}()
	defer func() { cancel(); <-done }()
	select {
	case <-heard:
	case <-time.After(10 * time.Second):
		t.Fatal("a revocation made before the watch connected was never reported")
	}
}
