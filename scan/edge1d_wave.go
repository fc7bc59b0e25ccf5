package scan

import (
	"cmp"
	"math"
	"slices"
)

// When blur has flattened the narrowest bars, their edges move and the
// t-distances of neighbouring characters become alike. The wave fit then
// compares the grey levels themselves with every character's pattern,
// blurred: the edge parse has already placed the symbol (its first and last
// edge, its length), so the module grid is known and each character's
// window is fitted by least squares, levels free (uneven light, glare).

// Wave fit limits.
const (
	// waveMaxBands bounds the bands of one symbol that are fitted.
	waveMaxBands = 16
	// waveMaxCost is the largest mean squared residual, as a fraction of
	// the squared contrast, of a character's best fit.
	waveMaxCost = 0.02
	// waveMinRatio is how much larger the second-best fit's residual must
	// be than the best one's, summed over the bands.
	waveMinRatio = 1.5
)

// waveBlurs are the blur widths tried, Gaussian sigma in modules (the
// pixel's own width included).
var waveBlurs = []float64{0.35, 0.5, 0.65, 0.8, 0.95, 1.1}

// dataValues lists the values a character other than the stop may take.
var dataValues = func() []int {
	v := make([]int, c128Stop)
	for i := range v {
		v[i] = i
	}
	return v
}()

// waveBand is one band's view of a symbol: its profile, oriented so that
// the symbol runs left to right, and the edge parse's placement and values.
type waveBand struct {
	prof   []float64
	x0, x1 float64
	vals   []byte // start, data and check characters
}

// phiTable holds the standard normal CDF on [-phiMax, phiMax].
var phiTable = func() []float64 {
	t := make([]float64, 2*phiMax*phiSteps+2)
	for i := range t {
		z := float64(i)/phiSteps - phiMax
		t[i] = 0.5 * (1 + math.Erf(z/math.Sqrt2))
	}
	return t
}()

const (
	phiMax   = 6
	phiSteps = 64
)

// phi returns the standard normal CDF at z, interpolated.
func phi(z float64) float64 {
	if z <= -phiMax {
		return 0
	}
	if z >= phiMax {
		return 1
	}
	f := (z + phiMax) * phiSteps
	i := int(f)
	return phiTable[i] + (f-float64(i))*(phiTable[i+1]-phiTable[i])
}

// c128Bits returns the modules (true = bar) of value v.
func c128Bits(v int) []bool {
	var out []bool
	for k, c := range c128Patterns[v] {
		for range int(c - '0') {
			out = append(out, k%2 == 0)
		}
	}
	return out
}

// c128AllBits holds c128Bits of every value.
var c128AllBits = func() (b [107][]bool) {
	for v := range b {
		b[v] = c128Bits(v)
	}
	return b
}()

// waveSymbol lays out the modules of a symbol: vals then the stop.
func waveSymbol(vals []byte) []bool {
	var mods []bool
	for _, v := range vals {
		mods = append(mods, c128AllBits[v]...)
	}
	return append(mods, c128AllBits[c128Stop]...)
}

// waveFit holds one band's scratch state for fitting characters.
type waveFit struct {
	b      waveBand
	mw     float64 // module width, pixels
	s      float64 // blur, pixels
	x0     float64
	mods   []bool
	resp   []float64 // per pixel of the window, per module: coverage
	contr2 float64   // squared contrast of the profile over the symbol
}

// newWaveFit prepares band b with its symbol placed from x0 to x1.
func newWaveFit(b waveBand, x0, x1, blur float64) *waveFit {
	n := 11*len(b.vals) + 13
	mw := (x1 - x0) / float64(n)
	f := &waveFit{b: b, mw: mw, s: blur * mw, x0: x0, mods: waveSymbol(b.vals)}
	lo, hi := math.Inf(1), math.Inf(-1)
	for x := max(0, int(x0)); x <= min(len(b.prof)-1, int(x1)+1); x++ {
		lo, hi = math.Min(lo, b.prof[x]), math.Max(hi, b.prof[x])
	}
	f.contr2 = math.Max(1, (hi-lo)*(hi-lo))
	return f
}

