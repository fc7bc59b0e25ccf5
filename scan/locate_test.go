package scan

import (
	"math"
	"math/rand/v2"
	"testing"
)

// noisyBars draws a w×h photo of a dim, noisy background with a label of
// bars across it at angle (radians, the bars' normal), blurred over
// several pixels and under sensor noise of the given sigma, centred at
// (cx, cy).
func noisyBars(w, h int, angle, cx, cy, noise float64) plane {
	rng := rand.New(rand.NewPCG(7, 16))
	// Bar pattern along the normal: modules of 4 px, 1–4 modules wide.
	var pattern []bool
	for len(pattern) < 600 {
		n := 4 * (1 + rng.IntN(4))
		dark := len(pattern)/4%2 == 0
		for range n {
			pattern = append(pattern, dark)
		}
	}
	cos, sin := math.Cos(angle), math.Sin(angle)
	lum := make([]float64, w*h)
	for y := range h {
		for x := range w {
			dx, dy := float64(x)-cx, float64(y)-cy
			u, v := dx*cos+dy*sin, -dx*sin+dy*cos
			val := 35.0 // background
			if math.Abs(u) < 330 && math.Abs(v) < 90 {
				val = 130 // paper, dimly lit
				if i := int(u + 300); i >= 0 && i < len(pattern) && math.Abs(v) < 70 && pattern[i] {
					val = 60 // ink
				}
			}
			lum[y*w+x] = val
		}
	}
	// Blur: two box passes of radius 2 each way (σ ≈ 2 px).
	boxBlurred(lum, w, h, 2)
	return withNoise(lum, w, h, rng, noise)
}

// withNoise returns the w×h image lum as a plane, under sensor noise of
// sigma noise drawn from rng.
func withNoise(lum []float64, w, h int, rng *rand.Rand, noise float64) plane {
	p := newPlane(w, h)
	for i, v := range lum {
		p.pix[i] = uint8(max(0, min(255, v+rng.NormFloat64()*noise)))
	}
	return p
}

// boxBlurred blurs the w×h image lum in place by two passes of a box of
// radius r each way.
func boxBlurred(lum []float64, w, h, r int) {
	tmp := make([]float64, w*h)
	for range 2 {
		for y := range h {
			for x := range w {
				s, n := 0.0, 0
				for k := max(0, x-r); k <= min(w-1, x+r); k++ {
					s += lum[y*w+k]
					n++
				}
				tmp[y*w+x] = s / float64(n)
			}
		}
		for y := range h {
			for x := range w {
				s, n := 0.0, 0
				for k := max(0, y-r); k <= min(h-1, y+r); k++ {
					s += tmp[k*w+x]
					n++
				}
				lum[y*w+x] = s / float64(n)
			}
		}
	}
}

// TestLocateSoft checks that the soft locator (gradients over softSpan
// pixels) finds a blurred, dim label under sensor noise, with the bars'
// direction, where neighbouring-pixel gradients see either nothing or
// noise everywhere.
func TestLocateSoft(t *testing.T) {
	tests := []struct {
		name         string
		angle, noise float64
	}{
		{"level", 0, 7},
		{"turned 30°", math.Pi / 6, 7},
		{"turned -60°", -math.Pi / 3, 6},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const w, h, cx, cy, f = 1600, 1200, 800, 600, 2
			p := noisyBars(w, h, tc.angle, cx, cy, tc.noise)
			found := func(rs []region) bool {
				for _, r := range rs {
					if barLike(r) && math.Hypot(r.cx*f-cx, r.cy*f-cy) < 200 && angleDiff(r.angle, tc.angle) < 0.15 {
						return true
					}
				}
				return false
			}
			if found(locate(p, f)) {
				t.Fatal("the fast locator already finds these bars; the photo tests nothing")
			}
			if !found(locateWith(p, f, softCellEnergy, softSpan)) {
				t.Errorf("soft locator missed the bars: %+v", locateWith(p, f, softCellEnergy, softSpan))
			}
		})
	}
}

