package scan

import (
	"math"
	"slices"
	"time"

	"github.com/makiuchi-d/gozxing"
)

// The edge reader reads Code 128 from grey levels rather than from a
// thresholded row, for blurred codes with bars of two or three pixels that
// a row threshold turns into noise; it runs on a 1D region when the row
// readers confirm nothing there (decodeBars). In bands of a few rows
// averaged, it finds the bars' edges at sub-pixel positions from the
// luminance gradient and classifies each character by its edge-to-similar-
// edge ("t") distances, which blur shifts far less than bar widths. A text
// is reported when
//   - two bands read it alone, every character close and unambiguous, or
//   - three or more bands parse a symbol of one shape and their summed
//     per-character costs decode it, or, failing that, the grey levels of
//     those bands fit it (waveDecode, in edge1d_wave.go), or
//   - no band parses at all and both halves of the region, averaged, fit
//     it (blindRead).
// Each way checks start, stop, quiet zones and the check character, which
// catches every single wrong character.

// Edge reader limits.
const (
	// edgeMaxBands bounds how many bands (groups of adjacent rows) of one
	// plane are read, which bounds the reader's cost on large planes.
	edgeMaxBands = 48
	// edgeMaxBandRows bounds how many adjacent rows one band averages:
	// more cut noise, but bars a little off vertical smear.
	edgeMaxBandRows = 8
	// edgeMinAgree is how many bands must read the same text before it is
	// reported.
	edgeMinAgree = 2
	// edgeQuiet is the light margin, in modules, required before the start
	// and after the stop character (the specification asks for 10; photos
	// are cropped tight and blur eats into the margin).
	edgeQuiet = 4.0
	// edgeMaxEdges bounds the edges kept from one band.
	edgeMaxEdges = 4096
	// edgeMaxChars bounds the characters of one symbol.
	edgeMaxChars = 80
	// edgeMaxCost is the largest squared distance, in modules², between a
	// character's measured t-distances and its pattern's.
	edgeMaxCost = 1.2
	// edgeMinMargin is how much closer (in modules²) the best pattern must
	// be than the second best.
	edgeMinMargin = 0.2
	// edgeLooseCost is the largest cost a character of a symbol parsed
	// for voting may have.
	edgeLooseCost = 2.5
	// edgeVoteBands is how many bands must parse a symbol of one shape
	// before their summed costs are decoded.
	edgeVoteBands = 3
	// edgeMaxShapes bounds the symbol shapes voted on in one plane; each
	// keeps up to waveMaxBands copies of a band's profile.
	edgeMaxShapes = 12
	// edgeContrastRadius is the half-width, in pixels, of the window over
	// which local contrast is measured for the edge threshold.
	edgeContrastRadius = 24
)

// edgeThresholds are the edge strengths tried, as fractions of the local
// contrast: strong first, so that noise does not split wide elements when
// the bars are sharp, then weaker for bars that blur has flattened.
var edgeThresholds = []float64{0.2, 0.1, 0.05, 0.03, 0.015}

// edgeContractions are the template contractions tried: 1 for sharp bars;
// blur makes narrow elements look wider and wide ones narrower.
var edgeContractions = []float64{1, 0.85, 0.7}

// Row-reader stages, for tests that compare them.
const (
	stageGozxing = 1 << iota // gozxing's row readers on thresholded rows
	stageEdge                // the edge reader
	stageModel               // the model reader (escalation, model1d.go)
)

// allStages is every row-reader stage, the Scanner's default.
const allStages = stageGozxing | stageEdge | stageModel