// charCosts sets out[v], for each v of vs, to the least-squares residual
// of character j's window (module 11j on) against the blurred modules with
// j's value v, per pixel and squared contrast; neighbours come from f.mods.
func (f *waveFit) charCosts(j int, vs []int, out []float64) {
	m0 := 11 * j
	n := 11
	if j == len(f.b.vals) {
		n = 13
	}
	xa := int(math.Ceil(f.x0 + float64(m0)*f.mw))
	xb := int(math.Floor(f.x0 + float64(m0+n)*f.mw))
	xa, xb = max(0, xa), min(len(f.b.prof)-1, xb)
	if xb-xa < 4 {
		for _, v := range vs {
			out[v] = math.Inf(1)
		}
		return
	}
	np := xb - xa + 1
	reach := int(math.Ceil(3*f.s/f.mw)) + 1
	// base[x] is the neighbours' coverage; cum[x*(n+1)+k] the coverage
	// of the character's own modules before k.
	base := make([]float64, np)
	cum := make([]float64, np*(n+1))
	var sy, syy float64
	for i := range np {
		fx := float64(xa + i)
		for k := m0 - reach; k < m0+n+reach; k++ {
			own := k >= m0 && k < m0+n
			if !own && (k < 0 || k >= len(f.mods) || !f.mods[k]) {
				continue
			}
			a := f.x0 + float64(k)*f.mw
			r := phi((fx-a)/f.s) - phi((fx-a-f.mw)/f.s)
			if own {
				cum[i*(n+1)+k-m0+1] = r
			} else {
				base[i] += r
			}
		}
		row := cum[i*(n+1) : (i+1)*(n+1)]
		for k := 1; k <= n; k++ {
			row[k] += row[k-1]
		}
		y := f.b.prof[xa+i]
		sy, syy = sy+y, syy+y*y
	}
	npf := float64(np)
	flat := syy - sy*sy/npf
	for _, v := range vs {
		p := c128Patterns[v]
		var sr, srr, sry float64
		for i := range np {
			row := cum[i*(n+1) : (i+1)*(n+1)]
			r, k := base[i], 0
			for e := 0; e < len(p); e++ {
				w := int(p[e] - '0')
				if e%2 == 0 {
					r += row[k+w] - row[k]
				}
				k += w
			}
			y := f.b.prof[xa+i]
			sr, srr, sry = sr+r, srr+r*r, sry+r*y
		}
		res := flat
		if den := npf*srr - sr*sr; den > 1e-9 {
			if beta := (npf*sry - sr*sy) / den; beta < 0 { // bars darker than spaces
				alpha := (sy - beta*sr) / npf
				res = syy - alpha*sy - beta*sry
			}
		}
		out[v] = math.Max(0, res) / (npf * f.contr2)
	}
}

// charCost is charCosts for one value.
func (f *waveFit) charCost(j, v int) float64 {
	var out [107]float64
	f.charCosts(j, []int{v}, out[:])
	return out[v]
}

// total returns the summed cost of the current values of f.
func (f *waveFit) total() float64 {
	t := 0.0
	for j, v := range f.b.vals {
		t += f.charCost(j, int(v))
	}
	return t + f.charCost(len(f.b.vals), c128Stop)
}

// placed returns band b fitted with blur: its first and last edge moved
// by the shifts that fit its current values best, found one end at a time.
func placed(b waveBand, blur float64) (*waveFit, float64) {
	best := newWaveFit(b, b.x0, b.x1, blur)
	bc := best.total()
	d0, d1 := 0.0, 0.0
	for _, step := range []float64{0.5, 0.25} {
		for end := range 2 {
			c0, c1 := d0, d1
			for _, k := range []float64{-2, -1, 1, 2} {
				e0, e1 := c0, c1
				if end == 0 {
					e0 += k * step
				} else {
					e1 += k * step
				}
				f := newWaveFit(b, b.x0+e0, b.x1+e1, blur)
				if c := f.total(); c < bc {
					best, bc, d0, d1 = f, c, e0, e1
				}
			}
		}
	}
	return best, bc
}

// waveDecode fits the bands of one symbol shape and returns its values
// (start, data, check) when every character's summed fit is close and
// unambiguous and the check character is right.
func waveDecode(bands []waveBand, guess []byte) ([]byte, bool) {
	if len(bands) == 0 {
		return nil, false
	}
	bands = bands[:min(len(bands), waveMaxBands)]
	for i := range bands {
		bands[i].vals = guess
	}
	// The blur: the width that best fits the first bands' guesses.
	blur, bc := waveBlurs[0], math.Inf(1)
	for _, bl := range waveBlurs {
		c := 0.0
		for _, b := range bands[:min(3, len(bands))] {
			_, t := placed(b, bl)
			c += t
		}
		if c < bc {
			blur, bc = bl, c
		}
	}
	return waveDecodeAt(bands, guess, blur)
}

