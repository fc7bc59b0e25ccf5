package api

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/postgres"
	"posid/internal/postgres/pgtest"
	"posid/internal/registry"
	"posid/internal/registry/registrytest"
	"posid/internal/risk"
	"posid/internal/secret"
	"posid/internal/sqlite"
	"posid/labels"
	"posid/scan"
)

// The tests in this file attack a real listening server (a socket, not
// app.Test) the way the reports of #11 did, on SQLite and, when
// POSID_TEST_POSTGRES is set, on PostgreSQL.

// liveStores are the stores of one database.
type liveStores struct {
	reg   registry.Store
	keys  auth.Store
	audit audit.Log
	risk  risk.Store
	// labelKeys shares label key changes, with their audit rows.
	labelKeys labels.KeyStatusLog
}

// eachStore runs fn on a fresh SQLite file and a fresh PostgreSQL schema.
func eachStore(t *testing.T, fn func(t *testing.T, st liveStores)) {
	t.Run("sqlite", func(t *testing.T) {
		box := testSecretBox(t)
		db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "posid.db"), box)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, liveStores{db.Store(), db.Keys(), db.Audit(), db.RiskStore(), db.LabelKeyStatus()})
	})
	t.Run("postgres", func(t *testing.T) {
		db, err := postgres.Open(t.Context(), postgresSchema(t), testSecretBox(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, liveStores{db.Store(), db.Keys(), db.Audit(), db.RiskStore(), db.LabelKeyStatus()})
	})
}

