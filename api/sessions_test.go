package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/postgres"
	"posid/internal/registry"
	"posid/internal/service"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/internal/users/userstest"
)

// sessionDB is one open handle on a test database.
type sessionDB struct {
	reg   registry.Store
	keys  auth.Store
	users users.Store
	audit audit.Log
	rev   auth.Revocations
}

// sessionStores runs fn on SQLite and on PostgreSQL; open opens another
// handle on the same database each time it is called (a second server).
func sessionStores(t *testing.T, fn func(t *testing.T, open func() sessionDB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "posid.db")
		fn(t, func() sessionDB {
			db, err := sqlite.Open(context.Background(), path, testSecretBox(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return sessionDB{db.Store(), db.Keys(), db.Users(), db.Audit(), db.Revocations()}
		})
	})
	t.Run("postgres", func(t *testing.T) {
		u := postgresSchema(t)
		fn(t, func() sessionDB {
			db, err := postgres.Open(context.Background(), u, testSecretBox(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return sessionDB{db.Store(), db.Keys(), db.Users(), db.Audit(), db.Revocations()}
		})
	})
}

// testClock is a settable clock for servers under test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// sessionServer is a server listening on loopback over db.
type sessionServer struct {
	srv  *Server
	base string
	db   sessionDB
}

// startSessionServer serves db on a loopback port with clock, watching
// the revocation signal like posid serve does.
func startSessionServer(t *testing.T, db sessionDB, clock *testClock) *sessionServer {
	t.Helper()
	keys := auth.NewCache(db.keys, 0)
	srv, err := New(Config{BaseURL: "https://verify.test", RatePerIP: -1, RatePerKey: -1}, Deps{
		Registry: db.reg, Keys: keys, Users: db.users, Audit: db.audit, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	ctx, stop := context.WithCancel(context.Background())
	go db.rev.Watch(ctx, func() { keys.Clear(); srv.ClearSessions() })
	t.Cleanup(func() { stop(); srv.Shutdown(context.Background()) })
	return &sessionServer{srv: srv, base: "http://" + ln.Addr().String(), db: db}
}

// browser is an HTTP client with a cookie jar, like a browser tab.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

// reply is a response and its body.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// problemType is the last segment of a problem reply's type.
func (r reply) problemType() string {
	var p Problem
	json.Unmarshal(r.body, &p)
	return strings.TrimPrefix(p.Type, ProblemBase)
}

// call sends method path with a JSON body (nil: none), the CSRF token
// csrf (""; none) and the bearer token key ("": none).
func (b *browser) call(method, path string, body any, csrf, key string) reply {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if csrf != "" {
		req.Header.Set(csrfHeader, csrf)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, data}
}

// signIn posts a sign-in and keeps the CSRF token of a session made.
func (b *browser) signIn(name, pw, code string) (service.SignIn, reply) {
	b.t.Helper()
	r := b.call("POST", "/api/v1/session", service.SignInRequest{Name: name, Password: pw, Code: code}, b.csrf, "")
	var res service.SignIn
	json.Unmarshal(r.body, &res)
	if res.Status == service.SignedIn {
		b.csrf = res.CSRFToken
	}
	return res, r
}

// cookie returns the session cookie the jar holds, "" if none.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == sessionCookiePlain {
			return c.Value
		}
	}
	return ""
}

// setCookie plants a session cookie, as an attacker would.
func (b *browser) setCookie(v string) {
	u, _ := url.Parse(b.base)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookiePlain, Value: v, Path: "/"}})
}

