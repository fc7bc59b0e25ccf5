package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/postgres"
	"posid/internal/postgres/pgtest"
	"posid/internal/registry"
	"posid/internal/secret"
	"posid/internal/service"
	"posid/internal/sqlite"
	"posid/internal/users"
)

// twoServers is one database opened twice, as by two posid servers, with
// a service on each handle sharing the clock *now.
type twoServers struct {
	a, b *service.Service
	// users are the two handles' users stores.
	users [2]users.Store
	// exec runs SQL on the database (to break it on purpose).
	exec func(t *testing.T, sql string)
	// failureRows counts the rows of sign_in_failures.
	failureRows func(t *testing.T) int
}

// onTwoServers runs fn on two servers over one SQLite file and, when
// POSID_TEST_POSTGRES names a database (or POSID_REQUIRE_TOOLS is set),
// over one PostgreSQL schema.
func onTwoServers(t *testing.T, fn func(t *testing.T, s twoServers, now *time.Time)) {
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Unix(1_800_000_000, 0).UTC()
	// Each store opens a handle on its one database: the stores the
	// service takes, and the database's SQL.
	type handle struct {
		store registry.Store
		log   audit.Log
		users users.Store
		exec  func(ctx context.Context, q string) error
		count func(ctx context.Context, q string) (int, error)
	}
	stores := []struct {
		name string
		open func(t *testing.T) func(t *testing.T) handle
	}{
		{"sqlite", func(t *testing.T) func(t *testing.T) handle {
			path := filepath.Join(t.TempDir(), "posid.db")
			return func(t *testing.T) handle {
				db, err := sqlite.Open(ctx, path, box)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return handle{db.Store(), db.Audit(), db.Users(),
					func(ctx context.Context, q string) error { _, err := db.SQL().ExecContext(ctx, q); return err },
					func(ctx context.Context, q string) (n int, err error) {
						err = db.SQL().QueryRowContext(ctx, q).Scan(&n)
						return n, err
					}}
			}
		}},
		{"postgres", func(t *testing.T) func(t *testing.T) handle {
			u, _ := pgtest.Schema(t, "svc_")
			return func(t *testing.T) handle {
				db, err := postgres.Open(ctx, u, box)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return handle{db.Store(), db.Audit(), db.Users(),
					func(ctx context.Context, q string) error { _, err := db.Pool().Exec(ctx, q); return err },
					func(ctx context.Context, q string) (n int, err error) {
						err = db.Pool().QueryRow(ctx, q).Scan(&n)
						return n, err
					}}
			}
		}},
	}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			open := st.open(t)
			now := start
			var s twoServers
			for i, svc := range []**service.Service{&s.a, &s.b} {
				h := open(t)
				*svc = service.New(h.store, h.log, service.Options{Users: h.users, Now: func() time.Time { return now }})
				s.users[i] = h.users
				if i == 0 {
					s.exec = func(t *testing.T, q string) {
						if err := h.exec(ctx, q); err != nil {
							t.Fatalf("%s: %v", q, err)
						}
					}
					s.failureRows = func(t *testing.T) int {
						n, err := h.count(ctx, `SELECT count(*) FROM sign_in_failures`)
						if err != nil {
							t.Fatal(err)
						}
						return n
					}
				}
			}
			fn(t, s, &now)
		})
	}
}

// throttlePassword is the password of the users of the throttle tests.
const throttlePassword = "a long and fine password"

// signIn signs name in on svc from ip with pw.
func signIn(svc *service.Service, ip, name, pw string) error {
	_, err := svc.SignIn(context.Background(), service.Caller{Actor: "anonymous", IP: ip}, service.SignInRequest{Name: name, Password: pw})
	return err
}

// wantLock fails unless err is a lock for d.
func wantLock(t *testing.T, what string, err error, d time.Duration) {
	t.Helper()
	var le *service.LockedError
	if !errors.As(err, &le) || le.RetryAfter != d {
		t.Fatalf("%s: %v, want a lock for %v", what, err, d)
	}
}

