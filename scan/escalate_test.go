package scan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
)

// hardPhotos generates n label photos the fast path finds hard: small
// labels in large frames, defocused, with glare, any rotation.
func hardPhotos(t testing.TB, seed uint64, n int) []synthPhoto {
	rng := rand.New(rand.NewPCG(seed, 11))
	var out []synthPhoto
	for i := range n {
		spec := randomSpec(rng)
		spec.QR = "" // the SN must come from the bars
		ps := randomPhoto(rng, []float64{12, 3}[i%2])
		ps.Frac = 0.3 + 0.15*rng.Float64()
		ps.Blur = 1
		ps.Glare = true
		ps.Angle = rng.Float64() * 2 * math.Pi
		ps.Quality = 60 + rng.IntN(30)
		out = append(out, synthPhoto{
			name: fmt.Sprintf("%02d_%dx%d_a%.0f_f%.2f_b%d", i, ps.W, ps.H, ps.Angle*180/math.Pi, ps.Frac, ps.Blur),
			spec: spec,
			data: photograph(t, rng, renderLabel(t, spec), ps),
		})
	}
	return out
}

// foundSN reports whether res holds the photo's SN (its first line).
func foundSN(res *Result, ph synthPhoto) bool {
	if res == nil {
		return false
	}
	for _, c := range res.Codes {
		if c.Text == ph.spec.Lines[0] {
			return true
		}
	}
	return false
}

// TestEscalationFindsMore scans hard generated photos with the fast path
// alone and with escalation (a budget large enough for every stage to
// run, so the outcome does not depend on the machine's speed), and checks
// that escalation finds SNs the fast path misses.
func TestEscalationFindsMore(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: generates and scans 12 MP photos")
	}
	photos := hardPhotos(t, 5, 8)
	fast := New(Options{EscalationBudget: -1, Timeout: time.Minute})
	slow := New(Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
	ctx := context.Background()
	var nFast, nSlow int
	for _, ph := range photos {
		rf, _ := fast.Scan(ctx, ph.data)
		rs, _ := slow.Scan(ctx, ph.data)
		f, s := foundSN(rf, ph), foundSN(rs, ph)
		if f && !s {
			t.Errorf("%s: fast path found the SN, escalation lost it", ph.name)
		}
		nFast, nSlow = nFast+btoi(f), nSlow+btoi(s)
		var stages []string
		if rs != nil && rs.Trace != nil {
			for _, st := range rs.Trace.Stages {
				stages = append(stages, fmt.Sprintf("%s:%d", st.Name, st.Found))
			}
			t.Logf("%s: fast %v, escalated %v (%s) %v", ph.name, f, s, rs.Trace.Stop, stages)
		}
	}
	t.Logf("SN found: fast path %d of %d, with escalation %d", nFast, len(photos), nSlow)
	if nSlow <= nFast {
		t.Errorf("escalation found %d SNs, the fast path alone %d", nSlow, nFast)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// blankPhoto is a JPEG with nothing to read but texture, so the fast
// path finds nothing and the scan escalates.
func blankPhoto(t testing.TB) []byte {
	ps := photoSpec{W: 1600, H: 1200, Frac: 0.3, Noise: 4, Quality: 85}
	empty := labelSpec{}
	rng := rand.New(rand.NewPCG(3, 3))
	return photograph(t, rng, renderLabel(t, empty), ps)
}

// TestTrace checks the stage trace: a clean photo stops after the fast
// path with "found"; a photo with nothing on it escalates, its stages in
// order, and stops when the stages are exhausted or the budget ends.
func TestTrace(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 4))
	spec := labelSpec{QR: "https://posid.example/v/12345678901234", Lines: []string{"AB12345678", "356938035643809"}, Names: []string{"SN", "IMEI"}}
	clean := photograph(t, rng, renderLabel(t, spec), photoSpec{W: 1600, H: 1200, Frac: 0.7, Noise: 2, Quality: 90})
	res, err := New(Options{}).Scan(ctx, clean)
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Trace
	if tr == nil || len(tr.Stages) == 0 || tr.Stages[0].Name != "fast" {
		t.Fatalf("clean photo: trace %+v, want a first stage \"fast\"", tr)
	}
	if len(res.Codes) != 3 || tr.Stop != StopFound || tr.Escalated || tr.Stages[0].Found != len(res.Codes) {
		t.Errorf("clean photo: stop %q, escalated %v, fast found %d of %d codes", tr.Stop, tr.Escalated, tr.Stages[0].Found, len(res.Codes))
	}

	blank := blankPhoto(t)
	res, err = New(Options{EscalationBudget: time.Minute, Timeout: 2 * time.Minute}).Scan(ctx, blank)
	if !errors.Is(err, ErrNoBarcode) {
		t.Fatalf("blank photo: err %v, want ErrNoBarcode", err)
	}
	tr = res.Trace
	if tr == nil || !tr.Escalated || tr.Stop != StopExhausted || len(tr.Stages) < 2 {
		t.Fatalf("blank photo: trace %+v, want escalated stages, exhausted", tr)
	}
	seen := map[string]bool{}
	for _, st := range tr.Stages {
		if seen[st.Name] || st.MS < 0 || st.Found != 0 || st.Tried < 0 {
			t.Errorf("blank photo: stage %+v (repeated, negative or finding codes)", st)
		}
		seen[st.Name] = true
	}
	if !seen["rows-working"] || !seen["pyramid"] {
		t.Errorf("blank photo: stages %+v lack rows-working or pyramid", tr.Stages)
	}
	if res.Partial {
		t.Error("blank photo: Partial although every stage ran")
	}
}

