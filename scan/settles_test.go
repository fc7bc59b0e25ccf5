package scan_test

import (
	"context"
	"os"
	"testing"
	"time"

	"posid/internal/photogen"
	"posid/labels"
	"posid/scan"
)

// TestSettlesOnSN scans a tuning photo (seed 2, medium, photo 19) whose
// fast path misreads the blurred SN Code 128 as a UPC-E: with
// Options.Settles given the selector's test, as posid serve and posid scan
// do, the scan escalates past the misread and finds the SN; before, the
// UPC-E ended it with no SN.
func TestSettlesOnSN(t *testing.T) {
	if !photogen.HaveZint() {
		if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
			t.Fatal("zint not installed (Debian package zint)")
		}
		t.Skip("zint not installed")
	}
	ctx := context.Background()
	ph, err := photogen.Generate(ctx, 2, photogen.Medium, 19, photogen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sel := scan.Selector{Seal: labels.SealSN, Rules: scan.DefaultRules()}
	// A generous budget: the test counts the read, not its time.
	sc := scan.New(scan.Options{Timeout: time.Minute, EscalationBudget: 4 * scan.DefaultEscalationBudget, Settles: sel.Settles})
	res, err := sc.Scan(ctx, ph.JPEG)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sel.Select(res.Codes)
	if err != nil || s.SN != ph.Truth.SN {
		t.Fatalf("SN %q (%v), want %s; codes %+v; trace %+v", s.SN, err, ph.Truth.SN, res.Codes, res.Trace)
	}
	if !res.Trace.Escalated {
		t.Errorf("the SN was found without escalating: the photo no longer tests Settles")
	}
}