// c128Patterns are the Code 128 bar/space widths in modules by value; 106
// is the stop character (seven elements).
var c128Patterns = [107]string{
	"212222", "222122", "222221", "121223", "121322", "131222", "122213", "122312", "132212", "221213",
	"221312", "231212", "112232", "122132", "122231", "113222", "123122", "123221", "223211", "221132",
	"221231", "213212", "223112", "312131", "311222", "321122", "321221", "312212", "322112", "322211",
	"212123", "212321", "232121", "111323", "131123", "131321", "112313", "132113", "132311", "211313",
	"231113", "231311", "112133", "112331", "132131", "113123", "113321", "133121", "313121", "211331",
	"231131", "213113", "213311", "213131", "311123", "311321", "331121", "312113", "312311", "332111",
	"314111", "221411", "431111", "111224", "111422", "121124", "121421", "141122", "141221", "112214",
	"112412", "122114", "122411", "142112", "142211", "241211", "221114", "413111", "241112", "134111",
	"111242", "121142", "121241", "114212", "124112", "124211", "411212", "421112", "421211", "212141",
	"214121", "412121", "111143", "111341", "131141", "114113", "114311", "411113", "411311", "113141",
	"114131", "311141", "411131", "211412", "211214", "211232", "2331112",
}

// Code 128 special values.
const (
	c128Shift  = 98
	c128CodeC  = 99
	c128CodeB  = 100 // FNC4 in code set B
	c128CodeA  = 101 // FNC4 in code set A
	c128FNC1   = 102
	c128StartA = 103
	c128StartC = 105
	c128Stop   = 106
)

// c128T holds, per value, the five t-distances (sums of adjacent element
// pairs) and the six widths of its first six elements, in modules.
var c128T = func() (t [107][11]float64) {
	for v, p := range c128Patterns {
		for k := 0; k < 6; k++ {
			t[v][5+k] = float64(p[k] - '0')
		}
		for k := 0; k < 5; k++ {
			t[v][k] = t[v][5+k] + t[v][6+k]
		}
	}
	return t
}()

// edge is one luminance step along a profile: fall is true where it gets
// darker (the leading edge of a bar).
type edge struct {
	x    float64
	fall bool
}

// bandProfile averages rows [y0, y1) of p into prof.
func bandProfile(p plane, y0, y1 int, prof []float64) []float64 {
	prof = prof[:0]
	for x := 0; x < p.w; x++ {
		prof = append(prof, 0)
	}
	for y := y0; y < y1; y++ {
		for x, v := range p.row(y) {
			prof[x] += float64(v)
		}
	}
	n := float64(y1 - y0)
	for x := range prof {
		prof[x] /= n
	}
	return prof
}

// profileEdges finds the edges of prof: local extrema of its gradient
// stronger than frac of the local contrast, at sub-pixel positions
// (parabola through the extremum and its neighbours), merged so that falls
// and rises alternate. grad and rng are scratch buffers.
func profileEdges(prof []float64, frac float64, grad, rng []float64, out []edge) []edge {
	out = out[:0]
	n := len(prof)
	if n < 5 {
		return out
	}
	grad = grad[:n]
	grad[0], grad[n-1] = 0, 0
	for x := 1; x < n-1; x++ {
		grad[x] = (prof[x+1] - prof[x-1]) / 2
	}
	localRange(prof, edgeContrastRadius, rng[:n])
	var strength []float64 // parallel to out: |gradient| of each kept edge
	for x := 2; x < n-2; x++ {
		g := grad[x]
		a, b := grad[x-1], grad[x+1]
		isMax := g > 0 && g >= a && g > b
		isMin := g < 0 && g <= a && g < b
		if !isMax && !isMin {
			continue
		}
		s := math.Abs(g)
		if s < frac*rng[x] || s < 1 {
			continue
		}
		off := 0.0
		if d := a - 2*g + b; d != 0 {
			off = math.Max(-0.5, math.Min(0.5, 0.5*(a-b)/d))
		}
		e := edge{x: float64(x) + off, fall: isMin}
		if k := len(out) - 1; k >= 0 && out[k].fall == e.fall {
			// Two steps the same way: keep the stronger.
			if s > strength[k] {
				out[k], strength[k] = e, s
			}
			continue
		}
		if len(out) >= edgeMaxEdges {
			break
		}
		out = append(out, e)
		strength = append(strength, s)
	}
	return out
}

