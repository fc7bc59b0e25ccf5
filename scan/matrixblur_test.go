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

// blurredMatrixCases are photos of the realistic yardstick (tuning seed)
// whose SN only a URL QR code carries readably: its Code 128s are blurred
// past reading. In the 2–3 MP ones the QR (modules of about 4.5 px blurred
// by σ ≈ 1.8 px, 0.4 of a module, under sensor noise and glare) is located
// in pieces, gozxing's binarizers break its finder patterns' runs, and the
// module size measured along the image's rows misjudges its version.
var blurredMatrixCases = []struct {
	tier photogen.Tier
	i    int
}{
	{photogen.Hard, 14}, // 2.2 MP, QR turned by 15°
	{photogen.Hard, 15}, // 2.8 MP, QR turned by 39°, perspective
	// 12 MP, QR of 9–14 px modules blurred by σ ≈ 4.7 px: no localiser
	// that measures on the full image finds the label (stage
	// working-located).
	{photogen.Hard, 26},
}

// TestBlurredMatrixRealistic scans the photos with a budget large enough
// for every stage to run (so the outcome does not depend on the machine's
// speed) and checks that the SN is chosen. Skips without zint unless
// POSID_REQUIRE_TOOLS=1.
func TestBlurredMatrixRealistic(t *testing.T) {
	if !photogen.HaveZint() {
		if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
			t.Fatal("zint not installed (Debian package zint)")
		}
		t.Skip("zint not installed")
	}
	if testing.Short() {
		t.Skip("slow: generates and scans 2–12 MP photos")
	}
	ctx := context.Background()
	slow := scan.New(scan.Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
	sel := scan.Selector{Seal: labels.SealSN, Rules: scan.DefaultRules()}
	for _, c := range blurredMatrixCases {
		ph, err := photogen.Generate(ctx, photogen.TuningSeed, c.tier, c.i, photogen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Run(ph.Truth.Name, func(t *testing.T) {
			res, err := slow.Scan(ctx, ph.JPEG)
			if err != nil || res.Trace == nil {
				t.Fatalf("scan: %v", err)
			}
			var by string
			for _, st := range res.Trace.Stages {
				if st.Found > 0 {
					by = st.Name
				}
			}
			s, err := sel.Select(res.Codes)
			if err != nil || s.SN != ph.Truth.SN {
				t.Fatalf("SN %q (%v), want %q; codes %v, stages %+v", s.SN, err, ph.Truth.SN, res.Codes, res.Trace.Stages)
			}
			t.Logf("SN read by stage %s (stop %s)", by, res.Trace.Stop)
		})
	}
}
