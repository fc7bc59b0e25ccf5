package scan

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// foreshortened renders modules as profileOf does, but seen at a slant:
// module boundary k lies at s·k/(1+b·k) (a 1D projective map), so the
// last module is rho times as wide as the first.
func foreshortened(mods []bool, module, rho, sigma float64) []float64 {
	n := float64(len(mods))
	// dx/dk = s/(1+b·k)²: its ratio from k = n to k = 0 is rho.
	b := (1/math.Sqrt(rho) - 1) / n
	s := module * (1 + b*n) // the mean module is about module wide
	qz := 12 * module * math.Max(1, rho)
	x1 := s * n / (1 + b*n)
	return renderProfile(int(2*qz+x1), sigma, func(v float64) bool {
		v -= qz
		k := v / (s - b*v) // the inverse map
		return v >= 0 && v < x1 && int(k) < len(mods) && mods[int(k)]
	})
}

// TestModelPerspective reads blurred Code 128 profiles whose modules grow
// along the code by up to 1.6 times, as a label seen at a slant gives:
// the model reader's drift alone does not follow them, the profile
// evened out for one of modelPitchRatios does. Never a wrong text.
func TestModelPerspective(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 3))
	plain, warped := 0, 0
	const n = 6
	for i := range n {
		text := "2026" + payload(rng, i)
		mods := code128Modules(t, text)
		rho := []float64{1.5, 1 / 1.5, 1.35}[i%3]
		prof := foreshortened(mods, 3, rho, 1.5)
		for x := range prof {
			prof[x] += rng.NormFloat64() * 2
		}
		if r, ok := readModel(context.Background(), prof, 1); ok {
			if r.text != text {
				t.Fatalf("read %q, want %q", r.text, text)
			}
			plain++
		}
		for _, rho := range modelPitchRatios {
			wp, at := pitchWarp(prof, rho)
			r, ok := readModel(context.Background(), wp, 1)
			if !ok {
				continue
			}
			if r.text != text {
				t.Fatalf("warped %.2f: read %q, want %q", rho, r.text, text)
			}
			if x0 := at(r.x0); x0 < 0 || x0 > float64(len(prof)) {
				t.Errorf("start %.1f outside the profile", x0)
			}
			warped++
			break
		}
	}
	t.Logf("read as taken %d of %d, evened out %d of %d", plain, n, warped, n)
	if warped < n-1 {
		t.Errorf("evened out, read %d of %d, want at least %d", warped, n, n-1)
	}
	if plain >= warped {
		t.Errorf("as taken read %d, evened out %d: the profiles do not need evening out", plain, warped)
	}
}

// TestBarSpan cuts a window drawn out over a coarse texture (folds of
// cloth, wood grain) to its bars, and leaves a window that is mostly
// bars alone.
func TestBarSpan(t *testing.T) {
	mods := code128Modules(t, "36534440958023227651")
	prof := profileOf(mods, 3, 1.2)
	bars := len(prof)
	p := newPlane(4*bars, 40)
	x0 := 3 * bars / 2
	for y := range p.h {
		r := p.row(y)
		for x := range r {
			v := 120 + 50*math.Sin(2*math.Pi*float64(x)/220+float64(y)/30)
			if x >= x0 && x < x0+bars {
				v = prof[x-x0]
			}
			r[x] = uint8(v)
		}
	}
	a, b, ok := barSpan(p)
	if !ok {
		t.Fatal("no span cut from a window four times the bars' length")
	}
	if a > x0+12*3 || b < x0+bars-12*3 {
		t.Errorf("span %d–%d cuts into the bars at %d–%d", a, b, x0+36, x0+bars-36)
	}
	if b-a > 2*bars {
		t.Errorf("span %d–%d keeps too much of the texture (bars %d wide)", a, b, bars)
	}
	if _, _, ok := barSpan(p.crop(x0-20, 0, bars+40, p.h)); ok {
		t.Error("a window of bars alone was cut")
	}
}