// waveDecodeAt is waveDecode with the blur given. When a character's fit
// is not close or not clear it still returns the best fits, with false.
func waveDecodeAt(bands []waveBand, guess []byte, blur float64) ([]byte, bool) {
	vals := append([]byte(nil), guess...)
	fits := make([]*waveFit, len(bands))
	for i, b := range bands {
		b.vals = vals
		fits[i] = newWaveFit(b, b.x0, b.x1, blur)
	}
	ok := false
	for round := 0; round < 3; round++ {
		if round == 1 {
			// Place each band's ends by the first round's values.
			for i, f := range fits {
				b := f.b
				b.x0, b.x1 = bands[i].x0, bands[i].x1
				fits[i], _ = placed(b, blur)
			}
		}
		ok = true
		for j := range vals {
			var sum, one [107]float64
			for _, f := range fits {
				f.charCosts(j, dataValues, one[:])
				for v := range sum {
					sum[v] += one[v]
				}
			}
			v, best, second := c128Pick(&sum, 0, c128Stop)
			nb := float64(len(fits))
			if best/nb > waveMaxCost || second < waveMinRatio*best {
				ok = false
				if round == 0 && best/nb > 3*waveMaxCost {
					return nil, false // a character fits nothing
				}
			}
			vals[j] = byte(v)
			for _, f := range fits {
				f.b.vals = vals
				f.mods = waveSymbol(vals)
			}
		}
	}
	return vals, ok
}

// Blind fit limits.
const (
	// blindMinRows is how many rows of bars a region needs for the blind
	// fit: two halves of at least three rows each.
	blindMinRows = 6
	// blindQuietRatio is how much wider than the widest gap between the
	// symbol's edges its margins must be: the quiet zone is 10 modules,
	// the widest element 4, but blur merges narrow elements into gaps of
	// up to 8.
	blindQuietRatio = 1.25
	// blindMinModule and blindMaxModule bound the module widths (pixels)
	// tried.
	blindMinModule, blindMaxModule = 1.2, 8.0
	// blindMidRows is how many middle rows of a region stand for its bars
	// when the rows of bars are picked.
	blindMidRows = 5
	// blindMinCorr is the least correlation with the middle rows of a row
	// of bars.
	blindMinCorr = 0.5
	// blindMinAgree is the share of characters on which each half of a
	// region's rows must agree with the read of all of them.
	blindMinAgree = 0.8
	// blindTries is how many symbol lengths and blurs, best first by
	// their start and stop characters' fit, are decoded in full.
	blindTries = 3
)

// blindRead reads Code 128 from a region whose bars blur has flattened
// so that no band parses by its edges: the rows of bars are averaged, the
// symbol is placed by its quiet zones and fitted for every length and
// blur, and each half of the rows, fitted alone, must agree with most of
// its characters. It returns the text, the values and where the symbol
// lies: from x0 to x1, rows y0 to y1.
func blindRead(p plane) (text string, vals []byte, x0, x1 float64, y0, y1 int, ok bool) {
	if p.h < blindMinRows || p.w < 40 {
		return
	}
	// The rows of bars: those whose grey levels follow the middle rows'
	// (the region is centred on the bars), noise and light aside.
	mid := make([]int, 0, blindMidRows)
	for y := max(0, p.h/2-blindMidRows/2); y < min(p.h, p.h/2-blindMidRows/2+blindMidRows); y++ {
		mid = append(mid, y)
	}
	// Over the middle half of the width only: the label's edges outside
	// the bars would make every row of the label look alike.
	ref := meanRows(p, mid, 0, 0)[p.w/4 : 3*p.w/4]
	var rows []int
	for y := range p.h {
		if correlation(ref, p.row(y)[p.w/4:3*p.w/4]) >= blindMinCorr {
			rows = append(rows, y)
		}
	}
	if len(rows) < blindMinRows {
		return
	}
	// The region's direction is off by a degree or so: averaged over
	// many rows, the bars would smear. Measure how far they lean, from
	// the first and last third of the rows, and follow them.
	third := len(rows) / 3
	upper := meanRows(p, rows[:third], 0, 0)
	lower := meanRows(p, rows[len(rows)-third:], 0, 0)
	ya := float64(rows[0]+rows[third-1]) / 2
	yb := float64(rows[len(rows)-third]+rows[len(rows)-1]) / 2
	slope := 0.0
	if yb > ya {
		slope = profileShift(upper, lower, int(0.05*(yb-ya))+2) / (yb - ya)
	}
	ym := (ya + yb) / 2
	full := meanRows(p, rows, slope, ym)
	text, vals, x0, x1, blur, ok := blindProfile(full)
	if !ok {
		return
	}
	// Agreement: each half of the rows, fitted at the same place with
	// the same blur, must give the same values for most characters.
	half := len(rows) / 2
	for _, part := range [2][]int{rows[:half], rows[half:]} {
		prof := meanRows(p, part, slope, ym)
		a, b := x0, x1
		if a > b {
			slices.Reverse(prof)
			a, b = float64(p.w-1)-a, float64(p.w-1)-b
		}
		got, _ := waveDecodeAt([]waveBand{{prof: prof, x0: a, x1: b, vals: vals}}, vals, blur)
		same := 0
		for k := range got {
			if got[k] == vals[k] {
				same++
			}
		}
		if float64(same) < blindMinAgree*float64(len(vals)) {
			return "", nil, 0, 0, 0, 0, false
		}
	}
	return text, vals, x0, x1, rows[0], rows[len(rows)-1], true
}