// localRange sets out[x] to max-min of prof over [x-r, x+r].
func localRange(prof []float64, r int, out []float64) {
	n := len(prof)
	// Block maxima and minima make this O(n) per window size; windows are
	// small, so a direct scan over blocks of r is enough.
	for x := 0; x < n; x += r {
		lo, hi := math.Inf(1), math.Inf(-1)
		for k := max(0, x-r); k < min(n, x+2*r); k++ {
			lo, hi = math.Min(lo, prof[k]), math.Max(hi, prof[k])
		}
		for k := x; k < min(n, x+r); k++ {
			out[k] = hi - lo
		}
	}
}

// c128Costs sets cost[v] to the squared distance, in modules², between
// the six elements from edge e[0] to e[6] and value v's pattern contracted
// by c. Distances between t-distances (bar plus space, edge to similar
// edge) weigh most: blur shifts both edges of a pair alike. They alone
// tell every pattern apart, since the bars' total width is even.
func c128Costs(e []edge, c float64, cost *[107]float64) bool {
	return c128CostsIn(e, c, cost, 0, len(cost))
}

// c128CostsIn is c128Costs for values [lo, hi) only.
func c128CostsIn(e []edge, c float64, cost *[107]float64, lo, hi int) bool {
	w := e[6].x - e[0].x
	if w <= 0 {
		return false
	}
	m := w / 11
	var meas [11]float64
	for k := 0; k < 5; k++ {
		meas[k] = (e[k+2].x - e[k].x) / m
	}
	for k := 0; k < 6; k++ {
		meas[5+k] = (e[k+1].x - e[k].x) / m
	}
	// Blur pulls every width towards the mean: the templates are
	// contracted the same way.
	const meanT, meanW = 11.0 / 3, 11.0 / 6
	for v := lo; v < hi; v++ {
		t := &c128T[v]
		sum := 0.0
		for k := 0; k < 5; k++ {
			d := meas[k] - (meanT + c*(t[k]-meanT))
			sum += d * d
		}
		for k := 5; k < 11; k++ {
			d := meas[k] - (meanW + c*(t[k]-meanW))
			sum += 0.1 * d * d
		}
		cost[v] = sum
	}
	return true
}

// c128Pick returns the value of least cost in [lo, hi), its cost and the
// second least cost.
func c128Pick(cost *[107]float64, lo, hi int) (v int, best, second float64) {
	best, second, v = math.Inf(1), math.Inf(1), -1
	for k := lo; k < hi; k++ {
		if c := cost[k]; c < best {
			best, second, v = c, best, k
		} else if c < second {
			second = c
		}
	}
	return v, best, second
}

// c128Close reports whether a character's best fit is close and clearly
// better than the next; costs are per band.
func c128Close(best, second float64) bool {
	return best <= edgeMaxCost && second-best >= edgeMinMargin
}

// c128Cand is one Code 128 symbol parsed along one band: start and stop
// in place, every character its best-fitting pattern, close or not.
type c128Cand struct {
	vals   []byte         // start, data and check characters
	costs  [][107]float64 // per character, the cost of every value
	strict bool           // every character fits closely (c128Close)
	x0, x1 float64        // first and last edge
}

// c128Parse parses edges es, which run left to right, as Code 128 symbols
// with templates contracted by c; w is the profile's length.
func c128Parse(es []edge, w, c float64) []c128Cand {
	var out []c128Cand
	for i := 0; i+6 < len(es); i++ {
		if !es[i].fall {
			continue
		}
		m := (es[i+6].x - es[i].x) / 11
		prev := 0.0
		if i > 0 {
			prev = es[i-1].x
		}
		if es[i].x-prev < edgeQuiet*m {
			continue
		}
		cd, end, ok := c128From(es, i, w, c)
		if !ok {
			continue
		}
		out = append(out, cd)
		i = end
	}
	return out
}