// addUser stores a user with userstest.Password; admins get a TOTP
// secret, returned.
func addUser(t *testing.T, st users.Store, name string, role auth.Role, scope string) (users.User, string) {
	t.Helper()
	u := userstest.Create(t, st, name, role, scope)
	if !users.NeedsTOTP(role) {
		return u, ""
	}
	en, err := users.NewTOTP(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetTOTP(context.Background(), u.ID, en.Secret, nil); err != nil {
		t.Fatal(err)
	}
	return u, en.Secret
}

// code is the TOTP code of secret at the clock's time.
func code(t *testing.T, secret string, clock *testClock) string {
	t.Helper()
	c, err := users.TOTPCode(secret, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// mustSignIn signs b in or fails the test.
func mustSignIn(t *testing.T, b *browser, name, pw, code string) service.SignIn {
	t.Helper()
	res, r := b.signIn(name, pw, code)
	if r.status != 200 || res.Status != service.SignedIn {
		t.Fatalf("sign in %s: %d %s", name, r.status, r.body)
	}
	return res
}

func seedDevice(t *testing.T, reg registry.Store) {
	t.Helper()
	if _, err := reg.CreateDevice(context.Background(), "test", fixtures[0]); err != nil {
		t.Fatal(err)
	}
}

// TestSessionSignIn walks a merchant's and an admin's sign-in on both
// stores: the cookie's attributes, the same policy as an API key, TOTP
// enrolment at first sign-in, replayed and recovery codes.
func TestSessionSignIn(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		seedDevice(t, s.db.reg)
		addUser(t, s.db.users, "mia", auth.RoleMerchant, "M001")
		b := newBrowser(t, s.base)
		res, r := b.signIn("mia", userstest.Password, "")
		if res.Status != service.SignedIn || res.User == nil || res.User.Name != "mia" || res.CSRFToken == "" {
			t.Fatalf("sign in: %d %s", r.status, r.body)
		}
		set := r.header.Get("Set-Cookie")
		for _, want := range []string{sessionCookiePlain + "=", "path=/", "HttpOnly", "SameSite=Lax"} {
			if !strings.Contains(strings.ToLower(set), strings.ToLower(want)) {
				t.Errorf("Set-Cookie %q lacks %s", set, want)
			}
		}
		if strings.Contains(set, "Secure") || strings.Contains(set, "__Host-") {
			t.Errorf("plain http got a Secure cookie, which would never come back: %q", set)
		}
		me := b.call("GET", "/api/v1/me", nil, "", "")
		if me.status != 200 || !strings.Contains(string(me.body), `"name":"mia"`) || !strings.Contains(string(me.body), b.csrf) {
			t.Fatalf("me: %d %s", me.status, me.body)
		}
		// The session is a merchant caller, decided by the service as for a key.
		scan := b.call("POST", "/api/v1/scans", ManualEntry{SN: "PAX0001"}, b.csrf, "")
		if scan.status != 200 || !strings.Contains(string(scan.body), "老王餐馆") || strings.Contains(string(scan.body), "6222021234561234") {
			t.Fatalf("merchant scan of its own device: %d %s", scan.status, scan.body)
		}
		if r := b.call("GET", "/api/v1/devices?reveal=account", nil, "", ""); r.status != 403 {
			t.Fatalf("merchant session revealed accounts: %d", r.status)
		}
		es, _, _ := s.db.audit.List(context.Background(), audit.Filter{Actor: "user:mia"})
		if len(es) == 0 {
			t.Fatal("the session's reads are not audited as user:mia")
		}

		// An admin enrols TOTP at the first sign-in.
		u := userstest.Create(t, s.db.users, "ada", auth.RoleAdmin, "")
		a := newBrowser(t, s.base)
		res, r = a.signIn("ada", userstest.Password, "")
		if res.Status != service.EnrolTOTP || res.Enrolment == nil || a.cookie() != "" {
			t.Fatalf("admin without TOTP: %d %s", r.status, r.body)
		}
		if res, _ := a.signIn("ada", userstest.Password, "000000"); res.Status == service.SignedIn {
			t.Fatal("wrong enrolment code accepted")
		}
		res, r = a.signIn("ada", userstest.Password, "")
		secret := res.Enrolment.Secret
		res = mustSignIn(t, a, "ada", userstest.Password, code(t, secret, clock))
		if len(res.RecoveryCodes) != users.RecoveryCodes || !res.User.TOTP {
			t.Fatalf("enrolment gave %d recovery codes", len(res.RecoveryCodes))
		}
		if es, _, _ := s.db.audit.List(context.Background(), audit.Filter{Action: audit.ActionEnrolTOTP, Target: "ada"}); len(es) != 1 {
			t.Fatalf("enrolment audited %d times", len(es))
		}
		// Once enrolled: no code, no session; a used code never again.
		if res, _ := newBrowser(t, s.base).signIn("ada", userstest.Password, ""); res.Status != service.TOTPRequired {
			t.Fatalf("enrolled admin without a code: %+v", res)
		}
		if _, r := newBrowser(t, s.base).signIn("ada", userstest.Password, code(t, secret, clock)); r.status != 401 {
			t.Fatalf("replayed TOTP code: %d %s", r.status, r.body)
		}
		clock.Add(users.TOTPPeriod)
		mustSignIn(t, newBrowser(t, s.base), "ada", userstest.Password, code(t, secret, clock))
		rc := strings.ToUpper(res.RecoveryCodes[0])
		mustSignIn(t, newBrowser(t, s.base), "ada", userstest.Password, rc)
		if _, r := newBrowser(t, s.base).signIn("ada", userstest.Password, rc); r.status != 401 {
			t.Fatalf("recovery code used twice: %d", r.status)
		}
		if n, _ := s.db.users.RecoveryCodesLeft(context.Background(), u.ID); n != users.RecoveryCodes-1 {
			t.Fatalf("%d recovery codes left", n)
		}
		// Sign out ends the session.
		cookieBefore := b.cookie()
		if r := b.call("DELETE", "/api/v1/session", nil, b.csrf, ""); r.status != 204 {
			t.Fatalf("sign out: %d %s", r.status, r.body)
		} else if b.cookie() != "" {
			t.Fatalf("sign out left the cookie in the browser (Set-Cookie %q)", r.header.Get("Set-Cookie"))
		}
		b.setCookie(cookieBefore) // a copy kept from before is dead too
		if r := b.call("GET", "/api/v1/me", nil, "", ""); r.status != 401 {
			t.Fatalf("me after sign-out: %d", r.status)
		}
		for _, action := range []string{audit.ActionSignIn, audit.ActionSignOut, audit.ActionSignInFailed, audit.ActionUseRecoveryCode} {
			if es, _, _ := s.db.audit.List(context.Background(), audit.Filter{Action: action}); len(es) == 0 {
				t.Errorf("no %s in the audit log", action)
			}
		}
	})
}

// TestSessionFixation: a session id planted before sign-in is never
// adopted, whether made up or a live session of the attacker's.
func TestSessionFixation(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		addUser(t, s.db.users, "mia", auth.RoleMerchant, "M001")
		addUser(t, s.db.users, "mallory", auth.RoleMerchant, "M002")
		made, _ := users.NewSessionToken()
		attacker := newBrowser(t, s.base)
		mustSignIn(t, attacker, "mallory", userstest.Password, "")
		live := attacker.cookie()
		for name, planted := range map[string]string{"made up": made, "attacker's live session": live} {
			victim := newBrowser(t, s.base)
			victim.setCookie(planted)
			res, r := victim.signIn("mia", userstest.Password, "")
			if name == "attacker's live session" && r.status == 403 {
				// A live session needs its CSRF token even to sign in
				// again; a victim page that lacks it gets a fresh start.
				victim.setCookie("")
				res = mustSignIn(t, victim, "mia", userstest.Password, "")
			} else if res.Status != service.SignedIn {
				t.Fatalf("%s: sign in %d %s", name, r.status, r.body)
			}
			if got := victim.cookie(); got == "" || got == planted {
				t.Fatalf("%s: the planted session id was adopted", name)
			}
			check := newBrowser(t, s.base)
			check.setCookie(planted)
			me := check.call("GET", "/api/v1/me", nil, "", "")
			if strings.Contains(string(me.body), `"name":"mia"`) {
				t.Fatalf("%s: the planted id opens mia's session", name)
			}
		}
	})
}