// TestLocateFaint checks that the faint locator (softSpan gradients, a
// texture threshold set by the photo's median cell, adaptiveEnergy) finds
// a label whose contrast is too low for the soft locator's fixed
// threshold, and finds nothing in a photo of noise alone.
func TestLocateFaint(t *testing.T) {
	const w, h, cx, cy, f = 1600, 1200, 800, 600, 2
	tests := []struct {
		name     string
		contrast float64 // share of noisyBars' contrast kept
		noise    float64
		label    bool
	}{
		{"dim label", 0.45, 7, true},
		{"dimmer label", 0.35, 5, true},
		{"noise alone", 0, 7, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := noisyBars(w, h, 0.4, cx, cy, tc.noise)
			rng := rand.New(rand.NewPCG(11, 12))
			for i, v := range p.pix {
				// Contrast cut about the background's level; the noise
				// is cut with it and 2 grey levels added back.
				p.pix[i] = uint8(max(0, min(255, 40+tc.contrast*(float64(v)-35)+2*rng.NormFloat64())))
			}
			found := func(rs []region) bool {
				for _, r := range rs {
					if barLike(r) && math.Hypot(r.cx*f-cx, r.cy*f-cy) < 200 && angleDiff(r.angle, 0.4) < 0.15 {
						return true
					}
				}
				return false
			}
			soft := locateWith(p, f, softCellEnergy, softSpan)
			faint := locateWith(p, f, -faintTimes, softSpan)
			if !tc.label {
				if len(faint) > 0 {
					t.Errorf("found %d regions in noise: %+v", len(faint), faint)
				}
				return
			}
			if found(soft) {
				t.Fatal("the soft locator already finds these bars; the photo tests nothing")
			}
			if !found(faint) {
				t.Errorf("faint locator missed the bars: %+v", faint)
			}
		})
	}
}

// sharpBars draws a w×h photo of a label of sharp bars (no blur; each
// pixel averages 3×3 points of the scene, as a sensor integrates) with
// modules of module pixels, the bars' normal at angle (radians), centred.
func sharpBars(w, h int, angle, module float64) plane {
	rng := rand.New(rand.NewPCG(3, 5))
	var pattern []bool
	for len(pattern) < 95 {
		dark := len(pattern) == 0 || !pattern[len(pattern)-1]
		for range 1 + rng.IntN(4) {
			pattern = append(pattern, dark)
		}
	}
	cos, sin := math.Cos(angle), math.Sin(angle)
	half := float64(len(pattern)) * module / 2
	p := newPlane(w, h)
	for y := range h {
		for x := range w {
			sum := 0.0
			for sy := range 3 {
				for sx := range 3 {
					dx := float64(x) + (float64(sx)+0.5)/3 - float64(w)/2
					dy := float64(y) + (float64(sy)+0.5)/3 - float64(h)/2
					u, v := dx*cos+dy*sin, -dx*sin+dy*cos
					val := 60.0 // background
					if math.Abs(u) < half+10*module && math.Abs(v) < 0.4*half {
						val = 220 // paper
						if i := int(math.Floor((u + half) / module)); i >= 0 && i < len(pattern) && math.Abs(v) < 0.3*half && pattern[i] {
							val = 30 // ink
						}
					}
					sum += val
				}
			}
			p.pix[y*p.stride+x] = uint8(sum / 9)
		}
	}
	return p
}

