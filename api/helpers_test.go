package api

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"posid/internal/auth"
	"posid/internal/registry"
	"posid/internal/secret"
	"posid/internal/service"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/labels"
	"posid/scan"
)

// testEnv is a server on a real SQLite database in a temp dir, with one
// API key per role.
type testEnv struct {
	srv    *Server
	db     *sqlite.DB
	keys   *labels.KeyStore
	tokens map[string]string // by role name; "merchant2" is another merchant
}

// Fixture devices: PAX0001 (SUP1, merchant M001), PAX0002 (SUP2, merchant
// M002), PAX0003 (SUP1, provisioned, no registration).
var fixtures = []registry.Device{
	{SN: "PAX0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B1", Registration: &registry.Registration{
		MerchantNo: "M001", MerchantName: "老王餐馆", TerminalID: "T001", Acquirer: "银联商务", Access: registry.Access4G, Account: "6222021234561234"}},
	{SN: "PAX0002", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP2", Batch: "B1", Registration: &registry.Registration{
		MerchantNo: "M002", MerchantName: "张三便利店", TerminalID: "T002", Acquirer: "拉卡拉", Access: registry.AccessWiFi, Account: "6222029999999999"}},
	{SN: "PAX0003", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B2"},
}

// newEnv builds a testEnv with cfg; each of with may change the server's
// dependencies (e.g. add a risk Monitor on db) before it is built.
func newEnv(t testing.TB, cfg Config, with ...func(db *sqlite.DB, deps *Deps)) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "posid.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, d := range fixtures {
		if d.Registration != nil {
			r := *d.Registration
			r.RegisteredAt = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
			d.Registration = &r
		}
		if _, err := db.Store().CreateDevice(ctx, "test", d); err != nil {
			t.Fatal(err)
		}
	}
	ks := labels.OpenKeyStore(filepath.Join(dir, "keys"))
	if _, err := ks.NewKey(ctx); err != nil {
		t.Fatal(err)
	}
	env := &testEnv{db: db, keys: ks, tokens: map[string]string{}}
	for name, k := range map[string]auth.Key{
		"admin":     {Name: "a", Role: auth.RoleAdmin},
		"warehouse": {Name: "w", Role: auth.RoleWarehouse},
		"merchant":  {Name: "m", Role: auth.RoleMerchant, MerchantNo: "M001"},
		"merchant2": {Name: "m2", Role: auth.RoleMerchant, MerchantNo: "M002"},
		"supplier":  {Name: "s", Role: auth.RoleSupplier, SupplierCode: "SUP1"},
		"reviewer":  {Name: "r", Role: auth.RoleReviewer},
		"revoked":   {Name: "r", Role: auth.RoleAdmin},
	} {
		key, tok, err := auth.Create(ctx, db.Keys(), k)
		if err != nil {
			t.Fatal(err)
		}
		if name == "revoked" {
			if _, err := db.Keys().RevokeKey(ctx, key.ID); err != nil {
				t.Fatal(err)
			}
		}
		env.tokens[name] = tok
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "https://verify.test"
	}
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = -1
	}
	if cfg.RatePerKey == 0 {
		cfg.RatePerKey = -1
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("POSID_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	deps := Deps{
		Registry:  db.Store(),
		Keys:      auth.NewCache(db.Keys(), 0),
		Users:     db.Users(),
		Audit:     db.Audit(),
		Scanner:   scan.New(scan.Options{Timeout: time.Minute}), // no decode timeouts on a loaded test machine
		LabelKeys: labels.NewSharedKeyStore(ks, db.LabelKeyStatus()),
		Printing:  db.Printing(),
		Ping:      db.Ping,
		Logger:    log,
		Changes:   db.Changes(),
	}
	for _, fn := range with {
		fn(db, &deps)
	}
	env.srv, err = New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// sealFor signs a seal URL for fixture sn with the env's key.
func (e *testEnv) sealFor(t testing.TB, sn string) string {
	t.Helper()
	sg, err := e.keys.Signer(context.Background(), "https://verify.test")
	if err != nil {
		t.Fatal(err)
	}
	u, err := sg.Sign(labels.Seal{SN: sn, Model: "A920", Supplier: "SUP1", Date: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// req is one test request.
type req struct {
	method, path, contentType string
	body                      []byte
	// header holds extra request headers, sent as they are.
	header map[string]string
}

func jsonReq(method, path string, v any) req {
	b, _ := json.Marshal(v)
	return req{method: method, path: path, contentType: "application/json", body: b}
}

// do sends r with the token of role ("" for none) and returns the response
// and its body.
func (e *testEnv) do(t testing.TB, role string, r req) (*http.Response, []byte) {
	t.Helper()
	hr := httptest.NewRequest(r.method, r.path, bytes.NewReader(r.body))
	if r.contentType != "" {
		hr.Header.Set("Content-Type", r.contentType)
	}
	for k, v := range r.header {
		hr.Header[k] = []string{v}
	}
	if role != "" {
		tok, ok := e.tokens[role]
		if !ok {
			tok = role // a literal token
		}
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := e.srv.App().Test(hr, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// problem decodes a problem+json body, failing the test on any other type.
func problem(t testing.TB, resp *http.Response, body []byte) Problem {
	t.Helper()
	if ct := resp.Header.Get("Content-Type"); ct != problemContentType {
		t.Fatalf("status %d: Content-Type %q, want %s; body %s", resp.StatusCode, ct, problemContentType, body)
	}
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("problem body %s: %v", body, err)
	}
	if p.Status != resp.StatusCode || p.Type == "" || p.Title == "" || p.Instance == "" {
		t.Fatalf("incomplete problem %+v for status %d", p, resp.StatusCode)
	}
	return p
}

// corpusDir returns the barcode photo corpus: $POSID_CORPUS, or the copy
// in the repository (scan/testdata/corpus).
func corpusDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("POSID_CORPUS")
	if d == "" {
		d = filepath.Join("..", "scan", "testdata", "corpus")
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Fatalf("barcode corpus %s not found: %v", d, err)
	}
	return d
}

// live serves e on a free loopback port until the test ends and returns
// its base URL.
func (e *testEnv) live(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.srv.Shutdown(ctx)
		<-done
	})
	return "http://" + ln.Addr().String()
}

// changeID files a change request of the merchant of role ("merchant":
// M001 for PAX0001, "merchant2": M002 for PAX0002) with a small photo,
// through the service, and returns its id.
func (e *testEnv) changeID(role string) int64 {
	sn, no := "PAX0001", "M001"
	if role == "merchant2" {
		sn, no = "PAX0002", "M002"
	}
	var photo bytes.Buffer
	if err := png.Encode(&photo, image.NewGray(image.Rect(0, 0, 24, 16))); err != nil {
		panic(err)
	}
	c := service.Caller{Role: auth.RoleMerchant, Actor: "apikey:test(" + no + ")", MerchantNo: no}
	r, err := e.srv.svc.FileChangeRequest(context.Background(), c, service.ChangeFiling{SN: sn, Field: "merchant_name", Value: "新店名 " + no, Reason: "renamed", Photo: photo.Bytes()})
	if err != nil {
		panic(err)
	}
	return r.ID
}

// keyID returns the key id of role's token.
func (e *testEnv) keyID(role string) string {
	id, err := auth.ParseToken(e.tokens[role])
	if err != nil {
		panic(err)
	}
	return id
}

// plainUser stores a warehouse user named name whose password hash is
// not a hash (no one signs in as it; it costs no argon2 work).
func (e *testEnv) plainUser(name string) users.User {
	u, err := e.db.Users().CreateUser(context.Background(), users.User{Name: name, Role: auth.RoleWarehouse}, "none")
	if err != nil {
		panic(err)
	}
	return u
}
