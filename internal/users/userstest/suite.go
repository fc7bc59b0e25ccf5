// Package userstest is the conformance suite every users.Store runs: the
// same behaviour on SQLite and PostgreSQL.
package userstest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/users"
)

// Env is one fresh database's stores for a test.
type Env struct {
	Users users.Store
	Keys  auth.Store
	Audit audit.Log
	// RawTOTP returns the stored (sealed) TOTP column of user id.
	RawTOTP func(id int64) []byte
	// Revocations is the database's revocation signal.
	Revocations auth.Revocations
}

// Opener returns the stores of a new, empty database.
type Opener func(t *testing.T) Env

// Run runs the suite against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, Env)
	}{
		{"CreateGet", testCreateGet},
		{"SecretsStayInStore", testSecretsStayInStore},
		{"TOTP", testTOTP},
		{"Sessions", testSessions},
		{"DisableEndsSessionsAndKeys", testDisable},
		{"ChangePasswordKeepsOneSession", testChangePassword},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// Password is the password of users made by Create.
const Password = "correct horse battery staple"

// Create stores a user named name with role and Password.
func Create(t testing.TB, st users.Store, name string, role auth.Role, scope string) users.User {
	t.Helper()
	u := users.User{Name: name, Role: role}
	switch role {
	case auth.RoleMerchant:
		u.MerchantNo = scope
	case auth.RoleSupplier:
		u.SupplierCode = scope
	}
	if err := u.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := users.HashPassword(Password)
	if err != nil {
		t.Fatal(err)
	}
	u, err = st.CreateUser(context.Background(), u, h)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func testCreateGet(t *testing.T, e Env) {
	ctx := context.Background()
	a := Create(t, e.Users, "alice", auth.RoleMerchant, "M001")
	if a.ID == 0 || a.CreatedAt.IsZero() {
		t.Fatalf("created %+v", a)
	}
	_, err := e.Users.CreateUser(ctx, users.User{Name: "alice", Role: auth.RoleAdmin}, "x",
		audit.Entry{Actor: "t", Action: "user.create", Target: "alice"})
	if !errors.Is(err, users.ErrExists) {
		t.Fatalf("second alice: %v, want ErrExists", err)
	}
	es, _, err := e.Audit.List(ctx, audit.Filter{Action: "user.create"})
	if err != nil || len(es) != 0 {
		t.Fatalf("failed create left audit rows %v (%v)", es, err)
	}
	if _, err := e.Users.CreateUser(ctx, users.User{Name: "rita", Role: users.RoleReviewer}, "x",
		audit.Entry{Actor: "t", Action: "user.create", Target: "rita"}); err != nil {
		t.Fatal(err)
	}
	if es, _, _ := e.Audit.List(ctx, audit.Filter{Action: "user.create"}); len(es) != 1 {
		t.Fatalf("create audited %d times, want once in its transaction", len(es))
	}
	got, err := e.Users.User(ctx, "alice")
	if err != nil || got.ID != a.ID || got.MerchantNo != "M001" || got.Role != auth.RoleMerchant {
		t.Fatalf("User(alice) = %+v, %v", got, err)
	}
	if _, err := e.Users.User(ctx, "nobody"); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("User(nobody): %v", err)
	}
	if _, err := e.Users.UserByID(ctx, 999999); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("UserByID(999999): %v", err)
	}
	all, err := e.Users.Users(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "alice" || all[1].Role != users.RoleReviewer {
		t.Fatalf("Users = %+v, %v", all, err)
	}
}

// testSecretsStayInStore: nothing a store returns outside Credentials
// carries the password hash or TOTP secret, and Credentials redacts them
// in JSON, fmt and slog.
func testSecretsStayInStore(t *testing.T, e Env) {
	ctx := context.Background()
	u := Create(t, e.Users, "bob", auth.RoleAdmin, "")
	en, err := users.NewTOTP(u.Name)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Users.SetTOTP(ctx, u.ID, en.Secret, nil); err != nil {
		t.Fatal(err)
	}
	c, err := e.Users.Credentials(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(c.PasswordHash)
	if !strings.HasPrefix(hash, "$argon2id$v=19$") || !users.CheckPassword(c.PasswordHash, Password) || users.CheckPassword(c.PasswordHash, Password+"x") {
		t.Fatalf("stored hash %q does not check", hash)
	}
	if string(c.TOTPSecret) != en.Secret {
		t.Fatal("TOTP secret does not round-trip")
	}
	if raw := e.RawTOTP(u.ID); len(raw) == 0 || bytes.Contains(raw, []byte(en.Secret)) {
		t.Fatalf("TOTP secret stored in the clear: %q", raw)
	}
	one, _ := e.Users.User(ctx, "bob")
	byID, _ := e.Users.UserByID(ctx, u.ID)
	all, _ := e.Users.Users(ctx)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("creds", "c", c, "hash", c.PasswordHash, "user", one)
	outs := []string{fmt.Sprintf("%v %+v %#v %s", c, c, c, c.PasswordHash), logged.String()}
	for _, v := range []any{one, byID, all, c} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, string(b))
	}
	for _, out := range outs {
		if strings.Contains(out, "argon2") || strings.Contains(out, hash[len(hash)-20:]) || strings.Contains(out, en.Secret) {
			t.Fatalf("a secret leaves the store: %s", out)
		}
	}
	if !one.TOTP {
		t.Fatal("User.TOTP not set after enrolment")
	}
}

