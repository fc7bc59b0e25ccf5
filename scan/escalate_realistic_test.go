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

// escalationCases are photos of the realistic yardstick (tuning seed)
// whose SN the fast path misses and the escalation stages read: an SN
// code the localiser saw in pieces beside a read IMEI, soft bars under
// glare, a negative-looking label; and two the fast path reads, which
// must not change. Seed 2 medium-001 is a label of two stacked Code 128
// (SN over IMEI) that the fast path sees as one 2D region; a whole-photo
// pass then reads the IMEI alone, which must not end the scan. Hard-028
// is a 12 MP photo of a label at a slant over a folded cloth: the soft
// localiser draws the bars out over the cloth's folds, the bars fan out
// and the modules at one end are much wider than at the other.
var escalationCases = []struct {
	tier photogen.Tier
	i    int
	hard bool   // the fast path misses the SN
	seed uint64 // default photogen.TuningSeed
}{
	{photogen.Medium, 23, true, 0},
	{photogen.Medium, 28, true, 0},
	{photogen.Hard, 4, true, 0},
	{photogen.Hard, 24, true, 0},
	{photogen.Hard, 19, false, 0},
	{photogen.Hard, 20, false, 0},
	{photogen.Medium, 1, true, 2},
	{photogen.Hard, 28, true, 0},
}

// TestEscalationRealistic scans yardstick photos with the fast path alone
// and with escalation (a budget large enough for every stage to run, so
// the outcome does not depend on the machine's speed) and checks that
// escalation chooses the SN the fast path misses. Skips without zint
// unless POSID_REQUIRE_TOOLS=1.
func TestEscalationRealistic(t *testing.T) {
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
	fast := scan.New(scan.Options{EscalationBudget: -1, Timeout: time.Minute})
	slow := scan.New(scan.Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
	sel := scan.Selector{Seal: labels.SealSN, Rules: scan.DefaultRules()}
	chosen := func(res *scan.Result, sn string) bool {
		if res == nil {
			return false
		}
		s, err := sel.Select(res.Codes)
		return err == nil && s.SN == sn
	}
	var nFast, nSlow int
	for _, c := range escalationCases {
		seed := c.seed
		if seed == 0 {
			seed = photogen.TuningSeed
		}
		ph, err := photogen.Generate(ctx, seed, c.tier, c.i, photogen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		rf, _ := fast.Scan(ctx, ph.JPEG)
		rs, _ := slow.Scan(ctx, ph.JPEG)
		f, s := chosen(rf, ph.Truth.SN), chosen(rs, ph.Truth.SN)
		if rs == nil || rs.Trace == nil {
			t.Fatalf("%s: no trace", ph.Truth.Name)
		}
		t.Logf("%s: fast path %v, escalation %v (stop %s, %d stages)", ph.Truth.Name, f, s, rs.Trace.Stop, len(rs.Trace.Stages))
		switch {
		case f && !s:
			t.Errorf("%s: the fast path chose the SN, escalation lost it", ph.Truth.Name)
		case !c.hard && !f:
			t.Errorf("%s: the fast path no longer chooses the SN", ph.Truth.Name)
		case c.hard && f:
			t.Logf("%s: the fast path now chooses the SN; pick a harder photo", ph.Truth.Name)
		}
		if f && rs.Trace.Escalated {
			t.Errorf("%s: escalated although the fast path chose the SN (%+v)", ph.Truth.Name, rs.Trace.Stages)
		}
		nFast, nSlow = nFast+btoi(f), nSlow+btoi(s)
	}
	t.Logf("SN chosen: fast path %d of %d, with escalation %d", nFast, len(escalationCases), nSlow)
	if nSlow < nFast+3 {
		t.Errorf("escalation chose %d SNs, the fast path %d; want at least 3 more", nSlow, nFast)
	}
}