// TestMeasuredLean measures bars that lean and fan out (perspective): the
// lean at each end follows the drawn one.
func TestMeasuredLean(t *testing.T) {
	for _, c := range []struct{ left, right float64 }{{0, 0}, {-0.3, 0.15}, {0.2, 0.2}, {0.1, -0.25}} {
		p := newPlane(600, 120)
		ym := float64(p.h-1) / 2
		img := make([]float64, p.w*p.h)
		for y := range p.h {
			for x := range p.w {
				// Column x at row y belongs to the bar at x - lean(x)·(y-ym).
				l := c.left + (c.right-c.left)*float64(x)/float64(p.w)
				u := float64(x) - l*(float64(y)-ym)
				img[y*p.w+x] = 210
				if int(math.Floor(u/9))%2 == 0 && int(math.Floor(u/5))%3 != 0 {
					img[y*p.w+x] = 40
				}
			}
		}
		// Blurred as a photo is: sharp steps bias the gradients.
		gaussBlur(img, p.w, p.h, 1.5)
		for y := range p.h {
			for x, r := 0, p.row(y); x < p.w; x++ {
				r[x] = uint8(img[y*p.w+x])
			}
		}
		l, ok := measuredLean(p)
		if !ok {
			t.Fatalf("%+v: no lean measured", c)
		}
		left, right := l.at(float64(p.w)/6, float64(p.w)), l.at(5*float64(p.w)/6, float64(p.w))
		wantL := c.left + (c.right-c.left)/6
		wantR := c.left + (c.right-c.left)*5/6
		if math.Abs(left-wantL) > 0.04 || math.Abs(right-wantR) > 0.04 {
			t.Errorf("%+v: measured %.3f, %.3f at the thirds, want %.3f, %.3f", c, left, right, wantL, wantR)
		}
	}
}

// TestBarSpanNoisy cuts a window drawn out along a dim photo's background,
// whose sensor noise makes every row look like fine bars, to its bars:
// only with the rows averaged along the bars (the fallback) does the
// stretch of bars stand out.
func TestBarSpanNoisy(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	mods := code128Modules(t, "VVL3JRVWAWQGNBUH")
	prof := profileOf(mods, 4, 2)
	bars := len(prof)
	p := newPlane(5*bars, 60)
	x0 := 2 * bars
	for y := range p.h {
		r := p.row(y)
		for x := range r {
			v := 90.0
			if x >= x0 && x < x0+bars {
				v = 90 + (prof[x-x0]-prof[0])*0.3 // the bars at a third of their contrast
			}
			r[x] = uint8(math.Max(0, math.Min(255, v+rng.NormFloat64()*9)))
		}
	}
	if _, _, ok := barSpanOf(p, false); ok {
		t.Fatal("the rows as they are show the bars already; the case tests nothing")
	}
	a, b, ok := barSpan(p)
	if !ok {
		t.Fatal("no span cut from a noisy window five times the bars' length")
	}
	if a > x0+12*4 || b < x0+bars-12*4 || b-a > 2*bars {
		t.Errorf("span %d–%d, want about the bars at %d–%d", a, b, x0, x0+bars)
	}
}

// leaningBars draws modules module pixels wide, ink 60 on paper 200, in
// the middle of a window span times as wide and h rows high, their bars
// leaning by l; then blurs it by blur pixels and adds noise of 6 grey
// levels.
func leaningBars(mods []bool, module, span float64, h int, l lean, blur float64, rng *rand.Rand) plane {
	p := newPlane(int(float64(len(mods))*module*span)+1, h)
	x0 := (float64(p.w) - float64(len(mods))*module) / 2
	ym := float64(p.h-1) / 2
	img := make([]float64, p.w*p.h)
	for y := range p.h {
		for x := range p.w {
			// Column x at row y belongs to the module at x - lean(x)·(y-ym).
			u := (float64(x) - l.at(float64(x), float64(p.w))*(float64(y)-ym) - x0) / module
			img[y*p.w+x] = 200
			if k := int(math.Floor(u)); k >= 0 && k < len(mods) && mods[k] {
				img[y*p.w+x] = 60
			}
		}
	}
	gaussBlur(img, p.w, p.h, blur)
	for y := range p.h {
		for x, r := 0, p.row(y); x < p.w; x++ {
			r[x] = uint8(max(0, min(255, img[y*p.w+x]+6*rng.NormFloat64())))
		}
	}
	return p
}