// meanRows averages rows of p, row y sampled from x + slope·(y-ym)
// (linear interpolation, edges repeated).
func meanRows(p plane, rows []int, slope, ym float64) []float64 {
	return meanRowsLean(p, rows, lean{slope: slope}, ym)
}

// lean is how the bars of an upright window lean: row y is shifted
// across by at(x)·(y-ym) pixels, slope in the middle column and fan more
// from the first column to the last (bars that converge, as perspective
// makes them).
type lean struct{ slope, fan float64 }

// at is the lean at column x of a window w columns wide.
func (l lean) at(x, w float64) float64 { return l.slope + l.fan*(x/w-0.5) }

// meanRowsLean averages rows of p, each sampled along the lean l.
func meanRowsLean(p plane, rows []int, l lean, ym float64) []float64 {
	prof := make([]float64, p.w)
	row := make([]float64, p.w)
	for _, y := range rows {
		leanRow(p, y, l, ym, row)
		for x, v := range row {
			prof[x] += v
		}
	}
	for x := range prof {
		prof[x] /= float64(len(rows))
	}
	return prof
}

// leanRow sets out to row y of p sampled along the lean l: column x from
// x + l.at(x)·(y-ym) (linear interpolation, edges repeated).
func leanRow(p plane, y int, l lean, ym float64, out []float64) {
	r := p.row(y)
	dy, w := float64(y)-ym, float64(p.w)
	last := float64(len(r) - 1)
	for x := range out {
		u := float64(x) + l.at(float64(x), w)*dy
		if u >= 0 && u < last {
			// sampleRow's sum without its floor and clamps: the lean's
			// searches sample millions of pixels a window.
			i := int(u)
			f := u - float64(i)
			out[x] = float64(r[i])*(1-f) + float64(r[i+1])*f
			continue
		}
		out[x] = sampleRow(r, u)
	}
}

// shiftedRow sets out to row y of p sampled from x + d.
func shiftedRow(p plane, y int, d float64, out []float64) {
	r := p.row(y)
	for x := range out {
		out[x] = sampleRow(r, float64(x)+d)
	}
}

// sampleRow returns row r at u (linear interpolation, edges repeated).
func sampleRow(r []byte, u float64) float64 {
	i := int(math.Floor(u))
	f := u - float64(i)
	n := len(r) - 1
	a, b := r[min(n, max(0, i))], r[min(n, max(0, i+1))]
	return float64(a)*(1-f) + float64(b)*f
}

// profileShift returns the shift s, within ±maxShift pixels, for which
// b(x+s) best matches a(x), to a fraction of a pixel.
func profileShift(a, b []float64, maxShift int) float64 {
	ma, mb := 0.0, 0.0
	for x := range a {
		ma, mb = ma+a[x], mb+b[x]
	}
	ma, mb = ma/float64(len(a)), mb/float64(len(b))
	corr := make([]float64, 2*maxShift+1)
	for k := -maxShift; k <= maxShift; k++ {
		c := 0.0
		for x := max(0, -k); x < min(len(a), len(b)-k); x++ {
			c += (a[x] - ma) * (b[x+k] - mb)
		}
		corr[k+maxShift] = c
	}
	bi := 0
	for i, c := range corr {
		if c > corr[bi] {
			bi = i
		}
	}
	s := float64(bi - maxShift)
	if bi > 0 && bi < len(corr)-1 {
		l, c, r := corr[bi-1], corr[bi], corr[bi+1]
		if d := l - 2*c + r; d < 0 {
			s += 0.5 * (l - r) / d
		}
	}
	return s
}