func testSecretBox(t *testing.T) *secret.Box {
	box, err := secret.NewBox(bytes.Repeat([]byte{3}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// postgresSchema makes a schema of its own in POSID_TEST_POSTGRES, dropped
// when t ends, and returns a URL that selects it; skips without the variable.
func postgresSchema(t *testing.T) string {
	t.Helper()
	u, _ := pgtest.Schema(t, "api_")
	return u
}

// liveEnv is a server with the risk monitor listening on loopback.
type liveEnv struct {
	t      *testing.T
	base   string // http://127.0.0.1:port
	addr   string
	st     liveStores
	mon    *risk.Monitor
	tokens map[string]string // admin, m1 (merchant M001), m2 (M002)
	// forge signs a seal for sn with a key the server does not hold, under
	// the id of the server's key: its verdict is forged.
	forge func(sn string) string
}

func newLiveEnv(t *testing.T, st liveStores, cfg Config, rcfg risk.Config) *liveEnv {
	t.Helper()
	ctx := t.Context()
	if _, err := st.reg.CreateDevice(ctx, "test", registrytest.Device(knownSN)); err != nil {
		t.Fatal(err)
	}
	e := &liveEnv{t: t, st: st, tokens: map[string]string{}}
	for name, k := range map[string]auth.Key{
		"admin": {Name: "admin", Role: auth.RoleAdmin},
		"m1":    {Name: "m1", Role: auth.RoleMerchant, MerchantNo: "M001"},
		"m2":    {Name: "m2", Role: auth.RoleMerchant, MerchantNo: "M002"},
	} {
		_, tok, err := auth.Create(ctx, st.keys, k)
		if err != nil {
			t.Fatal(err)
		}
		e.tokens[name] = tok
	}
	ks, other := labels.OpenKeyStore(t.TempDir()), labels.OpenKeyStore(t.TempDir())
	for _, s := range []*labels.KeyStore{ks, other} {
		if _, err := s.NewKey(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sg, err := other.Signer(ctx, "https://verify.posid.example")
	if err != nil {
		t.Fatal(err)
	}
	e.forge = func(sn string) string {
		u, err := sg.Sign(labels.Seal{Date: time.Now().UTC(), SN: sn, Model: "A920", Supplier: "SUP1"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.mon = risk.NewMonitor(st.risk, rcfg, nil)
	if cfg.RatePerIP == 0 {
		cfg.RatePerIP = -1
	}
	if cfg.RatePerKey == 0 {
		cfg.RatePerKey = -1
	}
	srv, err := New(cfg, Deps{Registry: st.reg, Keys: st.keys, Audit: st.audit, Scanner: scan.New(scan.Options{}),
		LabelKeys: labels.NewSharedKeyStore(ks, st.labelKeys), Risk: e.mon, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e.base = (&testEnv{srv: srv}).live(t)
	e.addr = strings.TrimPrefix(e.base, "http://")
	return e
}

// raw sends head (request line and headers, without the blank line), then
// body, on a new connection and reads the answer.
func (e *liveEnv) raw(head string, body []byte) (*http.Response, []byte, error) {
	conn, err := net.Dial("tcp", e.addr)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head+"\r\n\r\n"); err != nil {
		return nil, nil, err
	}
	if _, err := conn.Write(body); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// verifyRaw posts a seal to /api/v1/verify with extra raw header lines.
func (e *liveEnv) verifyRaw(qr string, headers ...string) (int, []byte) {
	e.t.Helper()
	body, _ := json.Marshal(map[string]string{"qr": qr})
	head := fmt.Sprintf("POST /api/v1/verify HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d", e.addr, len(body))
	for _, h := range headers {
		head += "\r\n" + h
	}
	resp, b, err := e.raw(head, body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// cases returns every case the monitor holds.
func (e *liveEnv) cases() []risk.Case {
	e.t.Helper()
	cs, err := e.mon.Cases(e.t.Context(), risk.CaseFilter{Limit: risk.MaxPageSize})
	if err != nil {
		e.t.Fatal(err)
	}
	return cs
}

// TestHostileBodies: item 3. Every route has a body limit of its own,
// refused with 413 from the headers alone; one client address may hold
// only so many body bytes and connections.
func TestHostileBodies(t *testing.T) {
	e := newEnv(t, Config{MaxBodyBytesPerIP: 3 << 20, MaxConnsPerIP: 8})
	addr := strings.TrimPrefix(e.live(t), "http://")
	le := &liveEnv{t: t, addr: addr}
	for _, tt := range []struct {
		path string
		size int
	}{
		{"/api/v1/devices", DefaultJSONBodyLimit + 1},
		{"/api/v1/verify", DefaultPhotoBodyLimit + 1},
		{"/api/v1/scans", DefaultPhotoBodyLimit + 1},
		{"/api/v1/devices/PAX0001/status", 2 << 20},
	} {
		t.Run("413 "+tt.path, func(t *testing.T) {
			resp, body, err := le.raw(fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nAuthorization: Bearer %s\r\nContent-Length: %d",
				tt.path, e.tokens["admin"], tt.size), nil)
			if err != nil {
				t.Fatalf("no answer before the body was sent: %v", err)
			}
			if resp.StatusCode != 413 || !resp.Close {
				t.Fatalf("status %d, connection close %v: %s", resp.StatusCode, resp.Close, body)
			}
			problem(t, resp, body)
		})
	}

	t.Run("body bytes in flight per IP", func(t *testing.T) {
		// Two photo uploads of 1.5 MB stall after their first 100 KB;
		// the third is refused at once: 3 MB are in flight.
		var stalled []net.Conn
		for i := range 2 {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST /api/v1/scans HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", e.tokens["admin"], 3<<19)
			conn.Write(make([]byte, 100<<10))
			stalled = append(stalled, conn)
			waitFor(t, func() bool { return e.srv.bodies.used() >= (i+1)*(3<<19) })
		}
		// fasthttp reads the first 8 KB of a body before any handler runs;
		// sent exactly, nothing is left unread when the server closes.
		resp, body, err := le.raw(fmt.Sprintf("POST /api/v1/scans HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nAuthorization: Bearer %s\r\nContent-Length: %d", e.tokens["admin"], 3<<19), make([]byte, 8<<10))
		if err != nil {
			t.Fatalf("third upload: %v", err)
		}
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("third upload: status %d: %s", resp.StatusCode, body)
		}
		for _, c := range stalled {
			c.Close()
		}
		waitFor(t, func() bool { return e.srv.bodies.used() == 0 })
	})

	t.Run("connections per IP", func(t *testing.T) {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for range 8 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
		}
		// The ninth connection from the same address is refused: fasthttp
		// answers 429 and closes it.
		resp, _, err := le.raw("GET /healthz HTTP/1.1\r\nHost: x", nil)
		if err == nil && resp.StatusCode == 200 {
			t.Fatal("ninth connection from one address served")
		}
	})
}

// waitFor polls cond (the server works in other goroutines) for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for range 1000 {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition not reached within 10 s")
}

// TestSpoofedForwardedFor: item 4. Behind a trusted reverse proxy (a real
// httputil.ReverseProxy on 127.0.0.1, which appends the address it got
// the request from), a client at 127.0.0.2 writes its own X-Forwarded-For
// entries; the server uses 127.0.0.2 for rate limits and audit rows.
func TestSpoofedForwardedFor(t *testing.T) {
	eachStore(t, func(t *testing.T, st liveStores) {
		e := newLiveEnv(t, st, Config{ProxyHeader: "X-Forwarded-For", TrustedProxies: []string{"127.0.0.1"}, RatePerIP: 0.01, Burst: 10},
			risk.Config{})
		target, _ := url.Parse(e.base)
		proxy := &http.Server{Handler: httputil.NewSingleHostReverseProxy(target)}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go proxy.Serve(ln)
		t.Cleanup(func() { proxy.Close() })
		client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
		get := func(path, xff, token string) int {
			req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+path, nil)
			req.Header.Set("X-Forwarded-For", xff)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode
		}

		if st := get("/api/v1/devices/"+knownSN, "not-an-ip' OR 1=1, 127.0.0.1", e.tokens["admin"]); st != 200 {
			t.Fatalf("lookup through the proxy: %d", st)
		}
		es, _, err := st.audit.List(t.Context(), audit.Filter{Limit: 10})
		if err != nil || len(es) == 0 {
			t.Fatalf("audit rows %v, %v", es, err)
		}
		for _, en := range es {
			if en.ClientIP != "127.0.0.2" {
				t.Fatalf("audit client_ip %q, want 127.0.0.2", en.ClientIP)
			}
		}

		allowed := 1 // the lookup above
		for i := range 30 {
			if get("/healthz", fmt.Sprintf("10.0.%d.%d, 127.0.0.1", i/250, i%250+1), "") == 200 {
				allowed++
			}
		}
		if allowed > 10 {
			t.Fatalf("%d of 31 requests allowed with a burst of 10: the spoofed X-Forwarded-For chose the rate bucket", allowed)
		}
	})
}

// TestForgedSealLeaksNothing: item 5. A forged seal's answer holds the
// verdict and reason only, whether or not its SN is registered, and a
// flood of forged seals from one anonymous client opens one case per rule.
func TestForgedSealLeaksNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, st liveStores) {
		e := newLiveEnv(t, st, Config{}, risk.Config{EnumIPSNs: 1000})
		for _, sn := range []string{knownSN, "PAXA92026090005"} {
			status, body := e.verifyRaw(e.forge(sn))
			var got map[string]any
			if err := json.Unmarshal(body, &got); status != 200 || err != nil {
				t.Fatalf("verify %s: %d %s", sn, status, body)
			}
			if got["verdict"] != "forged" {
				t.Fatalf("verdict %v, want forged", got["verdict"])
			}
			delete(got, "verdict")
			delete(got, "reason")
			if len(got) > 0 {
				t.Fatalf("forged seal for %s tells %v", sn, got)
			}
		}
		for i := range 40 {
			if status, body := e.verifyRaw(e.forge(fmt.Sprintf("FAKE%06d", i))); status != 200 {
				t.Fatalf("forged seal %d: %d %s", i, status, body)
			}
		}
		cs := e.cases()
		perRule := map[risk.Rule]int{}
		for _, c := range cs {
			perRule[c.Rule]++
		}
		for r, n := range perRule {
			if n > 1 {
				t.Errorf("%d %s cases from one anonymous client", n, r)
			}
		}
		if perRule[risk.RuleForgedLabel] != 1 {
			t.Errorf("forged_label cases %d, want 1 (with the hits): %+v", perRule[risk.RuleForgedLabel], cs)
		}
	})
}

// TestHostileClientText: item 6. Invalid UTF-8, a character cut in half
// and a NaN location in headers neither switch risk monitoring off nor
// break the review queue.
func TestHostileClientText(t *testing.T) {
	for _, tt := range []struct{ name, header string }{
		{"invalid byte", "X-App-Version: \xff"},
		{"cut character", "X-App-Version: " + strings.Repeat("a", 127) + "中"[:2]},
		{"escape sequence", "X-App-Version: v1\x1b[2J"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, st liveStores) {
				e := newLiveEnv(t, st, Config{}, risk.Config{EnumIPSNs: 5, EnumWindow: time.Minute, EnumPenalty: time.Minute})
				throttled := false
				for i := range 20 {
					status, body := e.verifyRaw(e.forge(fmt.Sprintf("FAKE%06d", i)), tt.header)
					if status == 429 {
						throttled = true
						break
					}
					if status != 200 {
						t.Fatalf("verify %d: %d %s", i, status, body)
					}
				}
				cs := e.cases()
				if !throttled || len(cs) == 0 {
					t.Fatalf("20 forged seals with %q: throttled %v, %d cases; risk events were not recorded", tt.header, throttled, len(cs))
				}
				k, err := e.mon.Case(t.Context(), cs[0].ID)
				if err != nil || len(k.Evidence) == 0 {
					t.Fatalf("case %d: %v", cs[0].ID, err)
				}
				if v := k.Evidence[0].AppVersion; !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\x1b") || utf8.RuneCountInString(v) > 128 {
					t.Fatalf("stored app version %q", v)
				}
			})
		})
	}
	t.Run("NaN location", func(t *testing.T) {
		eachStore(t, func(t *testing.T, st liveStores) {
			e := newLiveEnv(t, st, Config{}, risk.Config{})
			if status, body := e.verifyRaw(e.forge(knownSN), "X-Location: NaN,NaN"); status != 200 {
				t.Fatalf("verify: %d %s", status, body)
			}
			cs := e.cases()
			if len(cs) == 0 {
				t.Fatal("no case for a forged seal")
			}
			resp, body, err := e.raw(fmt.Sprintf("GET /api/v1/cases/%d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s", cs[0].ID, e.tokens["admin"]), nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("case with the event: %v %v %s", resp, err, body)
			}
			if bytes.Contains(body, []byte(`"lat"`)) {
				t.Fatalf("a NaN location was stored: %s", body)
			}
		})
	})
}