// c128From parses one symbol whose start character begins at edge i and
// returns it with the index of its last edge.
func c128From(es []edge, i int, w, c float64) (c128Cand, int, bool) {
	var cost [107]float64
	// Most candidates are not a start character at all.
	if !c128CostsIn(es[i:i+7], c, &cost, c128StartA, c128Stop) {
		return c128Cand{}, 0, false
	}
	if _, best, _ := c128Pick(&cost, c128StartA, c128Stop); best > edgeLooseCost {
		return c128Cand{}, 0, false
	}
	c128Costs(es[i:i+7], c, &cost)
	v, best, second := c128Pick(&cost, 0, len(cost))
	if v < c128StartA || v == c128Stop {
		return c128Cand{}, 0, false
	}
	cd := c128Cand{strict: true, x0: es[i].x}
	keep := func(v int, best, second float64) {
		cd.vals = append(cd.vals, byte(v))
		cd.costs = append(cd.costs, cost)
		cd.strict = cd.strict && c128Close(best, second)
	}
	keep(v, best, second)
	lastW := es[i+6].x - es[i].x
	for j := i + 6; j+6 < len(es) && len(cd.vals) < edgeMaxChars; j += 6 {
		cw := es[j+6].x - es[j].x
		if cw < 0.8*lastW || cw > 1.25*lastW || !c128Costs(es[j:j+7], c, &cost) {
			return c128Cand{}, 0, false
		}
		v, best, second := c128Pick(&cost, 0, len(cost))
		if best > edgeLooseCost || v >= c128StartA && v < c128Stop {
			return c128Cand{}, 0, false
		}
		if v != c128Stop {
			keep(v, best, second)
			lastW = cw
			continue
		}
		// The stop character's seventh element: a bar of two modules,
		// then the quiet zone.
		m := cw / 11
		if j+7 >= len(es) || len(cd.vals) < 3 {
			return c128Cand{}, 0, false
		}
		bar := (es[j+7].x - es[j+6].x) / m
		if bar < 1.2 || bar > 3.2 {
			return c128Cand{}, 0, false
		}
		next := w
		if j+8 < len(es) {
			next = es[j+8].x
		}
		if next-es[j+7].x < edgeQuiet*m {
			return c128Cand{}, 0, false
		}
		cd.x1 = es[j+7].x
		return cd, j + 7, true
	}
	return c128Cand{}, 0, false
}

// c128Checked returns the text of start, data and check values when the
// check character is right.
func c128Checked(vals []byte) (string, bool) {
	if len(vals) < 3 || vals[0] < c128StartA || vals[0] >= c128Stop {
		return "", false
	}
	sum := int(vals[0])
	for k := 1; k < len(vals)-1; k++ {
		if vals[k] >= c128StartA {
			return "", false
		}
		sum += k * int(vals[k])
	}
	if sum%103 != int(vals[len(vals)-1]) {
		return "", false
	}
	return c128Text(vals[:len(vals)-1])
}

// c128Text turns start and data values into text the way the row reader
// does without the GS1 hint: FNC1, FNC2 and FNC3 are dropped, FNC4 selects
// the upper half of ISO-8859-1.
func c128Text(vals []byte) (string, bool) {
	set := int(vals[0]) - c128StartA // 0 = A, 1 = B, 2 = C
	var out []byte
	shifted, upper, shiftUpper := false, false, false
	for _, b := range vals[1:] {
		v := int(b)
		unshift := shifted
		shifted = false
		switch set {
		case 0, 1:
			lim := 64
			if set == 1 {
				lim = 96
			}
			if v < lim || set == 0 && v < 96 {
				c := v + ' '
				if set == 0 && v >= 64 {
					c = v - 64
				}
				if shiftUpper != upper {
					c += 128
				}
				out = append(out, byte(c))
				shiftUpper = false
				break
			}
			fnc4 := c128CodeA
			if set == 1 {
				fnc4 = c128CodeB
			}
			switch {
			case v == fnc4:
				switch {
				case !upper && shiftUpper:
					upper, shiftUpper = true, false
				case upper && shiftUpper:
					upper, shiftUpper = false, false
				default:
					shiftUpper = true
				}
			case v == c128Shift:
				shifted = true
				set = 1 - set
			case v == c128CodeA:
				set = 0
			case v == c128CodeB:
				set = 1
			case v == c128CodeC:
				set = 2
			}
		case 2:
			switch {
			case v < 100:
				out = append(out, byte('0'+v/10), byte('0'+v%10))
			case v == c128CodeA:
				set = 0
			case v == c128CodeB:
				set = 1
			}
		}
		if unshift {
			set = 1 - set
		}
	}
	return string(out), len(out) > 0
}

