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

// TestModelBandRealistic scans yardstick photos (tuning seed, hard tier)
// whose SN is a Code 128 of modules under three pixels with a glare spot
// over the middle of its bars: the localiser's bar regions take in paper,
// text and the label's edges, whose swell under the glare makes every
// row of a region follow its bars, and the band of bars slants across
// the region's rows. With a budget large enough for every stage to run,
// the model stage must choose the SN. Skips without zint unless
// POSID_REQUIRE_TOOLS=1.
func TestModelBandRealistic(t *testing.T) {
	if !photogen.HaveZint() {
		if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
			t.Fatal("zint not installed (Debian package zint)")
		}
		t.Skip("zint not installed")
	}
	if testing.Short() {
		t.Skip("slow: generates and scans 2.5 MP photos")
	}
	ctx := context.Background()
	s := scan.New(scan.Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
	sel := scan.Selector{Seal: labels.SealSN, Rules: scan.DefaultRules()}
	for _, i := range []int{2, 34} {
		ph, err := photogen.Generate(ctx, photogen.TuningSeed, photogen.Hard, i, photogen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := s.Scan(ctx, ph.JPEG)
		if res == nil {
			t.Fatalf("%s: no result", ph.Truth.Name)
		}
		got, err := sel.Select(res.Codes)
		if err != nil || got.SN != ph.Truth.SN {
			t.Errorf("%s: SN %q (%v), want %q; trace %+v", ph.Truth.Name, got.SN, err, ph.Truth.SN, res.Trace)
		}
	}
}
