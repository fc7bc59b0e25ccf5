package api

import (
	"context"
	"testing"
	"time"

	"posid/scan"
)

// slowScanner decodes nothing and takes until its context ends.
type slowScanner struct{}

func (slowScanner) Scan(ctx context.Context, data []byte) (*scan.Result, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestScanTimeoutRetryAfter: a decode that runs out of time answers 504
// with Retry-After, as an overloaded server should.
func TestScanTimeoutRetryAfter(t *testing.T) {
	e := newEnv(t, Config{ScanTimeout: 50 * time.Millisecond})
	deps := e.srv.deps
	deps.Scanner = slowScanner{}
	srv, err := New(e.srv.cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	resp, body := e.do(t, "admin", rawImage("image/png", samplePNG(t)))
	if resp.StatusCode != 504 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if p := problem(t, resp, body); p.Type != ProblemBase+"timeout" {
		t.Fatalf("type %s", p.Type)
	}
}