// TestComplaintPhotoFlood: item 7. A merchant key posting 5 MB of random
// bytes behind a PNG signature gets 422 and stores nothing; real photos
// are stored re-encoded, within the merchant's daily quota.
func TestComplaintPhotoFlood(t *testing.T) {
	eachStore(t, func(t *testing.T, st liveStores) {
		e := newLiveEnv(t, st, Config{}, risk.Config{PhotosPerDay: 3})
		post := func(photo []byte) (int, []byte) {
			body := multipartOf(t, map[string]string{"sn": knownSN, "category": "counterfeit", "text": "标签可疑"}, "photo", "p.png", "image/png", photo)
			resp, b, err := e.raw(fmt.Sprintf("POST /api/v1/complaints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d",
				e.tokens["m1"], body.contentType, body.buf.Len()), body.buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			return resp.StatusCode, b
		}
		for i := range 3 {
			noise := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 5<<20-1<<10)...)
			rand.Read(noise[8:])
			if status, body := post(noise); status != 422 {
				t.Fatalf("random PNG %d: %d %.200s", i, status, body)
			}
		}
		cs, err := e.mon.Complaints(t.Context(), "M001")
		if err != nil || len(cs) != 0 {
			t.Fatalf("complaints after random PNGs: %d, %v", len(cs), err)
		}
		photo := pngOf(t, image.NewGray(image.Rect(0, 0, 640, 480)))
		for i := range 3 {
			if status, body := post(photo); status != 201 {
				t.Fatalf("photo %d: %d %s", i, status, body)
			}
		}
		if status, body := post(photo); status != 429 {
			t.Fatalf("photo past the daily quota: %d %s", status, body)
		}
		cs, _ = e.mon.Complaints(t.Context(), "M001")
		for _, c := range cs {
			if c.PhotoType != "image/jpeg" || c.PhotoSize == 0 {
				t.Fatalf("stored photo %q of %d bytes", c.PhotoType, c.PhotoSize)
			}
		}
	})
}