// TestLocateSharpAngles checks that the paired gradients (spanPaired)
// find sharp bars at every angle with their direction. Differences of a
// pixel with its right and its lower neighbour lie half a pixel apart; on
// sharp edges with the normal between -90° and 0° the fast locator sees
// the bars as 2D texture or turned by up to 90°.
func TestLocateSharpAngles(t *testing.T) {
	const w, h, f = 640, 640, 2
	fastMissed := 0
	for _, module := range []float64{2.5, 3.3} {
		for deg := -85; deg < 90; deg += 10 {
			a := float64(deg) * math.Pi / 180
			p := sharpBars(w, h, a, module)
			found := func(rs []region) (bool, []float64) {
				ok := false
				var got []float64
				for _, r := range rs {
					if r.bars {
						got = append(got, math.Round(r.angle*180/math.Pi))
					}
					if barLike(r) && angleDiff(r.angle, a) < 3*math.Pi/180 && math.Hypot(r.cx*f-w/2, r.cy*f-h/2) < 60 {
						ok = true
					}
				}
				return ok, got
			}
			if ok, _ := found(locate(p, f)); !ok {
				fastMissed++
			}
			if ok, got := found(locateWith(p, f, minCellEnergy, spanPaired)); !ok {
				t.Errorf("module %.1f px, bars at %d°: bar regions at %v°", module, deg, got)
			}
		}
	}
	if fastMissed == 0 {
		t.Error("the fast locator finds every angle; the test shows nothing")
	}
	t.Logf("the fast locator missed %d of 36", fastMissed)
}

// largeModules draws a w×h photo of a dark, noisy background (sensor
// noise of sigma noise) with a dim square of random modules of module
// pixels (24 a side, as a Data Matrix's), blurred by a box of radius
// 4 px twice (σ ≈ 3.7 px), centred at (cx, cy).
func largeModules(w, h int, cx, cy, module, noise float64) plane {
	rng := rand.New(rand.NewPCG(5, 36))
	const side = 24
	var dark [side * side]bool
	for i := range dark {
		dark[i] = rng.IntN(2) == 0
	}
	lum := make([]float64, w*h)
	half := side * module / 2
	for y := range h {
		for x := range w {
			u, v := float64(x)-cx+half+module, float64(y)-cy+half+module
			val := 26.0 // background
			if u >= 0 && v >= 0 && u < 2*half+2*module && v < 2*half+2*module {
				val = 95 // paper, with a module of quiet zone
				i, j := int(u/module)-1, int(v/module)-1
				if i >= 0 && j >= 0 && i < side && j < side && dark[j*side+i] {
					val = 30 // ink
				}
			}
			lum[y*w+x] = val
		}
	}
	boxBlurred(lum, w, h, 4)
	return withNoise(lum, w, h, rng, noise)
}

// TestLocateCoarse checks that the coarse locator (gradients over
// coarseSpan pixels, the faint stage's threshold) finds a 2D symbol of
// large modules on a dim label over a dark, noisy background, which the
// fast, soft and faint locators miss, and finds nothing in noise alone.
func TestLocateCoarse(t *testing.T) {
	const w, h, cx, cy, f = 2000, 1500, 1100, 700, 4
	tests := []struct {
		name   string
		module float64
		noise  float64
	}{
		{"modules of 14 px", 14, 8},
		{"modules of 11 px", 11, 8},
		{"noise alone", 0, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p plane
			if tc.module > 0 {
				p = largeModules(w, h, cx, cy, tc.module, tc.noise)
			} else {
				lum := make([]float64, w*h)
				for i := range lum {
					lum[i] = 26
				}
				p = withNoise(lum, w, h, rand.New(rand.NewPCG(3, 4)), tc.noise)
			}
			found := func(rs []region) bool {
				for _, r := range rs {
					side := math.Max(r.lenU, r.lenV) * f
					if !r.bars && math.Hypot(r.cx*f-cx, r.cy*f-cy) < 100 && side < 3*24*tc.module {
						return true
					}
				}
				return false
			}
			coarse := locateWith(p, f, -faintTimes, coarseSpan)
			if tc.module == 0 {
				if len(coarse) > 0 {
					t.Errorf("found %d regions in noise: %+v", len(coarse), coarse)
				}
				return
			}
			for name, rs := range map[string][]region{
				"fast":  locate(p, f),
				"soft":  locateWith(p, f, softCellEnergy, softSpan),
				"faint": locateWith(p, f, -faintTimes, softSpan),
			} {
				if found(rs) {
					t.Fatalf("the %s locator already finds the symbol; the photo tests nothing", name)
				}
			}
			if !found(coarse) {
				t.Errorf("coarse locator missed the symbol: %+v", coarse)
			}
		})
	}
}
