package scan

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// glareProfile renders modules as the photo generator lights a label
// under glare: paper and ink blurred (profileOf), a glare spot that
// brightens light toward white by up to level, full inside 0.7 of its
// radius and fading out by 1.3, then a tone curve and noise. The spot's
// middle lies in the code's middle half and its radius is a fifth to a
// third of the code.
func glareProfile(rng *rand.Rand, mods []bool, module, sigma, level, gamma, noise float64) []float64 {
	prof := profileOf(mods, module, sigma)
	qz := 12 * module
	code := float64(len(mods)) * module
	gc := qz + code*(0.25+0.5*rng.Float64())
	gr := code * (0.2 + 0.13*rng.Float64())
	for x := range prof {
		v := prof[x] / 255 * 0.9
		d := math.Abs(float64(x)-gc) / gr
		g := 0.0
		switch {
		case d < 0.7:
			g = level
		case d < 1.3:
			g = level * 0.5 * (1 + math.Cos(math.Pi*(d-0.7)/0.6))
		}
		v += (1.05 - v) * g
		prof[x] = 255*math.Pow(math.Min(1, v), gamma) + rng.NormFloat64()*noise
	}
	return prof
}

// TestModelGlare reads Code 128 profiles whose middle lies under a glare
// spot (the bars' contrast there a sixth of the rest, the paper level
// rising by more than that contrast within a character at the spot's
// edges): levels that follow the glare along each character's window read
// them, levels held constant along it do not, and no text is ever wrong.
func TestModelGlare(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 4))
	const n = 8
	var plain, trend int
	for i := range n {
		text := payload(rng, i)
		mods := code128Modules(t, text)
		prof := glareProfile(rng, mods, 2.6, 1.0, 0.8, 0.6+0.5*rng.Float64(), 1)
		if i%2 == 1 {
			for a, b := 0, len(prof)-1; a < b; a, b = a+1, b-1 {
				prof[a], prof[b] = prof[b], prof[a]
			}
		}
		for k, tr := range []bool{false, true} {
			r, ok := readModelWith(context.Background(), prof, 1, tr)
			switch {
			case !ok:
			case r.text != text:
				t.Errorf("trend %v: read %q, want %q", tr, r.text, text)
			case k == 0:
				plain++
			default:
				trend++
			}
		}
	}
	t.Logf("read %d of %d with constant levels, %d following the glare", plain, n, trend)
	if trend < n-2 || trend <= plain {
		t.Errorf("read %d of %d following the glare (%d with constant levels), want at least %d and more", trend, n, plain, n-2)
	}
}

// TestBarBand finds the rows of bars of a window whose every row, paper
// and bars alike, swells under a glare spot and steps down at a label's
// edge, and whose band of bars slants across the rows: barProfile's rows
// (those that follow the middle rows' grey levels) are then every row of
// the window, the band's are the bars', and the slant is measured.
func TestBarBand(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	mods := code128Modules(t, "Q6U386TS8UCP3M5U")
	const module, w, h = 2.5, 900, 120
	const top, height, slant = 30.0, 40.0, 0.03
	x0 := (w - float64(len(mods))*module) / 2
	p := newPlane(w, h)
	for y := range h {
		for x := range w {
			v := 200.0
			if x > w-60 {
				v = 60 // past the label's edge
			}
			u := (float64(x) - x0) / module
			mid := top + slant*(float64(x)-w/2)
			if float64(y) >= mid && float64(y) < mid+height && u >= 0 && int(u) < len(mods) && mods[int(u)] {
				v = 50
			}
			d := (float64(x) - w/2) / 150
			v += (250 - v) * 0.8 * math.Exp(-d*d)
			p.pix[y*p.stride+x] = byte(math.Max(0, math.Min(255, v+rng.NormFloat64()*2)))
		}
	}
	if _, y0, y1, ok := barProfile(p); ok {
		t.Logf("barProfile's rows: %d to %d", y0, y1)
	}
	// The band's rows: its top at the left end of the bars to its
	// bottom at the right end.
	lo := top + slant*(x0-w/2)
	hi := top + height + slant*(w-x0-w/2)
	for _, smooth := range []bool{false, true} {
		y0, y1, got, ok := barBand(p, 1, smooth)
		if !ok {
			t.Fatalf("smooth %v: no band of bars", smooth)
		}
		// Averaged rows end the band a few rows inside (bandSmooth).
		tol := 4.0
		if smooth {
			tol = 6
		}
		if math.Abs(float64(y0)-lo) > tol || math.Abs(float64(y1)-hi) > tol {
			t.Errorf("smooth %v: band rows %d to %d, want about %.0f to %.0f", smooth, y0, y1, lo, hi)
		}
		if math.Abs(got-slant) > 0.01 {
			t.Errorf("smooth %v: slant %.3f, want %.3f", smooth, got, slant)
		}
	}
}

// TestBarBandNoisy finds a band of bars whose contrast is about the noise
// of one row (a glare over the bars), away from the window's middle: the
// rows one by one show no band, the rows averaged with their neighbours
// along the bars do (the fallback of modelBand).
func TestBarBandNoisy(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	mods := code128Modules(t, "Q6U386TS8UCP3M5U")
	const module, w, h = 3.0, 1000, 140
	const top, height = 14.0, 50.0
	x0 := (w - float64(len(mods))*module) / 2
	p := newPlane(w, h)
	for y := range h {
		for x := range w {
			v := 200.0
			u := (float64(x) - x0) / module
			if float64(y) >= top && float64(y) < top+height && u >= 0 && int(u) < len(mods) && mods[int(u)] {
				v = 180
			}
			p.pix[y*p.stride+x] = byte(math.Max(0, math.Min(255, v+rng.NormFloat64()*12)))
		}
	}
	if _, _, _, ok := barBand(p, 1, false); ok {
		t.Fatal("the rows one by one show the band; the case tests nothing")
	}
	y0, y1, slant, ok := barBand(p, 1, true)
	if !ok {
		t.Fatal("no band of bars with the rows averaged")
	}
	if math.Abs(float64(y0)-top) > 6 || math.Abs(float64(y1)-(top+height)) > 6 || math.Abs(slant) > 0.01 {
		t.Errorf("band rows %d to %d, slant %.3f; want about %.0f to %.0f, level", y0, y1, slant, top, top+height)
	}
}
