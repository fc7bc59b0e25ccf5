package sqlite

import (
	"context"
	"testing"
	"time"

	"posid/internal/auth"
	"posid/labels"
)

// TestRevocationSignal revokes keys through one handle on the database
// file and checks that a watch on another handle hears of each kind of
// revocation: API keys and label keys.
func TestRevocationSignal(t *testing.T) {
	a, path := openTest(t)
	b, err := Open(context.Background(), path, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	heard := watch(t, b.Revocations())
	ctx := context.Background()

	k, _, err := auth.Create(ctx, a.Keys(), auth.Key{Name: "till", Role: auth.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Keys().RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	waitHeard(t, heard, "API key revocation")

	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []labels.KeyStatusChange{{ID: 3, Status: labels.KeyRevoked, At: at}, {ID: 3, Status: labels.KeyRetired, At: at.Add(time.Hour)}} {
		if err := a.LabelKeyStatus().RecordKeyStatus(ctx, c); err != nil {
			t.Fatal(err)
		}
		waitHeard(t, heard, "label key "+string(c.Status))
	}
	cs, err := b.LabelKeyStatus().KeyStatusChanges(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != 3 || cs[0].Status != labels.KeyRevoked || !cs[0].At.Equal(at) {
		t.Fatalf("label key status %+v, want k3 revoked at %v (a revoked key stays revoked)", cs, at)
	}
}

// watch runs r.Watch until the test ends and returns a channel that gets a
// value for each change it reports. It returns once the watch has read
// the counter, so later revocations are changes.
func watch(t *testing.T, r auth.Revocations) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	heard := make(chan struct{}, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Watch(ctx, func() { heard <- struct{}{} })
	}()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(2 * auth.RevocationPollInterval) // the first poll has run
	return heard
}

// waitHeard waits for one change; the generous limit only keeps a broken
// watch from hanging the test.
func waitHeard(t *testing.T, heard <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-heard:
	case <-time.After(10 * time.Second):
		t.Fatalf("no change reported after %s", what)
	}
}