// edgeVote sums, per character, the costs of the symbols of one shape
// (direction, length, contraction) parsed along several bands.
type edgeVote struct {
	sum   [][107]float64
	bands int
	wave  []waveBand // the first bands' profiles, for waveDecode
	sp    span       // rows and ends of the first and last band
}

// edgeShape identifies symbols whose characters line up across bands.
type edgeShape struct {
	rev bool
	n   int
	c   float64
}

// edge1D reads Code 128 symbols in bands of rows of p with the edge
// reader; m maps p to the image and step is the row spacing the row
// readers used. A text is recorded when edgeMinAgree bands read it alone
// or when edgeVoteBands bands, whose per-character costs are summed, read
// it together; when no band reads anything, the blind fit reads the
// whole plane (blindRead). It returns how many codes were new.
func (s *session) edge1D(p plane, m affine, step int) int {
	return s.edgeRead(p, m, step, true)
}

// edgeRead is edge1D, with the blind fit only when blind is set: the
// escalation's bar stages leave it to the model reader, which fits
// blurred bars better and at a cost the stages' budget accounts for.
func (s *session) edgeRead(p plane, m affine, step int, blind bool) int {
	if !s.formats[Code128] || p.w < 40 || p.h < 1 {
		return 0
	}
	step = max(1, step, (p.h+edgeMaxBands-1)/edgeMaxBands)
	rows := min(step, edgeMaxBandRows)
	prof := make([]float64, 0, p.w)
	grad := make([]float64, p.w)
	rng := make([]float64, p.w)
	wf := float64(p.w)
	var es, rev []edge
	spans := map[string]*span{}
	var order []string
	hit := func(text string, vals []byte, y int, x0, x1 float64) {
		sp, ok := spans[text]
		if !ok {
			res := gozxing.NewResult(text, vals, nil, gozxing.BarcodeFormat_CODE_128)
			sp = &span{res: res, y0: y, x0a: x0, x0b: x1}
			spans[text] = sp
			order = append(order, text)
		}
		if sp.hits == 0 || sp.y1 != y {
			sp.hits++
		}
		sp.y1, sp.x1a, sp.x1b = y, x0, x1
	}
	votes := map[edgeShape]*edgeVote{}
	var shapes []edgeShape
	for y := step / 2; y < p.h; y += step {
		y0 := max(0, y-rows/2)
		y1 := min(p.h, y0+rows)
		prof = bandProfile(p, y0, y1, prof)
		last, read := -1, false
		for _, frac := range edgeThresholds {
			es = profileEdges(prof, frac, grad, rng, es)
			if len(es) == last || len(es) < 2*6+8 {
				continue // the same edges as before, or too few for a symbol
			}
			last = len(es)
			// Right to left: an upside-down symbol.
			rev = rev[:0]
			for k := len(es) - 1; k >= 0; k-- {
				rev = append(rev, edge{x: wf - 1 - es[k].x, fall: !es[k].fall})
			}
			for _, c := range edgeContractions {
				for d, list := range [2][]edge{es, rev} {
					for _, cd := range c128Parse(list, wf, c) {
						wb := waveBand{x0: cd.x0, x1: cd.x1}
						if d == 1 {
							cd.x0, cd.x1 = wf-1-cd.x0, wf-1-cd.x1
						}
						if text, ok := c128Checked(cd.vals); ok && cd.strict {
							hit(text, cd.vals, y, cd.x0, cd.x1)
							read = true
						}
						k := edgeShape{d == 1, len(cd.vals), c}
						v := votes[k]
						if v == nil && len(shapes) >= edgeMaxShapes {
							continue
						}
						if v == nil {
							v = &edgeVote{sum: make([][107]float64, len(cd.vals)), sp: span{y0: y, x0a: cd.x0, x0b: cd.x1, y1: -1}}
							votes[k] = v
							shapes = append(shapes, k)
						}
						if v.sp.y1 == y {
							continue // one symbol of a shape per band
						}
						for i := range v.sum {
							for j := range v.sum[i] {
								v.sum[i][j] += cd.costs[i][j]
							}
						}
						v.bands++
						v.sp.y1, v.sp.x1a, v.sp.x1b = y, cd.x0, cd.x1
						if len(v.wave) < waveMaxBands {
							wb.prof = append([]float64(nil), prof...)
							if d == 1 {
								slices.Reverse(wb.prof)
							}
							v.wave = append(v.wave, wb)
						}
					}
				}
			}
			if read {
				break
			}
		}
	}
	// Bands read together: each character is the best fit of its summed
	// costs, which must be close and unambiguous per band on average.
	// Shapes differ in contraction alone read the same bands: the one
	// most bands parsed is fitted first, and one read of a direction and
	// length is enough.
	slices.SortStableFunc(shapes, func(a, b edgeShape) int { return votes[b].bands - votes[a].bands })
	type dirLen struct {
		rev bool
		n   int
	}
	done := map[dirLen]bool{}
	for _, k := range shapes {
		v := votes[k]
		if v.bands < edgeVoteBands || done[dirLen{k.rev, k.n}] {
			continue
		}
		vals := make([]byte, len(v.sum))
		ok := true
		for i := range v.sum {
			c, best, second := c128Pick(&v.sum[i], 0, len(v.sum[i]))
			vals[i] = byte(c)
			nb := float64(v.bands)
			ok = ok && c128Close(best/nb, second/nb)
		}
		text, checked := c128Checked(vals)
		if !ok || !checked {
			// The grey levels themselves, fitted with blurred patterns.
			wv, wok := waveDecode(v.wave, vals)
			if !wok {
				continue
			}
			if text, checked = c128Checked(wv); !checked {
				continue
			}
			vals = wv
		}
		done[dirLen{k.rev, k.n}] = true
		sp, seen := spans[text]
		if !seen {
			sp = &span{}
			*sp = v.sp
			sp.res = gozxing.NewResult(text, vals, nil, gozxing.BarcodeFormat_CODE_128)
			spans[text] = sp
			order = append(order, text)
		}
		sp.hits = max(sp.hits, v.bands)
	}
	agreed := false
	for _, sp := range spans {
		agreed = agreed || sp.hits >= edgeMinAgree
	}
	if !agreed && blind {
		// Nothing read: the narrow bars may have blurred away.
		start := time.Now()
		text, vals, x0, x1, y0, y1, ok := blindRead(p)
		s.blind += time.Since(start)
		if ok {
			res := gozxing.NewResult(text, vals, nil, gozxing.BarcodeFormat_CODE_128)
			if _, seen := spans[text]; !seen {
				order = append(order, text)
			}
			spans[text] = &span{res: res, hits: 2, y0: y0, y1: y1, x0a: x0, x0b: x1, x1a: x0, x1b: x1}
		}
	}
	n := 0
	for _, k := range order {
		sp := spans[k]
		if sp.hits < edgeMinAgree {
			continue
		}
		pts := []Point{
			m.apply(sp.x0a, float64(sp.y0)), m.apply(sp.x0b, float64(sp.y0)),
			m.apply(sp.x1b, float64(sp.y1)), m.apply(sp.x1a, float64(sp.y1)),
		}
		if s.add(sp.res, pts, sp.hits) {
			n++
		}
	}
	return n
}