// blindProfile reads one symbol from an averaged profile, in either
// direction.
func blindProfile(prof []float64) (string, []byte, float64, float64, float64, bool) {
	w := float64(len(prof))
	grad := make([]float64, len(prof))
	rng := make([]float64, len(prof))
	es := profileEdges(prof, 0.05, grad, rng, nil)
	for d := range 2 {
		list, pr := es, prof
		if d == 1 {
			list = make([]edge, len(es))
			for k, e := range es {
				list[len(es)-1-k] = edge{x: w - 1 - e.x, fall: !e.fall}
			}
			pr = slices.Clone(prof)
			slices.Reverse(pr)
		}
		i, j, ok := quietExtent(list, w, blindQuietRatio)
		if !ok {
			continue
		}
		if text, vals, blur, ok := blindFit(pr, list[i].x, list[j].x); ok {
			a, b := list[i].x, list[j].x
			if d == 1 {
				a, b = w-1-a, w-1-b
			}
			return text, vals, a, b, blur, true
		}
	}
	return "", nil, 0, 0, 0, false
}

// quietExtent returns the first and last edge of the widest run of edges
// framed by margins ratio times its widest inner gap (the blind reader
// uses blindQuietRatio, the model reader a few ratios of its own).
func quietExtent(es []edge, w, ratio float64) (int, int, bool) {
	bi, bj, bw := 0, 0, 0.0
	for i := range es {
		if !es[i].fall {
			continue
		}
		before := es[i].x
		if i > 0 {
			before -= es[i-1].x
		}
		inner := 0.0
		for j := i + 1; j < len(es); j++ {
			inner = math.Max(inner, es[j].x-es[j-1].x)
			if ratio*inner > before {
				break
			}
			after := w - es[j].x
			if j+1 < len(es) {
				after = es[j+1].x - es[j].x
			}
			if es[j].fall || after < ratio*inner || j-i < 12 {
				continue
			}
			if width := es[j].x - es[i].x; width > bw {
				bi, bj, bw = i, j, width
			}
		}
	}
	return bi, bj, bw > 0
}

// blindFit decodes the symbol between x0 and x1 of prof, trying every
// length whose module width is plausible.
func blindFit(prof []float64, x0, x1 float64) (string, []byte, float64, bool) {
	type try struct {
		n    int
		blur float64
		cost float64
	}
	var tries []try
	for n := 1; ; n++ {
		mw := (x1 - x0) / float64(11*n+13)
		if mw < blindMinModule {
			break
		}
		if mw > blindMaxModule {
			continue
		}
		guess := make([]byte, n)
		guess[0] = c128StartA + 1
		for _, bl := range waveBlurs {
			f := newWaveFit(waveBand{prof: prof, x0: x0, x1: x1, vals: guess}, x0, x1, bl)
			var c [107]float64
			f.charCosts(0, []int{c128StartA, c128StartA + 1, c128StartA + 2}, c[:])
			start := min(c[c128StartA], c[c128StartA+1], c[c128StartA+2])
			tries = append(tries, try{n, bl, start + f.charCost(n, c128Stop)})
		}
	}
	slices.SortFunc(tries, func(a, b try) int { return cmp.Compare(a.cost, b.cost) })
	for _, t := range tries[:min(blindTries, len(tries))] {
		if t.cost > 2*waveMaxCost {
			break // start and stop do not fit: not a symbol
		}
		guess := make([]byte, t.n)
		guess[0] = c128StartA + 1
		vals, ok := waveDecodeAt([]waveBand{{prof: prof, x0: x0, x1: x1, vals: guess}}, guess, t.blur)
		if !ok {
			continue
		}
		if text, ok := c128Checked(vals); ok {
			return text, vals, t.blur, true
		}
	}
	return "", nil, 0, false
}

// correlation returns the correlation coefficient of a and b (same
// length): grey levels or a profile.
func correlation[T byte | float64](a []float64, b []T) float64 {
	var sa, sb, saa, sbb, sab float64
	for i, x := range a {
		y := float64(b[i])
		sa, sb, saa, sbb, sab = sa+x, sb+y, saa+x*x, sbb+y*y, sab+x*y
	}
	n := float64(len(a))
	va, vb := saa-sa*sa/n, sbb-sb*sb/n
	if va <= 0 || vb <= 0 {
		return 0
	}
	return (sab - sa*sb/n) / math.Sqrt(va*vb)
}
