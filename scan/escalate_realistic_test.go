package scan_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"posid/internal/photogen"
	"posid/labels"
	"posid/scan"
)

// escalationCases are photos of the realistic yardstick (tuning seed
// unless given) whose SN the fast path misses and the escalation stages
// read, and two the fast path reads, which must not change. The cases
// marked must are each a regression test of one stage; the others count
// together (see TestEscalationRealistic).
var escalationCases = []struct {
	tier photogen.Tier
	i    int
	hard bool   // the fast path misses the SN
	seed uint64 // default photogen.TuningSeed
	must bool   // escalation must choose the SN
}{
	// An SN code the localiser saw in pieces beside a read IMEI, soft
	// bars under glare, a negative-looking label.
	{photogen.Medium, 23, true, 0, false},
	{photogen.Medium, 28, true, 0, false},
	{photogen.Hard, 4, true, 0, false},
	{photogen.Hard, 24, true, 0, false},
	{photogen.Hard, 19, false, 0, false},
	{photogen.Hard, 20, false, 0, false},
	// Two stacked Code 128 (SN over IMEI) that the fast path sees as one
	// 2D region; a whole-photo pass then reads the IMEI alone, which must
	// not end the scan.
	{photogen.Medium, 1, true, 2, false},
	// 12 MP, a label at a slant over a folded cloth: the soft localiser
	// draws the bars out over the cloth's folds, the bars fan out and the
	// modules at one end are much wider than at the other (stage
	// model-perspective).
	{photogen.Hard, 28, true, 0, true},
	// Code 128 of modules under three pixels with a glare spot over its
	// bars: the bar regions take in paper, text and the label's edges,
	// whose swell under the glare makes every row follow the bars, and
	// the band of bars slants across the region's rows (model-bars, by
	// the band of bars).
	{photogen.Hard, 2, true, 0, true},
	{photogen.Hard, 34, true, 0, true},
	// 2.1 MP, Code 128 of 2.1 px modules blurred by σ ≈ 0.9 module: only
	// the pyramid's finer scale locates its bars, after the model stage
	// has run (pyramid-model).
	{photogen.Hard, 66, true, 0, true},
	// The SN only in a URL QR whose Code 128s are blurred past reading.
	// At 2–3 MP the QR (modules of about 4.5 px blurred by σ ≈ 1.8 px,
	// under noise and glare) is located in pieces, gozxing's binarizers
	// break its finder patterns' runs and the module size measured along
	// the rows misjudges its version (matrix-denoised): 2.2 MP turned by
	// 15°, 2.8 MP turned by 39° with perspective. At 12 MP (QR modules of
	// 9–14 px blurred by σ ≈ 4.7 px) no localiser that measures on the
	// full image finds the label (working-located).
	{photogen.Hard, 14, true, 0, true},
	{photogen.Hard, 15, true, 0, true},
	{photogen.Hard, 26, true, 0, true},
	// 12 MP, dim labels on a dark background blurred by about half a
	// module: no localiser with a fixed texture threshold finds their
	// bars (faint, then model-bars and model-perspective).
	{photogen.Hard, 67, true, 0, true},
	{photogen.Hard, 90, true, 0, true},
	// 2–3 MP, a glare over the middle of the SN code: the band of bars,
	// measured across the whole window, slants with the background
	// beside the code; measured across the cut to the bars, it reads
	// (model-bars).
	{photogen.Hard, 78, true, 0, true},
	// 2.5 MP, a glare at 78 % toward white over the middle of a Code 128
	// on a label turned by 63° with perspective: the band of bars must be
	// read with levels that change along the code and with its pitch
	// evened out, both at once (model-perspective, by the band of bars).
	{photogen.Hard, 31, true, 0, true},
	// 12 MP, a URL QR of 9–10 px modules blurred by σ ≈ 4.5 px with its
	// Code 128s blurred past reading: the denoised thresholds hollow out
	// its finder patterns at full resolution, the plain threshold of its
	// modules leaves more errors than Reed–Solomon corrects
	// (matrix-halved: half resolution, modules decided against the blur;
	// the label of hard 60 is located as one region, too large for a
	// symbol's square).
	{photogen.Hard, 60, true, 0, true},
	{photogen.Hard, 84, true, 0, true},
	// A glare over the middle of a Code 128 whose region the localiser
	// drew out across the photo along a textured background (12 MP, dim,
	// an SN over an IMEI) or whose band of bars leaves the window's middle
	// rows (2.3 MP, modules of 2.2 px): the photo's noise looks like fine
	// bars along the whole window until its rows are averaged along the
	// bars (barSpan), the band shows only in rows averaged with their
	// neighbours (barBand), and the background beside the label makes
	// ends that fit a start and a stop better than the quiet zones do
	// (spreadTries).
	{photogen.Hard, 0, true, 0, true},
	{photogen.Hard, 47, true, 0, true},
	// 12 MP, a label 36 % of the frame wide at a slant: a Code 128 of
	// 8.7 px modules blurred by about half a module, wider than the
	// model reader used to try (model-bars; seed 3, a validation seed).
	{photogen.Hard, 57, true, 3, true},
	// 2.8–2.9 MP, the SN in a 16×16 Data Matrix of about 5 px modules
	// blurred by under half a module, beside a Code 128 blurred past
	// reading: the outline found on the bitmap sits up to half a module
	// off, too far for the modules to be read from the bitmap; from the
	// grey, with the corners moved to fit the border, both read once their
	// modules are decided against the blur.
	{photogen.Hard, 43, true, 0, true},
	{photogen.Hard, 80, true, 0, true},
	// 2.5 MP, an SN over an IMEI, both Code 128 of 2.4 px modules blurred
	// by 0.8 module, the label upside down: the two codes are located as
	// one bar region, whose model read takes the IMEI's rows; the SN is
	// read from the rows beside them (model-bars, stackedRest).
	{photogen.Hard, 72, true, 0, true},
	// 2.1 MP, the SN in a sharp Data Matrix (modules of 5 px, σ a
	// quarter of a module) beside a glare, on a noisy background that
	// the fast path takes for one region the size of the photo: the soft
	// localiser finds the symbol, but the hybrid binarizer's blocks by
	// the glare break its finder; one threshold for the crop reads it
	// (readMatrix; seed 3, a validation seed).
	{photogen.Hard, 44, true, 3, true},
	// 12 MP, a dim label on a dark, noisy background, the SN in a sharp
	// Data Matrix of 13.7 px modules: the background's noise makes every
	// cell textured to the fast localiser, and the symbol's sparse edges
	// stand out from it neither over softSpan nor for faint; over
	// coarseSpan they do (coarse; seed 5, a second tuning seed).
	{photogen.Hard, 36, true, 5, true},
	// 2.9 MP, the SN in a URL QR of 3.6 px modules blurred by 0.6 of a
	// module (2.2 px) under noise: with its grid placed, neighbouring
	// modules read wrongly in pairs and squares that single-module turns
	// of the equaliser leave (matrix-denoised, blockSweeps; seed 7, a
	// third tuning seed).
	{photogen.Hard, 43, true, 7, true},
	// 2.1 MP, the SN in a Data Matrix at a label's corner over a dark
	// background, under a glare: the squares the 2D reads take around its
	// region hold the background, which joins the symbol's outline; the
	// tighter square of matrix-tight keeps it out (seed 7). Modules of
	// 4.2 px, blur σ 2 px.
	{photogen.Hard, 79, true, 7, true},
	// 2.7–2.8 MP, an SN over an IMEI, Code 128 of 2.2–2.6 px modules
	// blurred by half a module to most of one, the label at a slant: the
	// bar regions run along the bars' normal, which perspective shears
	// off the codes' axis by about 8°, and over the background past the
	// codes; the windows refineBars places on each code read
	// (model-refined, pyramid-model-refined; seed 7).
	{photogen.Hard, 32, true, 7, true},
	{photogen.Hard, 95, true, 7, true},
	// 12 MP, one Code 128 of 3.6–4.8 px modules blurred by about a module
	// (σ 4 px), no glare: only the coarse localiser sees bars, as regions
	// drawn over the photo's length at angles 9° and more off the code's;
	// the codes placed from their own bars read (coarse, placedCodes, then
	// model-bars and model-perspective; seed 7).
	{photogen.Hard, 39, true, 7, true},
	{photogen.Hard, 46, true, 7, true},
	// 12 MP, an SN over an IMEI (hard 26: Code 128 of 5.7 px modules
	// blurred by half a module, under a glare) or an SN alone (hard 94:
	// modules of 8.4 px blurred by 0.4 of one, glare, dark background):
	// placed windows 1.3 times the code's length leave too little quiet
	// zone for the model reader to find the symbol's ends; 1.6 times read
	// (model-refined-glare; seed 7).
	{photogen.Hard, 26, true, 7, true},
	{photogen.Hard, 94, true, 7, true},
	// 12 MP, an SN over an IMEI (Code 128 of 3.6 px modules blurred by
	// 0.9 of one, no glare, level): the bars pool with their captions
	// into cells every localiser takes for 2D texture, and no bar region
	// is found; over the coarse localiser's 2D region the bars' direction
	// prevails, and the codes placed in it read (coarse, barsIn2D, then
	// model-refined; seed 7).
	{photogen.Hard, 47, true, 7, true},
	// 2.7 MP, a sharp Code 128 SN (modules of 2.9 px, σ a third of one)
	// stacked over an IMEI, a glare over a third of the SN: the soft
	// localiser's strip over both codes reads the IMEI, and the SN only
	// with the edge reader; the strip must not count as explained by the
	// IMEI, whose bars look like bars to the fast localiser's texture test
	// where the SN's under the glare do not (soft-bars; seed 7).
	{photogen.Hard, 75, true, 7, true},
	// An SN beside an IMEI with a caption between them, under a glare
	// (hard 13: 12 MP, Code 128 of 6.2 px modules blurred by half a
	// module; hard 21: 2.2 MP, 2.2 px modules blurred by 0.8 of one, at a
	// slant): the caption's rows correlate at a third of the bars', and
	// the IMEI's band took the SN's in as its shoulder, so no window was
	// placed on the SN (bands; model-refined-glare; seed 7).
	{photogen.Hard, 13, true, 7, true},
	{photogen.Hard, 21, true, 7, true},
}