// TestCSRFEveryRoute sends every state-changing route of the table with a
// live session and no or a wrong CSRF token: 403 problem+json each time,
// before any handler runs. The right token passes the check.
func TestCSRFEveryRoute(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		_, secret := addUser(t, s.db.users, "ada", auth.RoleAdmin, "")
		b := newBrowser(t, s.base)
		mustSignIn(t, b, "ada", userstest.Password, code(t, secret, clock))
		params := strings.NewReplacer(":sn", "PAX0001", ":id", "1", ":kid", "k1", ":name", "nobody", ":payload", "x")
		n := 0
		for _, rt := range s.srv.Routes() {
			if safeMethod(rt.Method) {
				continue
			}
			n++
			path := params.Replace(rt.Path)
			for _, tok := range []string{"", "wrong-" + b.csrf[6:], users.CSRFToken("another session")} {
				r := b.call(rt.Method, path, map[string]string{}, tok, "")
				if r.status != 403 || r.problemType() != "csrf" || r.header.Get("Content-Type") != problemContentType {
					t.Errorf("%s %s with CSRF token %q: %d %s %s", rt.Method, rt.Path, tok, r.status, r.header.Get("Content-Type"), r.body)
				}
			}
			if rt.Method == "DELETE" && strings.HasPrefix(rt.Path, "/api/v1/session") {
				continue // the right token would sign out
			}
			if r := b.call(rt.Method, path, map[string]string{}, b.csrf, ""); r.problemType() == "csrf" {
				t.Errorf("%s %s refused with the right token: %s", rt.Method, rt.Path, r.body)
			}
		}
		if n < 15 {
			t.Fatalf("only %d state-changing routes walked", n)
		}
		// HTML forms send the token as the csrf_token field.
		for tok, want := range map[string]int{b.csrf: 404, "wrong": 403, "": 403} {
			req, _ := http.NewRequest("POST", s.base+"/api/v1/users/nobody/disable", strings.NewReader(url.Values{csrfField: {tok}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("form with csrf_token %q: %d, want %d", tok, resp.StatusCode, want)
			}
		}
		// An API key carries no cookie and needs no token.
		_, tok, err := auth.Create(context.Background(), s.db.keys, auth.Key{Name: "k", Role: auth.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if r := newBrowser(t, s.base).call("POST", "/api/v1/users", UserRequest{Name: "kim", Role: "warehouse"}, "", tok); r.status != 201 {
			t.Fatalf("API key without CSRF token: %d %s", r.status, r.body)
		}
	})
}

// TestSignInLockout: five failures lock the account for a minute, the
// next lock is longer, and locks end by themselves (clock injected).
func TestSignInLockout(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		addUser(t, s.db.users, "mia", auth.RoleMerchant, "M001")
		b := newBrowser(t, s.base)
		for i := 1; i <= users.AccountThreshold; i++ {
			if _, r := b.signIn("mia", "wrong password "+string(rune('a'+i)), ""); r.status != 401 || r.problemType() != "sign-in-failed" {
				t.Fatalf("failure %d: %d %s", i, r.status, r.body)
			}
		}
		_, r := b.signIn("mia", userstest.Password, "")
		if r.status != 429 || r.header.Get("Retry-After") != "60" || r.problemType() != "sign-in-locked" {
			t.Fatalf("locked account with the right password: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
		}
		clock.Add(users.BaseLock)
		mustSignIn(t, newBrowser(t, s.base), "mia", userstest.Password, "")
		// Success cleared the count: five more failures, one minute again;
		// one more after it ends, two minutes.
		for range users.AccountThreshold {
			b.signIn("mia", "wrong password", "")
		}
		clock.Add(users.BaseLock)
		b.signIn("mia", "wrong password", "")
		if _, r := b.signIn("mia", userstest.Password, ""); r.status != 429 || r.header.Get("Retry-After") != "120" {
			t.Fatalf("second lock: %d Retry-After %q", r.status, r.header.Get("Retry-After"))
		}
		clock.Add(users.MaxLock)
		mustSignIn(t, newBrowser(t, s.base), "mia", userstest.Password, "")
		es, _, _ := s.db.audit.List(context.Background(), audit.Filter{Action: audit.ActionLockout})
		if len(es) < 2 || !strings.Contains(es[0].Detail, "user:mia") {
			t.Fatalf("lockouts audited: %+v", es)
		}
		// One address failing on many names is locked too.
		for i := range users.AddressThreshold {
			b.signIn("nobody"+string(rune('a'+i)), "wrong password", "")
		}
		if _, r := b.signIn("mia", userstest.Password, ""); r.status != 429 {
			t.Fatalf("address after %d failures: %d", users.AddressThreshold, r.status)
		}
		clock.Add(users.BaseLock)
		mustSignIn(t, b, "mia", userstest.Password, "")
	})
}

// TestSignInLockoutAcrossServers: two servers on one database, as behind
// a load balancer, share the lock: failures split between them lock the
// account on both, and a success on one clears the count on both.
func TestSignInLockoutAcrossServers(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s1, s2 := startSessionServer(t, open(), clock), startSessionServer(t, open(), clock)
		addUser(t, s1.db.users, "mia", auth.RoleMerchant, "M001")
		b1, b2 := newBrowser(t, s1.base), newBrowser(t, s2.base)
		for i := 1; i <= users.AccountThreshold; i++ {
			b := []*browser{b1, b2}[i%2]
			if _, r := b.signIn("mia", "wrong password", ""); r.status != 401 {
				t.Fatalf("failure %d: %d %s", i, r.status, r.body)
			}
		}
		for i, b := range []*browser{b1, b2} {
			if _, r := b.signIn("mia", userstest.Password, ""); r.status != 429 || r.header.Get("Retry-After") != "60" {
				t.Fatalf("server %d after failures on both: %d Retry-After %q", i+1, r.status, r.header.Get("Retry-After"))
			}
		}
		// Past the lock, a failure would lock again; a success on one
		// server clears the count on the other too.
		clock.Add(users.BaseLock)
		mustSignIn(t, b1, "mia", userstest.Password, "")
		for i := 1; i < users.AccountThreshold; i++ {
			if _, r := b2.signIn("mia", "wrong password", ""); r.status != 401 {
				t.Fatalf("failure %d after a success on the other server: %d, want 401 (count cleared)", i, r.status)
			}
		}
		mustSignIn(t, b2, "mia", userstest.Password, "")
	})
}