func testTOTP(t *testing.T, e Env) {
	ctx := context.Background()
	u := Create(t, e.Users, "carol", auth.RoleAdmin, "")
	if err := e.Users.SetPendingTOTP(ctx, u.ID, "PENDINGSECRET"); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.Users.Credentials(ctx, u.ID); c.PendingTOTP != "PENDINGSECRET" || c.TOTPSecret != "" {
		t.Fatalf("pending TOTP not kept apart: %v", c.PendingTOTP == "PENDINGSECRET")
	}
	codes, hashes := users.NewRecoveryCodes()
	if err := e.Users.SetTOTP(ctx, u.ID, "REALSECRET", hashes); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.Users.Credentials(ctx, u.ID); c.PendingTOTP != "" || c.TOTPSecret != "REALSECRET" {
		t.Fatal("enrolment did not replace the pending secret")
	}
	for _, tc := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if ok, err := e.Users.UseTOTPStep(ctx, u.ID, tc.step); err != nil || ok != tc.want {
			t.Fatalf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.want)
		}
	}
	if n, _ := e.Users.RecoveryCodesLeft(ctx, u.ID); n != users.RecoveryCodes {
		t.Fatalf("%d recovery codes, want %d", n, users.RecoveryCodes)
	}
	code := strings.ToUpper(codes[3])
	if ok, err := e.Users.UseRecoveryCode(ctx, u.ID, users.HashRecoveryCode(code)); !ok || err != nil {
		t.Fatalf("recovery code refused: %v", err)
	}
	if ok, _ := e.Users.UseRecoveryCode(ctx, u.ID, users.HashRecoveryCode(code)); ok {
		t.Fatal("recovery code used twice")
	}
	if n, _ := e.Users.RecoveryCodesLeft(ctx, u.ID); n != users.RecoveryCodes-1 {
		t.Fatalf("%d recovery codes left", n)
	}
	if err := e.Users.SetTOTP(ctx, u.ID, "", nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.Users.User(ctx, "carol"); got.TOTP {
		t.Fatal("TOTP still enrolled after removal")
	}
	if n, _ := e.Users.RecoveryCodesLeft(ctx, u.ID); n != 0 {
		t.Fatalf("%d recovery codes left after TOTP removal", n)
	}
}