// TestEscalationRealistic scans yardstick photos with the fast path alone
// and with escalation (a budget large enough for every stage to run, so
// the outcome does not depend on the machine's speed) and checks that
// escalation chooses the SN the fast path misses. Skips without zint
// unless POSID_REQUIRE_TOOLS=1.
func TestEscalationRealistic(t *testing.T) {
	needZint(t, "generates and scans 2–12 MP photos")
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
		case c.must && !s:
			t.Errorf("%s: escalation did not choose the SN; codes %v, stages %+v", ph.Truth.Name, rs.Codes, rs.Trace.Stages)
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

// TestEscalationReadsNoStrayCode scans yardstick photos on which a reader
// once reported a code the label does not hold, with every stage given
// time to run, and checks that each code read is one of the label's.
// Tuning hard 8 (2.6 MP, Code 128 of 2.7 px modules blurred by half a
// module under a glare): the model reader fitted "\x17:W0yYHaRÞ", which
// also ended the scan. Seed 7 hard 53 (12 MP, an IMEI of 4.2 px modules
// blurred by σ 4.8 px): the model reader with levels free along each
// character fitted a 30-digit text of 1.2 px modules to the IMEI's left
// half, which became the SN, until its reads had to span the code placed
// from the bars (refineFitMin). Skips as TestEscalationRealistic does.
func TestEscalationReadsNoStrayCode(t *testing.T) {
	needZint(t, "generates and scans a photo")
	ctx := context.Background()
	s := scan.New(scan.Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
	for _, c := range []struct {
		tier photogen.Tier
		i    int
		seed uint64
	}{{photogen.Hard, 8, photogen.TuningSeed}, {photogen.Hard, 53, 7}} {
		ph, err := photogen.Generate(ctx, c.seed, c.tier, c.i, photogen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, _ := s.Scan(ctx, ph.JPEG)
		if res == nil {
			t.Fatalf("%s: no result", ph.Truth.Name)
		}
		held := map[string]bool{}
		for _, tc := range ph.Truth.Codes {
			held[tc.Text] = true
		}
		for _, code := range res.Codes {
			if !held[code.Text] {
				t.Errorf("%s: read %s %q, which the label does not hold", ph.Truth.Name, code.Format, code.Text)
			}
		}
	}
}

// TestGreyStagesReadEdges scans yardstick photos whose SN Code 128 the
// row readers miss in every region window and the edge reader reads in
// one, and checks that a bar stage that keeps the windows' grey levels
// (bars-averaged, soft-bars) reads it, before the model stages: seed 7
// hard 48 (2.9 MP, modules of 2.6 px blurred by half a module, a glare)
// and hard 94 (12 MP, modules of 8.4 px blurred by 0.4 of one, a glare
// and a dark background). With the row readers alone there, the model
// reader read them after 2 s or more. Skips as TestEscalationRealistic
// does.
func TestGreyStagesReadEdges(t *testing.T) {
	needZint(t, "generates and scans 2–12 MP photos")
	ctx := context.Background()
	s := scan.New(scan.Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
	grey := map[string]bool{"bars-averaged": true, "sharp-bars": true, "soft-bars": true, "bars-envelope": true}
	for _, i := range []int{48, 94} {
		ph, err := photogen.Generate(ctx, 7, photogen.Hard, i, photogen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Scan(ctx, ph.JPEG)
		if err != nil {
			t.Fatal(err)
		}
		by := ""
		for _, st := range res.Trace.Stages {
			if st.Found > 0 && by == "" {
				by = st.Name
			}
		}
		read := slices.ContainsFunc(res.Codes, func(c scan.Code) bool { return c.Text == ph.Truth.SN })
		if !read || !grey[by] {
			t.Errorf("%s: SN read %v, first code found by stage %q; stages %+v", ph.Truth.Name, read, by, res.Trace.Stages)
		}
	}
}