// TestSignInLockoutSharedByServers: two servers on one database share
// the account's failures: five wrong passwords split over them lock it on
// both, attempts while locked count on neither, the lock ends on both,
// and a success on one clears the count for both.
func TestSignInLockoutSharedByServers(t *testing.T) {
	onTwoServers(t, func(t *testing.T, s twoServers, now *time.Time) {
		ctx := context.Background()
		if _, _, err := s.a.AddUser(ctx, service.CLICaller("root", ""), users.User{Name: "tess", Role: auth.RoleWarehouse}, throttlePassword); err != nil {
			t.Fatal(err)
		}
		const ip = "192.0.2.7"
		fails := []*service.Service{s.a, s.a, s.a, s.b, s.b} // 3 + 2
		for i, svc := range fails {
			if err := signIn(svc, ip, "tess", "wrong password"); !errors.Is(err, users.ErrSignIn) {
				t.Fatalf("failure %d: %v, want ErrSignIn", i+1, err)
			}
		}
		wantLock(t, "first server after 3+2 failures", signIn(s.a, ip, "tess", throttlePassword), users.BaseLock)
		wantLock(t, "second server after 3+2 failures", signIn(s.b, ip, "tess", throttlePassword), users.BaseLock)

		// Attempts while locked, on either server, are not counted: the
		// next failure after the lock is the sixth, locking for two
		// minutes (not the fifteen ten more failures would give).
		for range 5 {
			wantLock(t, "wrong password while locked", signIn(s.a, ip, "tess", "wrong password"), users.BaseLock)
			wantLock(t, "wrong password while locked", signIn(s.b, ip, "tess", "wrong password"), users.BaseLock)
		}
		*now = now.Add(users.BaseLock)
		if err := signIn(s.b, ip, "tess", "wrong password"); !errors.Is(err, users.ErrSignIn) {
			t.Fatalf("failure after the lock: %v", err)
		}
		wantLock(t, "first server after the sixth failure", signIn(s.a, ip, "tess", throttlePassword), 2*users.BaseLock)

		// The lock ends on both; a success on one clears the count for
		// both: four more failures lock nothing, the fifth locks for one
		// minute again.
		*now = now.Add(2 * users.BaseLock)
		if err := signIn(s.a, ip, "tess", throttlePassword); err != nil {
			t.Fatalf("sign-in after the lock ended: %v", err)
		}
		for i, svc := range []*service.Service{s.b, s.b, s.a, s.b} {
			if err := signIn(svc, ip, "tess", "wrong password"); !errors.Is(err, users.ErrSignIn) {
				t.Fatalf("failure %d after a success: %v, want ErrSignIn", i+1, err)
			}
		}
		if err := signIn(s.b, ip, "tess", throttlePassword); err != nil {
			t.Fatalf("sign-in after 4 failures: %v", err)
		}
		for range users.AccountThreshold {
			signIn(s.b, ip, "tess", "wrong password")
		}
		wantLock(t, "first server after a success and 5 failures", signIn(s.a, ip, "tess", throttlePassword), users.BaseLock)

		// A name that is no login name, even one with a NUL byte, fails
		// like an unknown user on every store.
		if err := signIn(s.a, "192.0.2.8", "a\x00b", "wrong password"); !errors.Is(err, users.ErrSignIn) {
			t.Fatalf("name with a NUL: %v, want ErrSignIn", err)
		}
	})
}

// TestSignInLockIPv6Network: an IPv6 client picks addresses in its /64
// at will, so the lock per address counts the /64: AddressThreshold
// failures from as many of its addresses lock a fresh one (regression:
// each new address counted from zero), not another /64.
func TestSignInLockIPv6Network(t *testing.T) {
	onTwoServers(t, func(t *testing.T, s twoServers, now *time.Time) {
		ctx := context.Background()
		if _, _, err := s.a.AddUser(ctx, service.CLICaller("root", ""), users.User{Name: "tess", Role: auth.RoleWarehouse}, throttlePassword); err != nil {
			t.Fatal(err)
		}
		for i := range users.AddressThreshold {
			// A name per try, so that no account reaches its own lock.
			if err := signIn(s.a, fmt.Sprintf("2001:db8:9:9:%x::1", i), fmt.Sprintf("guess%d", i), "wrong password"); !errors.Is(err, users.ErrSignIn) {
				t.Fatalf("failure %d: %v, want ErrSignIn", i+1, err)
			}
		}
		wantLock(t, "a fresh address of the /64", signIn(s.b, "2001:db8:9:9:ffff::7", "tess", throttlePassword), users.BaseLock)
		if err := signIn(s.b, "2001:db8:9:a::7", "tess", throttlePassword); err != nil {
			t.Fatalf("another /64: %v", err)
		}
	})
}

// TestSignInThrottleFailsClosed: when the failure counts cannot be read
// or written, a sign-in with the right password is refused
// (ErrThrottleUnavailable), never let through unthrottled.
func TestSignInThrottleFailsClosed(t *testing.T) {
	onTwoServers(t, func(t *testing.T, s twoServers, now *time.Time) {
		ctx := context.Background()
		if _, _, err := s.a.AddUser(ctx, service.CLICaller("root", ""), users.User{Name: "tess", Role: auth.RoleWarehouse}, throttlePassword); err != nil {
			t.Fatal(err)
		}
		s.exec(t, `DROP TABLE sign_in_failures`)
		for name, err := range map[string]error{
			"right password": signIn(s.a, "192.0.2.7", "tess", throttlePassword),
			"wrong password": signIn(s.b, "192.0.2.7", "tess", "wrong password"),
		} {
			if !errors.Is(err, users.ErrThrottleUnavailable) {
				t.Errorf("%s without a throttle table: %v, want ErrThrottleUnavailable", name, err)
			}
		}
	})
}