// brokenFailures is a users store whose sign-in failure counts cannot be
// read or written.
type brokenFailures struct{ users.Store }

var errNoFailuresTable = errors.New(`relation "sign_in_failures" does not exist`)

func (brokenFailures) Locked(context.Context, string, time.Time) (time.Duration, error) {
	return 0, errNoFailuresTable
}

func (brokenFailures) Fail(context.Context, string, int, time.Time) (time.Duration, error) {
	return 0, errNoFailuresTable
}

func (brokenFailures) Succeed(context.Context, string) error { return errNoFailuresTable }

// TestSignInThrottleUnavailable: a sign-in the server cannot count is
// refused with 503 (never let through unthrottled), and the answer does
// not show the database's error.
func TestSignInThrottleUnavailable(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		db := open()
		addUser(t, db.users, "mia", auth.RoleMerchant, "M001")
		db.users = brokenFailures{db.users}
		s := startSessionServer(t, db, newTestClock())
		for _, pw := range []string{userstest.Password, "wrong password"} {
			_, r := newBrowser(t, s.base).signIn("mia", pw, "")
			if r.status != 503 || r.problemType() != "unavailable" || bytes.Contains(r.body, []byte("sign_in_failures")) {
				t.Fatalf("sign-in without failure counts: %d %s", r.status, r.body)
			}
		}
	})
}