func testSessions(t *testing.T, e Env) {
	ctx := context.Background()
	u := Create(t, e.Users, "dave", auth.RoleWarehouse, "")
	now := time.Now().UTC().Truncate(time.Second)
	var hashes [][]byte
	for i := range 3 {
		_, h := users.NewSessionToken()
		hashes = append(hashes, h)
		at := now.Add(-time.Duration(i) * time.Hour)
		if err := e.Users.CreateSession(ctx, users.Session{Hash: h, UserID: u.ID, CreatedAt: at, LastSeen: at}); err != nil {
			t.Fatal(err)
		}
	}
	s, err := e.Users.Session(ctx, hashes[0])
	if err != nil || s.UserID != u.ID || !s.CreatedAt.Equal(now) {
		t.Fatalf("Session = %+v, %v", s, err)
	}
	if err := e.Users.TouchSession(ctx, hashes[0], now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.Users.Session(ctx, hashes[0]); !s.LastSeen.Equal(now.Add(time.Minute)) {
		t.Fatalf("touched LastSeen = %v", s.LastSeen)
	}
	if err := e.Users.PurgeSessions(ctx, now.Add(-90*time.Minute), now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Users.Session(ctx, hashes[2]); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("idle session not purged: %v", err)
	}
	if err := e.Users.EndSession(ctx, hashes[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Users.Session(ctx, hashes[0]); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("ended session still there: %v", err)
	}
	if n, err := e.Users.EndSessions(ctx, u.ID); err != nil || n != 1 {
		t.Fatalf("EndSessions = %d, %v; want 1", n, err)
	}
}

func testDisable(t *testing.T, e Env) {
	ctx := context.Background()
	u := Create(t, e.Users, "erin", auth.RoleAdmin, "")
	_, h := users.NewSessionToken()
	if err := e.Users.CreateSession(ctx, users.Session{Hash: h, UserID: u.ID, CreatedAt: time.Now(), LastSeen: time.Now()}); err != nil {
		t.Fatal(err)
	}
	k, tok, err := auth.Create(ctx, e.Keys, auth.Key{Name: "erin's key", Role: auth.RoleAdmin, UserID: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := auth.Authenticate(ctx, e.Keys, tok); err != nil || got.UserID != u.ID {
		t.Fatalf("key of an enabled user: %+v, %v", got, err)
	}
	watch, stop := context.WithCancel(ctx)
	defer stop()
	signal := make(chan struct{}, 8)
	go e.Revocations.Watch(watch, func() { signal <- struct{}{} })
	time.Sleep(300 * time.Millisecond) // the watch is listening
	if err := e.Users.SetDisabled(ctx, u.ID, true, audit.Entry{Actor: "t", Action: "user.disable", Target: u.Name}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-signal:
	case <-time.After(time.Second):
		t.Fatal("disabling a user moved no revocation signal within 1 s")
	}
	if _, err := e.Users.Session(ctx, h); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("disabled user's session survives: %v", err)
	}
	if got, _ := e.Users.User(ctx, "erin"); !got.Disabled {
		t.Fatal("not disabled")
	}
	if _, err := auth.Authenticate(ctx, e.Keys, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("key %s of a disabled user still authenticates: %v", k.ID, err)
	}
	if err := e.Users.SetDisabled(ctx, 999999, true); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("disabling no one: %v", err)
	}
}

func testChangePassword(t *testing.T, e Env) {
	ctx := context.Background()
	u := Create(t, e.Users, "fay", auth.RoleWarehouse, "")
	other := Create(t, e.Users, "gus", auth.RoleWarehouse, "")
	now := time.Now().UTC().Truncate(time.Second)
	session := func(id int64) []byte {
		_, h := users.NewSessionToken()
		if err := e.Users.CreateSession(ctx, users.Session{Hash: h, UserID: id, CreatedAt: now, LastSeen: now}); err != nil {
			t.Fatal(err)
		}
		return h
	}
	keep, end1, end2, others := session(u.ID), session(u.ID), session(u.ID), session(other.ID)
	watch, stop := context.WithCancel(ctx)
	defer stop()
	signal := make(chan struct{}, 8)
	go e.Revocations.Watch(watch, func() { signal <- struct{}{} })
	time.Sleep(300 * time.Millisecond) // the watch is listening
	const next = "a new and longer passphrase"
	h, err := users.HashPassword(next)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Users.ChangePassword(ctx, u.ID, h, keep, audit.Entry{Actor: u.Actor(), Action: audit.ActionChangePassword, Target: u.Name}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-signal:
	case <-time.After(time.Second):
		t.Fatal("changing a password moved no revocation signal within 1 s")
	}
	c, err := e.Users.Credentials(ctx, u.ID)
	if err != nil || !users.CheckPassword(c.PasswordHash, next) || users.CheckPassword(c.PasswordHash, Password) {
		t.Fatalf("the stored hash is not the new password's (%v)", err)
	}
	if _, err := e.Users.Session(ctx, keep); err != nil {
		t.Fatalf("the kept session ended: %v", err)
	}
	for _, h := range [][]byte{end1, end2} {
		if _, err := e.Users.Session(ctx, h); !errors.Is(err, users.ErrNoSession) {
			t.Fatalf("another session of the user survives: %v", err)
		}
	}
	if _, err := e.Users.Session(ctx, others); err != nil {
		t.Fatalf("another user's session ended: %v", err)
	}
	if es, _, err := e.Audit.List(ctx, audit.Filter{Action: audit.ActionChangePassword}); err != nil || len(es) != 1 || es[0].Target != "fay" {
		t.Fatalf("audit rows %+v, %v", es, err)
	}
	// Without a session to keep, every session ends.
	if err := e.Users.ChangePassword(ctx, u.ID, h, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Users.Session(ctx, keep); !errors.Is(err, users.ErrNoSession) {
		t.Fatalf("no session to keep, yet one survives: %v", err)
	}
	if err := e.Users.ChangePassword(ctx, 999999, h, nil); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("changing no one's password: %v", err)
	}
}