// TestEscalationBudget checks that the budget option, negative budgets and
// the scan's deadline stop the scan, and that the trace says which did.
func TestEscalationBudget(t *testing.T) {
	ctx := context.Background()
	blank := blankPhoto(t)
	for _, tc := range []struct {
		name   string
		opts   Options
		stop   StopReason
		stages int // most stages in the trace
	}{
		{"tiny budget", Options{EscalationBudget: time.Nanosecond}, StopBudget, 1},
		{"no escalation", Options{EscalationBudget: -1}, StopExhausted, 1},
		{"deadline", Options{Timeout: time.Nanosecond}, StopCancelled, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := New(tc.opts).Scan(ctx, blank)
			if err == nil {
				t.Fatal("blank photo decoded")
			}
			if res == nil || res.Trace == nil {
				t.Fatalf("no trace (err %v)", err)
			}
			tr := res.Trace
			if tr.Stop != tc.stop || len(tr.Stages) > tc.stages {
				t.Errorf("stop %q after %d stages %+v, want %q after at most %d", tr.Stop, len(tr.Stages), tr.Stages, tc.stop, tc.stages)
			}
			if tc.stop == StopCancelled && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err %v, want the deadline", err)
			}
			if (tc.stop == StopBudget || tc.stop == StopCancelled) != res.Partial {
				t.Errorf("Partial %v with stop %q", res.Partial, tr.Stop)
			}
		})
	}
}

// TestEscalationBudgetScales checks the budget's share by photo size.
func TestEscalationBudgetScales(t *testing.T) {
	for _, tc := range []struct {
		opt  time.Duration
		w, h int
		want time.Duration
	}{
		{0, 4000, 3000, DefaultEscalationBudget},
		{0, 8000, 6000, DefaultEscalationBudget},
		{0, 2000, 1500, DefaultEscalationBudget},
		{0, 1000, 1000, DefaultEscalationBudget / 2},
		{0, 400, 300, time.Duration(float64(DefaultEscalationBudget) * minEscalationShare)},
		{time.Second, 4000, 3000, time.Second},
		{-1, 4000, 3000, -1},
	} {
		if got := escalationBudget(tc.opt, tc.w, tc.h); got != tc.want {
			t.Errorf("escalationBudget(%v, %d, %d) = %v, want %v", tc.opt, tc.w, tc.h, got, tc.want)
		}
	}
}

// TestEscalationIMEIAlone checks that an IMEI read alone does not explain
// a photo: the label's SN code is still to be found.
func TestEscalationIMEIAlone(t *testing.T) {
	add := func(ses *session, text string, f gozxing.BarcodeFormat) {
		pts := []gozxing.ResultPoint{gozxing.NewResultPoint(10, 10), gozxing.NewResultPoint(200, 10)}
		if !ses.add(gozxing.NewResult(text, nil, pts, f), []Point{{10, 10}, {200, 10}, {200, 40}, {10, 40}}, minRowHits) {
			t.Fatalf("code %q not added", text)
		}
	}
	ses := newSession(newFormatSet(nil))
	e := &escalation{ses: ses}
	add(ses, "860902693341444", gozxing.BarcodeFormat_CODE_128)
	if e.settled() || e.done() {
		t.Fatal("an IMEI alone explains the photo")
	}
	add(ses, "63822895526347609626", gozxing.BarcodeFormat_CODE_128)
	if !e.settled() || !e.done() {
		t.Fatal("an SN beside the IMEI does not explain the photo")
	}
}

// TestEscalationPassesOver checks that a whole-photo stage too slow for
// the budget left is passed over rather than ending the scan: the stages
// after it (the regional ones, which stop at the budget's end, and cheaper
// whole-photo ones) still run, and the stop says the budget cut the scan.
func TestEscalationPassesOver(t *testing.T) {
	e := &escalation{ses: newSession(newFormatSet(nil)), trace: &Trace{}}
	ran := map[string]bool{}
	mk := func(name string, cost float64) *stage {
		return &stage{name: name, cost: cost, run: func(context.Context) int {
			ran[name] = true
			return 1
		}}
	}
	stages := []*stage{mk("cheap", 0.1), mk("slow", 1e6), mk("after", 0.1)}
	stop := e.run(context.Background(), time.Second, time.Millisecond, stages)
	if !ran["cheap"] || ran["slow"] || !ran["after"] {
		t.Errorf("stages run %v, want cheap and after", ran)
	}
	if stop != StopBudget {
		t.Errorf("stop %q, want %q", stop, StopBudget)
	}
}
