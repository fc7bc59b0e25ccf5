package scan_test

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"runtime"
	"testing"
	"time"

	"posid/internal/photogen"
	"posid/scan"
)

// TestSpareCores: a Governor lends GOMAXPROCS less one cores, one to a
// caller, without waiting, and takes them back.
func TestSpareCores(t *testing.T) {
	g := scan.NewGovernor(0)
	var releases []func()
	for {
		release, ok := scan.SpareCore(g)
		if !ok {
			break
		}
		releases = append(releases, release)
	}
	if want := runtime.GOMAXPROCS(0) - 1; len(releases) != want {
		t.Fatalf("lent %d spare cores, want %d", len(releases), want)
	}
	for _, r := range releases {
		r()
	}
	if release, ok := scan.SpareCore(g); ok != (len(releases) > 0) {
		t.Fatalf("after every core came back: ok %v", ok)
	} else if ok {
		release()
	}
}

// TestEscalationLanes scans yardstick photos whose SN a late stage reads
// (seed 7 hard 79: matrix-tight; 32 and 39: model-bars or model-refined,
// whichever lane reaches it first; 47: a code the coarse stage places,
// from the plan the spare core works out ahead), with a spare core (two
// lanes) and without (one), each with a budget long enough for every
// stage, and checks that both read the SN and that the trace names the
// lanes. Run with -race (as .ci/run does for two photos), it checks that
// the lanes and the plan worked out ahead share no state they change:
//
//	go test -race -run TestEscalationLanes ./scan
//
// Skips without zint unless POSID_REQUIRE_TOOLS=1.
func TestEscalationLanes(t *testing.T) {
	needZint(t, "generates and scans 2–12 MP photos")
	ctx := context.Background()
	for _, i := range []int{79, 32, 39, 47} {
		ph, err := photogen.Generate(ctx, 7, photogen.Hard, i, photogen.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cores := range []int64{1, 0} {
			t.Run(fmt.Sprintf("%s/cores=%d", ph.Truth.Name, cores), func(t *testing.T) {
				g := scan.NewGovernor(0)
				scan.SetSpareCores(g, cores)
				s := scan.New(scan.Options{Governor: g, EscalationBudget: time.Minute, Timeout: 2 * time.Minute})
				res, err := s.Scan(ctx, ph.JPEG)
				if err != nil {
					t.Fatal(err)
				}
				read := false
				for _, code := range res.Codes {
					read = read || code.Text == ph.Truth.SN
				}
				lanes := map[int]string{}
				for _, st := range res.Trace.Stages {
					if st.Found > 0 || lanes[st.Lane] == "" {
						lanes[st.Lane] = st.Name
					}
				}
				t.Logf("stop %s; last stage or finder by lane: %v", res.Trace.Stop, lanes)
				if !read {
					t.Errorf("SN %s not read; codes %v, stages %+v", ph.Truth.SN, res.Codes, res.Trace.Stages)
				}
				if cores == 0 && len(lanes) != 1 {
					t.Errorf("one lane: stages in lanes %v", lanes)
				}
				if cores == 1 && (lanes[1] == "" || lanes[2] == "") {
					t.Errorf("two lanes: stages in lanes %v", lanes)
				}
			})
		}
	}
}

// TestPlanCoarseStops works out the coarse stage's plan for seed 7 hard
// 47 (a code placed in a 2D region) and checks that it places codes, and
// that a plan whose context has ended finds the same regions and places
// none: the spare core stops working on it when the scan ends first.
// Skips without zint unless POSID_REQUIRE_TOOLS=1.
func TestPlanCoarseStops(t *testing.T) {
	needZint(t, "generates a 12 MP photo")
	ctx := context.Background()
	ph, err := photogen.Generate(ctx, 7, photogen.Hard, 47, photogen.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(ph.JPEG))
	if err != nil {
		t.Fatal(err)
	}
	regions, placed := scan.PlanCoarse(ctx, img)
	if regions == 0 || placed == 0 {
		t.Fatalf("plan: %d regions, %d codes placed; want some of each", regions, placed)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if r, p := scan.PlanCoarse(done, img); r != regions || p != 0 {
		t.Errorf("plan after its context ended: %d regions, %d codes placed; want %d and 0", r, p, regions)
	}
}
