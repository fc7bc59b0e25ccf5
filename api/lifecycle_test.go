package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/registry"
)

// TestDeviceCacheInvalidation checks that writes through the server show
// at once in later reads, despite the read cache.
func TestDeviceCacheInvalidation(t *testing.T) {
	e := newEnv(t, Config{DeviceCacheTTL: time.Hour})
	status := func() registry.Status {
		_, body := e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0003"})
		var v DeviceView
		json.Unmarshal(body, &v)
		return v.Status
	}
	if s := status(); s != registry.StatusProvisioned {
		t.Fatalf("status %s", s)
	}
	e.do(t, "warehouse", jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "shipped"}))
	if s := status(); s != registry.StatusShipped {
		t.Fatalf("after status change: %s", s)
	}
	e.do(t, "admin", req{method: "POST", path: "/api/v1/imports?mode=upsert", contentType: "text/csv",
		body: []byte("sn,model,manufacturer,supplier_code\nPAX0003,A930,PAX,SUP1\n")})
	_, body := e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0003"})
	if !strings.Contains(string(body), `"model":"A930"`) {
		t.Fatalf("after import: %s", body)
	}
	// A write behind the server's back shows once the TTL has passed; with
	// a TTL of an hour it does not, which is what the TTL documents.
	before := status()
	if _, err := e.db.Store().SetStatus(context.Background(), "test", "PAX0003", registry.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	if s := status(); s != before {
		t.Fatalf("external write visible before the TTL: %s", s)
	}
}

// TestGracefulShutdown starts a slow scan, shuts the server down and
// checks that the scan still gets its answer.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t, Config{})
	bs := blockingScanner{started: make(chan struct{}, 1), release: make(chan struct{})}
	e.srv.deps.Scanner = bs
	base := e.live(t)
	got := make(chan int, 1)
	go func() {
		hr, _ := http.NewRequest("POST", base+"/api/v1/scans", strings.NewReader(string(qrPNG(t, "x", 2))))
		hr.Header.Set("Content-Type", "image/png")
		hr.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			got <- -1
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	<-bs.started
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- e.srv.Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	close(bs.release)
	if s := <-got; s != 422 {
		t.Fatalf("in-flight scan: status %d, want its answer (422 no barcode)", s)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still accepts connections after shutdown")
	}
}

// TestProxyHeader checks that the client address comes from the proxy
// header only when the proxy is trusted.
func TestProxyHeader(t *testing.T) {
	for _, tc := range []struct {
		trusted []string
		want    string
	}{
		{[]string{"0.0.0.0/0"}, "203.0.113.9"},
		{[]string{"10.9.9.9"}, "0.0.0.0"},
	} {
		e := newEnv(t, Config{ProxyHeader: "X-Forwarded-For", TrustedProxies: tc.trusted})
		hr, _ := http.NewRequest("GET", "/api/v1/devices/PAX0001", nil)
		hr.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		hr.Header.Set("X-Forwarded-For", "203.0.113.9")
		if _, err := e.srv.App().Test(hr); err != nil {
			t.Fatal(err)
		}
		es, _, _ := e.db.Audit().List(context.Background(), auditFilter("device.read"))
		if len(es) != 1 || es[0].ClientIP != tc.want {
			t.Errorf("trusted %v: audit rows %+v, want client %s", tc.trusted, es, tc.want)
		}
	}
}

// TestAsyncReadAudit checks that queued read audits reach the log and that
// reveals stay synchronous.
func TestAsyncReadAudit(t *testing.T) {
	e := newEnv(t, Config{AsyncReadAudit: true})
	b := audit.NewBatcher(e.db.Audit())
	e.srv.useAudit(b)
	for i := 0; i < 20; i++ {
		e.do(t, "merchant", req{method: "GET", path: "/api/v1/devices/PAX0001"})
	}
	e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0001?reveal=account"})
	if es, _, _ := e.db.Audit().List(context.Background(), auditFilter("device.reveal_account")); len(es) != 1 {
		t.Fatalf("reveal not audited synchronously: %+v", es)
	}
	b.Close()
	if es, _, _ := e.db.Audit().List(context.Background(), auditFilter("device.read")); len(es) != 20 {
		t.Fatalf("%d read rows after close, want 20", len(es))
	}
}
