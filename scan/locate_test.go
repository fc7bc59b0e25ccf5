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
	tmp := make([]float64, w*h)
	for range 2 {
		for y := range h {
			for x := range w {
				s, n := 0.0, 0
				for k := max(0, x-2); k <= min(w-1, x+2); k++ {
					s += lum[y*w+k]
					n++
				}
				tmp[y*w+x] = s / float64(n)
			}
		}
		for y := range h {
			for x := range w {
				s, n := 0.0, 0
				for k := max(0, y-2); k <= min(h-1, y+2); k++ {
					s += tmp[k*w+x]
					n++
				}
				lum[y*w+x] = s / float64(n)
			}
		}
	}
	p := newPlane(w, h)
	for i, v := range lum {
		p.pix[i] = uint8(max(0, min(255, v+rng.NormFloat64()*noise)))
	}
	return p
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
