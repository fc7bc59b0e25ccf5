package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"

	"posid/internal/risk"
	"posid/labels"
	"posid/scan"
)

// countingScanner counts the photos it is asked to decode.
type countingScanner struct {
	Scanner
	n atomic.Int64
}

func (s *countingScanner) Scan(ctx context.Context, data []byte) (*scan.Result, error) {
	s.n.Add(1)
	return s.Scanner.Scan(ctx, data)
}

// TestThrottleBeforeDecode: the enumeration penalty is decided by the
// service for every lookup, not by middleware that recognises routes by
// their path. Lookups spelled with a trailing slash are recorded and
// throttled like any other, and a throttled key's photo is refused with
// 429 and Retry-After before it is decoded.
func TestThrottleBeforeDecode(t *testing.T) {
	e := newRiskEnv(t)
	sc := &countingScanner{Scanner: e.s.deps.Scanner}
	e.s.deps.Scanner = sc
	for i := range 5 {
		if st := e.do("GET", fmt.Sprintf("/api/v1/devices/ENUM-%04d/", i), "m3", nil, nil); st != http.StatusNotFound {
			t.Fatalf("lookup %d: %d", i, st)
		}
	}
	if cs := e.cases("rule=" + string(risk.RuleEnumeration)); len(cs) != 1 {
		t.Fatalf("enumeration cases after 5 unknown SNs: %+v", cs)
	}
	photo := multipartOf(t, nil, "image", "label.png", "image/png", labelPNG(t, labels.Label{SN: knownSN, Model: "A920", Supplier: "SUP1", SealURL: e.sealURL(knownSN, "A920")}))
	req := httptest.NewRequest("POST", "/api/v1/scans", bytes.NewReader(photo.buf.Bytes()))
	req.Header.Set(fiber.HeaderContentType, photo.contentType)
	req.Header.Set(fiber.HeaderAuthorization, "Bearer "+e.tokens["m3"])
	res, err := e.s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get(fiber.HeaderRetryAfter) == "" {
		t.Fatalf("throttled photo scan: %d, Retry-After %q", res.StatusCode, res.Header.Get(fiber.HeaderRetryAfter))
	}
	if n := sc.n.Load(); n != 0 {
		t.Fatalf("a throttled caller's photo was decoded %d times", n)
	}
	if st := e.do("POST", "/api/v1/scans", "m1", photo, nil); st != http.StatusOK || sc.n.Load() != 1 {
		t.Fatalf("another merchant's photo scan: %d, %d decodes", st, sc.n.Load())
	}
}