// TestSessionTimeouts: a session ends after the idle timeout, and after
// the absolute one however much it is used.
func TestSessionTimeouts(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		addUser(t, s.db.users, "mia", auth.RoleMerchant, "M001")
		b := newBrowser(t, s.base)
		mustSignIn(t, b, "mia", userstest.Password, "")
		clock.Add(users.DefaultIdleTimeout - time.Minute)
		if r := b.call("GET", "/api/v1/me", nil, "", ""); r.status != 200 {
			t.Fatalf("me within the idle timeout: %d", r.status)
		}
		clock.Add(users.DefaultIdleTimeout)
		if r := b.call("GET", "/api/v1/me", nil, "", ""); r.status != 401 {
			t.Fatalf("me after the idle timeout: %d", r.status)
		}
		mustSignIn(t, b, "mia", userstest.Password, "")
		for elapsed := time.Duration(0); elapsed < users.DefaultMaxAge-20*time.Minute; elapsed += 20 * time.Minute {
			clock.Add(20 * time.Minute)
			if r := b.call("GET", "/api/v1/me", nil, "", ""); r.status != 200 {
				t.Fatalf("me at %v: %d", elapsed, r.status)
			}
		}
		clock.Add(20 * time.Minute)
		if r := b.call("GET", "/api/v1/me", nil, "", ""); r.status != 401 {
			t.Fatalf("me after the absolute timeout: %d", r.status)
		}
	})
}

