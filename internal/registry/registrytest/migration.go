package registrytest

import (
	"errors"
	"testing"

	"posid/internal/registry"
	"posid/internal/secret"
)

// LegacyMasks are account masks as version 3 wrote them, and what the
// account mask migration turns them into.
var LegacyMasks = []struct{ Old, Want string }{
	{"6222 **** **** 1234", "**** 1234"},      // 13–16 digits
	{"6222 **** **** **** 1234", "**** 1234"}, // 17–20 digits
	{"1234 **** 6789", "**** 789"},            // 9–12 digits: 9 may show only 3
	{"****5678", "**** 78"},                   // 8 digits
	{"", ""},                                  // account added or removed
}

// CheckMaskMigration checks s after the account mask migration of a
// version 3 database that held Device("PAX0001") with the registration
// mask "6222 **** **** 1234", a "registration.account" history row of each
// LegacyMasks entry (Old as its old and new value) after the device's own
// rows, and a "registration.merchant_name" row whose old value is
// "1234 **** 6789".
func CheckMaskMigration(t *testing.T, s registry.Store) {
	t.Helper()
	ctx := t.Context()
	d, err := s.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	if err != nil || d.Registration.Account != "**** 1234" {
		t.Fatalf("registration mask after migration: %+v, %v", d.Registration, err)
	}
	hist, err := s.History(ctx, "PAX0001")
	if err != nil {
		t.Fatal(err)
	}
	var accounts []registry.Change
	for _, c := range hist {
		switch c.Field {
		case "registration.account":
			accounts = append(accounts, c)
		case "registration.merchant_name":
			if c.Old != "1234 **** 6789" {
				t.Errorf("merchant name history rewritten: %q", c.Old)
			}
		}
	}
	if len(accounts) != len(LegacyMasks) {
		t.Fatalf("%d account history rows, want %d", len(accounts), len(LegacyMasks))
	}
	for i, m := range LegacyMasks {
		if accounts[i].Old != m.Want || accounts[i].New != m.Want {
			t.Errorf("history mask %q → %q/%q, want %q", m.Old, accounts[i].Old, accounts[i].New, m.Want)
		}
	}
}

// KeyDatabases makes and opens the databases KeyCheck binds keys to.
type KeyDatabases struct {
	// New returns the address (path, URL) of a new, empty database.
	New func(t *testing.T) string
	// Open opens the database at addr with box and closes it again.
	Open func(addr string, box *secret.Box) error
	// OpenV3 makes the database at addr at schema version 3, from before
	// key checks, with Device("PAX0001") and its account sealed with box.
	OpenV3 func(addr string, box *secret.Box) error
}

// KeyCheck checks that a database binds the account key it is first
// opened with (boxA) and refuses another (boxB), also when it comes from a
// version without key checks and its accounts tell the key.
func KeyCheck(t *testing.T, dbs KeyDatabases, boxA, boxB *secret.Box) {
	t.Run("new database binds its first key", func(t *testing.T) {
		addr := dbs.New(t)
		if err := dbs.Open(addr, boxA); err != nil {
			t.Fatal(err)
		}
		if err := dbs.Open(addr, boxB); !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("other key on a database without accounts: %v", err)
		}
		if err := dbs.Open(addr, boxA); err != nil {
			t.Fatalf("own key: %v", err)
		}
	})

	t.Run("database from before key checks", func(t *testing.T) {
		addr := dbs.New(t)
		if err := dbs.OpenV3(addr, boxA); err != nil {
			t.Fatal(err)
		}
		if err := dbs.Open(addr, boxB); !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("other key on accounts sealed with A: %v", err)
		}
		if err := dbs.Open(addr, boxA); err != nil {
			t.Fatalf("own key: %v", err)
		}
		if err := dbs.Open(addr, boxB); !errors.Is(err, secret.ErrWrongKey) {
			t.Fatalf("other key after the check was stored: %v", err)
		}
	})
}