// BenchmarkBarProfile times barProfile on windows of a Code 128 of 6.6 px
// modules blurred by two thirds of one, 1.6 times as wide as the code
// and 89 rows high: bars upright, leaning by 0.1 pixels a row, and
// turning as a code at a slant under perspective shows them.
func BenchmarkBarProfile(b *testing.B) {
	mods := code128Modules(b, "JY496735725")
	rng := rand.New(rand.NewPCG(37, 7))
	var ps []plane
	for _, l := range []lean{{}, {slope: 0.1}, {slope: -0.08, fan: 0.55}} {
		ps = append(ps, leaningBars(mods, 6.6, 1.6, 89, l, 0.67*6.6, rng))
	}
	b.ResetTimer()
	for range b.N {
		for _, p := range ps {
			barProfile(p)
		}
	}
}

// TestModelSlightPerspective reads blurred Code 128 profiles whose
// modules grow by 1.15 times from end to end (one end of the code about
// 5 % taller than the other): neither as taken nor evened out for 1.3 do
// they read, so modelPitchRatios must hold a ratio that near 1.
func TestModelSlightPerspective(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 5))
	for i := range 6 {
		text := "2026" + payload(rng, i)
		rho := []float64{1.15, 1 / 1.15}[i%2]
		sigma := []float64{1.5, 2, 2.4}[i%3]
		prof := foreshortened(code128Modules(t, text), 3, rho, sigma)
		for x := range prof {
			prof[x] += rng.NormFloat64() * 2
		}
		if r, ok := readModel(context.Background(), prof, 1); ok {
			t.Fatalf("rho %.2f sigma %.1f: read as taken (%q): the profile needs no evening out", rho, sigma, r.text)
		}
		if r, ok := readPitches(context.Background(), prof, 1, []float64{1.3, 1 / 1.3}, false); ok {
			t.Fatalf("rho %.2f sigma %.1f: read evened out for 1.3 (%q): a ratio near 1 is not needed", rho, sigma, r.text)
		}
		r, ok := readPitches(context.Background(), prof, 1, modelPitchRatios, false)
		if !ok {
			t.Errorf("rho %.2f sigma %.1f: not read with modelPitchRatios", rho, sigma)
			continue
		}
		if r.text != text {
			t.Fatalf("rho %.2f sigma %.1f: read %q, want %q", rho, sigma, r.text, text)
		}
	}
}

// TestQuietEnds tells a read of a whole code, its quiet zones flat, from
// one whose ends lie inside the bars: the start and stop characters of
// a shorter symbol fitted to part of a blurred code.
func TestQuietEnds(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	text := "20261206" + payload(rng, 0)
	mods := code128Modules(t, text)
	const module, qz = 3.0, 12
	prof := profileOf(mods, module, 1.5)
	for x := range prof {
		prof[x] += rng.NormFloat64() * 2
	}
	src := newModelSource(prof, &modelPool{})
	x0 := float64(qz) * module
	x1 := x0 + float64(len(mods))*module
	if !quietEnds(src, x0, x1, len(mods)) {
		t.Errorf("the whole code: its quiet zones taken for bars")
	}
	// A symbol of 57 modules from a third of the way in.
	a := x0 + float64(len(mods)/3)*module
	if quietEnds(src, a, a+57*module, 57) {
		t.Errorf("part of the code: bars beside it taken for quiet zones")
	}
}