// TestSignOutEverywhereAndDisable: "sign out everywhere" ends every
// session of the user; disabling a user on one server ends its sessions
// and API keys on a second server on the same database within a second.
func TestSignOutEverywhereAndDisable(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		one := startSessionServer(t, open(), clock)
		two := startSessionServer(t, open(), clock)
		addUser(t, one.db.users, "mia", auth.RoleMerchant, "M001")
		phone, laptop := newBrowser(t, one.base), newBrowser(t, two.base)
		mustSignIn(t, phone, "mia", userstest.Password, "")
		mustSignIn(t, laptop, "mia", userstest.Password, "")
		if r := phone.call("DELETE", "/api/v1/sessions", nil, phone.csrf, ""); r.status != 200 || !strings.Contains(string(r.body), `"ended":2`) {
			t.Fatalf("sign out everywhere: %d %s", r.status, r.body)
		}
		waitStatus(t, laptop, "", 401, "laptop after sign-out everywhere")

		// An admin session on server two makes an API key: it is tied to ada.
		_, secret := addUser(t, one.db.users, "ada", auth.RoleAdmin, "")
		ada := newBrowser(t, two.base)
		mustSignIn(t, ada, "ada", userstest.Password, code(t, secret, clock))
		r := ada.call("POST", "/api/v1/apikeys", APIKeyRequest{Name: "ada's script", Role: "admin"}, ada.csrf, "")
		var nk NewAPIKey
		json.Unmarshal(r.body, &nk)
		if r.status != 201 || nk.Key.UserID == 0 {
			t.Fatalf("key made by a session: %d %s", r.status, r.body)
		}
		script := newBrowser(t, two.base)
		if r := script.call("GET", "/api/v1/me", nil, "", nk.Token); r.status != 200 {
			t.Fatalf("ada's key: %d", r.status)
		}
		if r := ada.call("GET", "/api/v1/me", nil, "", ""); r.status != 200 {
			t.Fatalf("ada's session: %d", r.status) // cached on server two now
		}
		_, root, err := auth.Create(context.Background(), one.db.keys, auth.Key{Name: "root", Role: auth.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if r := newBrowser(t, one.base).call("POST", "/api/v1/users/ada/disable", nil, "", root); r.status != 200 {
			t.Fatalf("disable: %d %s", r.status, r.body)
		}
		waitStatus(t, ada, "", 401, "disabled user's session on server two")
		waitStatus(t, script, nk.Token, 401, "disabled user's API key on server two")
		if d := time.Since(start); d > time.Second {
			t.Fatalf("took %v to end a disabled user's session and key on server two", d)
		}
		if _, r := newBrowser(t, two.base).signIn("ada", userstest.Password, code(t, secret, clock)); r.status != 401 {
			t.Fatalf("disabled user signs in: %d", r.status)
		}
	})
}

