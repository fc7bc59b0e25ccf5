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
