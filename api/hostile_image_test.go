package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"posid/internal/risk"
	"posid/internal/sqlite"
	"posid/scan"
	"posid/scan/scantest"
)

// postImage sends body as a raw PNG/JPEG/WebP to url anonymously and
// returns the status, the Retry-After header and the problem.
func postImage(t *testing.T, url, ct string, body []byte) (int, string, Problem) {
	t.Helper()
	resp, err := http.Post(url, ct, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var p Problem
	if resp.StatusCode >= 400 {
		if got := resp.Header.Get("Content-Type"); got != problemContentType {
			t.Fatalf("status %d with Content-Type %q: %.200s", resp.StatusCode, got, data)
		}
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("problem: %v: %.200s", err, data)
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), p
}

// TestHostileImagesLive posts images whose headers ask for absurd memory
// to /api/v1/verify (anonymous) on a listening server: each is refused
// with a problem before decoding, and the server keeps serving. One of
// them (2×19,999,999) killed the process with an out-of-memory fatal
// error.
func TestHostileImagesLive(t *testing.T) {
	e := newEnv(t, Config{})
	base := e.live(t)
	tests := []struct {
		name   string
		ct     string
		data   []byte
		status int
		typ    string
	}{
		{"png gray 2x19999999", "image/png", scantest.PNG(2, 19_999_999, scantest.Gray, 8), 422, "image-shape"},
		{"png gray 1x39999999", "image/png", scantest.PNG(1, 39_999_999, scantest.Gray, 8), 422, "image-shape"},
		{"png gray 39999999x1", "image/png", scantest.PNG(39_999_999, 1, scantest.Gray, 8), 422, "image-shape"},
		{"png rgba16 6300x6300", "image/png", scantest.PNG(6300, 6300, scantest.RGBA, 16), 413, "too-large"},
		{"jpeg progressive 4:4:4 6000x6000", "image/jpeg", scantest.JPEGHeader(6000, 6000, true, 0x11), 413, "too-large"},
		{"webp lossless 6300x6300", "image/webp", scantest.VP8LHeader(6300, 6300), 413, "too-large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, _, p := postImage(t, base+"/api/v1/verify", tc.ct, tc.data)
			if status != tc.status || p.Type != ProblemBase+tc.typ {
				t.Fatalf("got %d %s (%s), want %d %s", status, p.Type, p.Detail, tc.status, tc.typ)
			}
		})
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server after hostile images: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestDecodeMemoryBusy takes the whole decode memory budget, as
// concurrent decodes would: a photo then waits for its share no longer
// than the queue wait and is refused with 503 and Retry-After; once the
// memory is back it is scanned.
func TestDecodeMemoryBusy(t *testing.T) {
	e := newEnv(t, Config{})
	gov := scan.NewGovernor(scan.DefaultDecodeMemory)
	e.srv.deps.Scanner = scan.New(scan.Options{Governor: gov, MemoryWait: 50 * time.Millisecond})
	base := e.live(t)
	photo := scantest.PNG(64, 64, scantest.Gray, 8)

	hold, err := gov.Acquire(context.Background(), gov.Size()-1<<20, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	status, after, p := postImage(t, base+"/api/v1/verify", "image/png", photo)
	if status != 503 || p.Type != ProblemBase+"busy" || after == "" {
		t.Fatalf("with the budget taken: %d %s Retry-After %q (%s), want 503 busy with Retry-After", status, p.Type, after, p.Detail)
	}
	hold()
	if status, _, p := postImage(t, base+"/api/v1/verify", "image/png", photo); status != 422 || p.Type != ProblemBase+"no-barcode" {
		t.Fatalf("with the budget free: %d %s (%s)", status, p.Type, p.Detail)
	}
}

// TestComplaintPhotoSharesDecodeMemory: complaint photos are decoded under
// the server's Scanner, so with its decode memory taken by scans a photo
// gets 503 with Retry-After too, instead of a decode of its own beside
// them; once the memory is back it is filed.
func TestComplaintPhotoSharesDecodeMemory(t *testing.T) {
	gov := scan.NewGovernor(scan.DefaultDecodeMemory)
	e := newEnv(t, Config{}, func(db *sqlite.DB, deps *Deps) {
		deps.Scanner = scan.New(scan.Options{Governor: gov, MemoryWait: 50 * time.Millisecond})
		deps.Risk = risk.NewMonitor(db.RiskStore(), risk.Config{}, nil)
	})
	photo := string(scantest.PNG(64, 64, scantest.Gray, 8))
	hold, err := gov.Acquire(context.Background(), gov.Size()-1<<20, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do(t, "merchant", complaintReq(photo))
	hold()
	if p := problem(t, resp, body); resp.StatusCode != 503 || p.Type != ProblemBase+"busy" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("with the decode memory taken: %d %s Retry-After %q (%s), want 503 busy with Retry-After", resp.StatusCode, p.Type, resp.Header.Get("Retry-After"), p.Detail)
	}
	if resp, body := e.do(t, "merchant", complaintReq(photo)); resp.StatusCode != 201 {
		t.Fatalf("with the decode memory free: %d %s", resp.StatusCode, body)
	}
}