// waitStatus polls GET /api/v1/me for up to a second until it answers want.
func waitStatus(t *testing.T, b *browser, key string, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		r := b.call("GET", "/api/v1/me", nil, "", key)
		if r.status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %d after 1 s, want %d", what, r.status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPasswordHashesStayInStore: no answer of the API, nor the audit log,
// carries a password hash or TOTP secret.
func TestPasswordHashesStayInStore(t *testing.T) {
	sessionStores(t, func(t *testing.T, open func() sessionDB) {
		clock := newTestClock()
		s := startSessionServer(t, open(), clock)
		_, secret := addUser(t, s.db.users, "ada", auth.RoleAdmin, "")
		addUser(t, s.db.users, "mia", auth.RoleMerchant, "M001")
		b := newBrowser(t, s.base)
		_, signIn := b.signIn("ada", userstest.Password, code(t, secret, clock))
		answers := []reply{signIn,
			b.call("GET", "/api/v1/me", nil, "", ""),
			b.call("GET", "/api/v1/users", nil, "", ""),
			b.call("POST", "/api/v1/users", UserRequest{Name: "neo", Role: "warehouse", Password: "a long and fine password"}, b.csrf, ""),
			b.call("POST", "/api/v1/users/mia/disable", nil, b.csrf, ""),
			b.call("GET", "/api/v1/audit?limit=1000", nil, "", ""),
		}
		for i, r := range answers {
			if r.status >= 300 {
				t.Fatalf("answer %d: %d %s", i, r.status, r.body)
			}
			if s := string(r.body); strings.Contains(s, "argon2") || strings.Contains(s, secret) || strings.Contains(s, "password_hash") {
				t.Fatalf("answer %d carries a secret: %s", i, s)
			}
		}
	})
}

// TestSessionCookieOverHTTPS: behind a trusted proxy that says https the
// cookie is __Host-posid_session with Secure, and a plain posid_session
// cookie is not read; a client's own X-Forwarded-Proto is not believed.
func TestSessionCookieOverHTTPS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		proxies []string
		secure  bool
	}{
		{"trusted proxy", []string{"127.0.0.1"}, true},
		{"untrusted client", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			if tc.proxies != nil {
				cfg.ProxyHeader, cfg.TrustedProxies = "X-Forwarded-For", tc.proxies
			}
			e := newEnv(t, cfg)
			userstest.Create(t, e.db.Users(), "mia", auth.RoleMerchant, "M001")
			base := e.live(t)
			send := func(method, path, cookie string, body any) *http.Response {
				j, _ := json.Marshal(body)
				req, _ := http.NewRequest(method, base+path, bytes.NewReader(j))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-Proto", "https")
				if cookie != "" {
					req.Header.Set("Cookie", cookie)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			resp := send("POST", "/api/v1/session", "", service.SignInRequest{Name: "mia", Password: userstest.Password})
			set := resp.Header.Get("Set-Cookie")
			if got := strings.HasPrefix(set, sessionCookieSecure+"=") && strings.Contains(set, "; secure"); got != tc.secure {
				t.Fatalf("Set-Cookie %q, want secure %v", set, tc.secure)
			}
			token := strings.SplitN(strings.SplitN(set, ";", 2)[0], "=", 2)[1]
			name := sessionCookiePlain
			if tc.secure {
				name = sessionCookieSecure
			}
			if r := send("GET", "/api/v1/me", name+"="+token, nil); r.StatusCode != 200 {
				t.Fatalf("me with %s: %d", name, r.StatusCode)
			}
			if tc.secure {
				if r := send("GET", "/api/v1/me", sessionCookiePlain+"="+token, nil); r.StatusCode != 401 {
					t.Fatalf("over https a plain posid_session cookie was read: %d", r.StatusCode)
				}
			}
		})
	}
}