// TestSignInFailuresCountedConcurrently: failures arriving at once on two
// servers are all counted, none lost: after N failures below the
// threshold nothing is locked, and the next one locks for BaseLock.
func TestSignInFailuresCountedConcurrently(t *testing.T) {
	onTwoServers(t, func(t *testing.T, s twoServers, now *time.Time) {
		ctx := context.Background()
		if _, _, err := s.a.AddUser(ctx, service.CLICaller("root", ""), users.User{Name: "tess", Role: auth.RoleWarehouse}, throttlePassword); err != nil {
			t.Fatal(err)
		}
		// at runs fn n times at once, alternating between the servers.
		at := func(n int, fn func(i int, svc *service.Service) error) {
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for i := range n {
				svc := []*service.Service{s.a, s.b}[i%2]
				wg.Go(func() { errs <- fn(i, svc) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if !errors.Is(err, users.ErrSignIn) {
					t.Fatalf("concurrent failure: %v, want ErrSignIn", err)
				}
			}
		}
		// One account from many addresses.
		at(users.AccountThreshold-1, func(i int, svc *service.Service) error {
			return signIn(svc, fmt.Sprintf("198.51.100.%d", i+1), "tess", "wrong password")
		})
		if err := signIn(s.a, "198.51.100.99", "tess", "wrong password"); !errors.Is(err, users.ErrSignIn) {
			t.Fatalf("failure %d: %v", users.AccountThreshold, err)
		}
		wantLock(t, "account after concurrent failures", signIn(s.b, "198.51.100.99", "tess", throttlePassword), users.BaseLock)

		// One address on many names.
		const ip = "203.0.113.5"
		at(users.AddressThreshold-1, func(i int, svc *service.Service) error {
			return signIn(svc, ip, fmt.Sprintf("nobody%d", i), "wrong password")
		})
		if err := signIn(s.b, ip, "nobody", "wrong password"); !errors.Is(err, users.ErrSignIn) {
			t.Fatalf("failure %d: %v", users.AddressThreshold, err)
		}
		wantLock(t, "address after concurrent failures", signIn(s.a, ip, "someone", "wrong password"), users.BaseLock)

		// The stores themselves: many failures of one subject at once on
		// both handles are each counted.
		const workers, each = 8, 10
		var wg sync.WaitGroup
		for w := range workers {
			fs, ok := s.users[w%2].(users.FailureStore)
			if !ok {
				t.Fatal("the users store keeps no sign-in failures")
			}
			wg.Go(func() {
				for range each {
					if _, err := fs.Fail(ctx, "ip:192.0.2.200", 1000, *now); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		fs := s.users[0].(users.FailureStore)
		if d, err := fs.Fail(ctx, "ip:192.0.2.200", workers*each+1, *now); err != nil || d != users.BaseLock {
			t.Fatalf("failure %d after %d at once: lock %v, %v; want %v (failures lost)", workers*each+1, workers*each, d, err, users.BaseLock)
		}
	})
}

// TestSignInFailuresPruned: rows whose last failure is older than
// users.ForgetAfter are deleted by later failures, at most 100 a failure,
// so the table does not grow without bound; a success deletes its row.
func TestSignInFailuresPruned(t *testing.T) {
	onTwoServers(t, func(t *testing.T, s twoServers, now *time.Time) {
		ctx := context.Background()
		fs, ok := s.users[0].(users.FailureStore)
		if !ok {
			t.Fatal("the users store keeps no sign-in failures")
		}
		fail := func(subject string) {
			t.Helper()
			if _, err := fs.Fail(ctx, subject, users.AddressThreshold, *now); err != nil {
				t.Fatal(err)
			}
		}
		const old = 150
		for i := range old {
			fail(fmt.Sprintf("ip:10.0.0.%d", i))
		}
		fail("user:kept")
		*now = now.Add(users.ForgetAfter)
		fail("user:recent")
		if n := s.failureRows(t); n != old+2 {
			t.Fatalf("%d rows ForgetAfter after %d failures, want all %d kept", n, old+1, old+2)
		}
		*now = now.Add(time.Second)
		// 151 forgotten rows and user:recent: the first failure deletes
		// 100 forgotten ones, the second the 51 left.
		for i, want := range []int{old + 1 - 100 + 1 + 1, 1 + 2} {
			fail(fmt.Sprintf("ip:192.0.2.%d", i))
			if n := s.failureRows(t); n != want {
				t.Fatalf("after prune %d: %d rows, want %d", i+1, n, want)
			}
		}
		if err := fs.Succeed(ctx, "user:recent"); err != nil {
			t.Fatal(err)
		}
		if n := s.failureRows(t); n != 2 {
			t.Fatalf("after a success: %d rows, want 2", n)
		}
	})
}
