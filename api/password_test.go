package api

import (
	"context"
	"html"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/internal/users/userstest"
)

// TestChangePasswordSession walks POST /api/v1/me/password on both stores
// through a listening server: the CSRF token is required, a wrong current
// password is a failed sign-in that counts toward the account's lock, a
// weak new one is refused, an API key has no password to change, and a
// change keeps this session, ends the others and swaps the passwords.
func TestChangePasswordSession(t *testing.T) {
	const next = "a brand new passphrase"
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		ctx := context.Background()
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		u, _ := addUser(t, s.db.users, "mira", auth.RoleMerchant, "M001")
		this, other := newBrowser(t, s.base), newBrowser(t, s.base)
		mustSignIn(t, this, "mira", userstest.Password, "")
		mustSignIn(t, other, "mira", userstest.Password, "")
		change := func(b *browser, current, next, csrf, key string) reply {
			return b.call("POST", "/api/v1/me/password", PasswordChange{Current: current, New: next}, csrf, key)
		}
		isProblem := func(what string, r reply, status int, kind string) {
			t.Helper()
			if r.status != status || r.problemType() != kind || r.header.Get("Content-Type") != problemContentType {
				t.Fatalf("%s: %d %s %s, want %d %s", what, r.status, r.header.Get("Content-Type"), r.body, status, kind)
			}
		}
		stored := func() users.Secret {
			c, err := s.db.users.Credentials(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return c.PasswordHash
		}

		isProblem("no CSRF token", change(this, userstest.Password, next, "", ""), 403, "csrf")
		isProblem("another session's CSRF token", change(this, userstest.Password, next, other.csrf, ""), 403, "csrf")
		isProblem("weak new password", change(this, userstest.Password, "password123", this.csrf, ""), 422, "weak-password")
		isProblem("new password the user's name", change(this, userstest.Password, "Mira-mira-mira", this.csrf, ""), 422, "weak-password")
		isProblem("unchanged password", change(this, userstest.Password, userstest.Password, this.csrf, ""), 422, "weak-password")
		isProblem("unknown field", this.call("POST", "/api/v1/me/password", map[string]string{"current": userstest.Password, "password": next}, this.csrf, ""), 400, "bad-request")
		if !users.CheckPassword(stored(), userstest.Password) {
			t.Fatal("a refused change changed the password")
		}

		// A wrong current password is a failed sign-in and counts toward
		// the same lock: with the sign-in failures before it, the account
		// locks at the threshold for sign-in and change alike.
		for i := 1; i < users.AccountThreshold; i++ {
			if _, r := newBrowser(t, s.base).signIn("mira", "not the password", ""); r.status != 401 {
				t.Fatalf("failed sign-in %d: %d", i, r.status)
			}
		}
		isProblem("wrong current password", change(this, "not the password", next, this.csrf, ""), 401, "sign-in-failed")
		if _, r := newBrowser(t, s.base).signIn("mira", userstest.Password, ""); r.status != 429 || r.header.Get("Retry-After") != "60" {
			t.Fatalf("sign-in after a wrong current password reached the threshold: %d %q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		r := change(this, userstest.Password, next, this.csrf, "")
		isProblem("change while locked", r, 429, "sign-in-locked")
		if r.header.Get("Retry-After") == "" {
			t.Fatal("a locked change has no Retry-After")
		}
		if es, _, _ := s.db.audit.List(ctx, audit.Filter{Action: audit.ActionChangePasswordFailed}); len(es) != 1 || es[0].Actor != "user:mira" {
			t.Fatalf("wrong current password audited as %+v", es)
		}
		clock.Add(users.BaseLock)

		// An API key is not a person: it has no password to change.
		_, key, err := auth.Create(ctx, s.db.keys, auth.Key{Name: "k", Role: auth.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		r = change(newBrowser(t, s.base), userstest.Password, next, "", key)
		isProblem("API key", r, 403, "forbidden")
		if !strings.Contains(string(r.body), "API key has no password") {
			t.Fatalf("API key refusal does not say why: %s", r.body)
		}

		if r := change(this, userstest.Password, next, this.csrf, ""); r.status != 204 || len(r.body) != 0 {
			t.Fatalf("change: %d %s", r.status, r.body)
		}
		if r := this.call("GET", "/api/v1/me", nil, "", ""); r.status != 200 {
			t.Fatalf("the session that changed the password ended: %d", r.status)
		}
		if r := other.call("GET", "/api/v1/me", nil, "", ""); r.status != 401 {
			t.Fatalf("another session survived the change: %d", r.status)
		}
		if _, r := newBrowser(t, s.base).signIn("mira", userstest.Password, ""); r.status != 401 {
			t.Fatalf("the old password still signs in: %d", r.status)
		}
		mustSignIn(t, newBrowser(t, s.base), "mira", next, "")
		es, _, _ := s.db.audit.List(ctx, audit.Filter{Action: audit.ActionChangePassword})
		if len(es) != 1 || es[0].Actor != "user:mira" || es[0].Target != "mira" || strings.Contains(es[0].Detail, next) {
			t.Fatalf("change audited as %+v", es)
		}
	})
}

// TestConsoleAccountPage checks the console's own-account page: a
// signed-in person gets a link to it and the password form, which posts
// to the API with the session's CSRF token; an API key gets a note.
func TestConsoleAccountPage(t *testing.T) {
	clock := newTestClock()
	sq, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "posid.db"), testSecretBox(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	s := startSessionServer(t, sessionDB{sq.Store(), sq.Keys(), sq.Users(), sq.Audit(), sq.Revocations()}, clock)
	addUser(t, s.db.users, "wes", auth.RoleWarehouse, "")
	b := newBrowser(t, s.base)
	mustSignIn(t, b, "wes", userstest.Password, "")
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console/devices?lang=en", []string{`<a href="/console/account" id="account-link">My account</a>`}},
		{"/console/account?lang=en", []string{
			`<h1>My account</h1>`, `<dd>wes</dd>`,
			`<meta name="csrf-token" content="` + b.csrf + `">`,
			`<form id="password-form" class="api-form" data-action="/api/v1/me/password"`,
			`name="current" type="password" autocomplete="current-password" required`,
			`name="new" type="password" autocomplete="new-password" required minlength="10"`,
			`data-same-as="pw-new"`, `Change password`,
		}},
		{"/console/account?lang=zh", []string{`<h1>我的账户</h1>`, `修改密码`, `当前密码`}},
	} {
		r := b.call("GET", tc.path, nil, "", "")
		page := html.UnescapeString(string(r.body))
		if r.status != 200 {
			t.Fatalf("%s: %d", tc.path, r.status)
		}
		for _, w := range tc.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
	}
	_, key, err := auth.Create(context.Background(), s.db.keys, auth.Key{Name: "k", Role: auth.RoleWarehouse})
	if err != nil {
		t.Fatal(err)
	}
	r := newBrowser(t, s.base).call("GET", "/console/account?lang=en", nil, "", key)
	if r.status != 200 || !strings.Contains(string(r.body), `id="account-key"`) || strings.Contains(string(r.body), "password-form") {
		t.Fatalf("API key's account page: %d %s", r.status, r.body)
	}
}
