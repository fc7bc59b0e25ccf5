package scan

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/makiuchi-d/gozxing"
)

// The model reader reads Code 128 whose blur is about as wide as a
// module, where narrow bars and spaces no longer make edges of their own
// and the edge reader (edge1d.go) has little to measure. It works by
// synthesis: the grey profile across the bars (the rows of bars averaged
// along them) is compared with the profile a symbol would make, every
// module blurred by a Gaussian, and a beam search over the characters
// keeps the sequences that fit best, one character at a time:
//   - the symbol's ends come from its quiet zones; its length in
//     characters, its direction and the blur are tried, best first by
//     the fit of the start and stop characters;
//   - each character's window is fitted by least squares with grey
//     levels of its own (glare, uneven light), held close to the previous
//     window's, since the depth of the grey levels is the cue left to
//     tell narrow elements from wide ones once blur has merged them;
//   - the module grid may drift from character to character (perspective
//     makes the pitch change along the code);
//   - the check character is not searched but computed from the others,
//     and a text is reported only when its fit is close and clearly
//     better than that of every other text the search kept.

// Model reader limits.
const (
	// modelBeam is how many partial symbols the search keeps.
	modelBeam = 32
	// modelTopValues is how many values of each partial symbol are also
	// tried with the grid drifting.
	modelTopValues = 6
	// modelDriftUnit is the step of the grid's drift, in modules: a
	// character's offset from the even grid, and its change from one
	// character to the next, move in these steps.
	modelDriftUnit = 1.0 / 16
	// modelMaxOffset bounds the grid's offset (drift units: 3 modules)
	// and modelMaxSlope its change per character.
	modelMaxOffset = 48
	modelMaxSlope  = 10
	// modelSlopeStep spaces the changes per character the search starts
	// from: none, and one and two steps either way.
	modelSlopeStep = 3
	// modelSamples is about how many profile samples a module gets: a
	// finer profile is averaged down to it.
	modelSamples = 2.5
	// modelMinModule and modelMaxModule bound the module widths tried,
	// in image pixels. A label 40 % of a 12 MP frame wide has modules of
	// about 9 px, more at the near end of a label held at a slant; the
	// reader reads them up to about 10 px, past which noise in the quiet
	// zones breaks the edges that place the symbol.
	modelMinModule, modelMaxModule = 1.2, 16.0
	// modelMaxChars bounds the characters of a symbol (start and check
	// included).
	modelMaxChars = 48
	// modelTries is how many lengths, directions and blurs, best first by
	// the fit of their start and stop characters, are searched in full.
	modelTries = 6
	// modelPrior is the weight of the previous window's levels in a
	// window's fit, as a share of the window's own samples.
	modelPrior = 0.5
	// modelNoiseFit and modelMaxResidual bound the mean squared residual
	// of a read: modelNoiseFit times the profile's noise variance plus
	// modelMaxResidual of its squared contrast (what the model leaves out:
	// JPEG, the sampling of the rows).
	modelNoiseFit    = 2.5
	modelMaxResidual = 0.003
	// modelMinMargin is how much worse the best other text must fit, in
	// units of the read's residual variance per sample (about twice a
	// log likelihood ratio).
	modelMinMargin = 60
	// modelWarpMargin is the least margin (the same units) of a read of
	// a profile warped for perspective (readPitches): each warp is one
	// more chance for a wrong text to fit. From windows placed by the
	// truth and off it on the hard photos of seeds 7 and 1, 14 of the 17
	// wrong texts read from warped profiles had margins under 100, against
	// 8 of the 171 right ones; in a scan of seed 1 hard 8, a warped
	// profile gave a wrong 12-digit SN at 97.
	modelWarpMargin = 100
	// modelMinSymbols is the fewest symbol values (start and check
	// included) of a read: a serial number or an IMEI takes 8 or more
	// (twelve digits in code set C, six characters in set B), while a
	// short symbol fits part of a code whose rest a glare washes out,
	// and its quiet zones with it.
	modelMinSymbols = 8
	// modelMaxCheckGap is how much worse (same units) the best fit may
	// be than the best with the check character free.
	modelMaxCheckGap = 3
	// modelAbandon is how many times the largest mean squared residual
	// of a read the best partial symbol may reach before its placement is
	// given up.
	modelAbandon = 3
	// modelMaxTables bounds the window tables one fit keeps (each up to
	// about 90 KB): past it they are dropped and made again when needed
	// (those dropped go back to the read's pool of tables when the next
	// are).
	modelMaxTables = 128
	// modelQuiet is how many modules of quiet zone the end windows take
	// in.
	modelQuiet = 3
	// modelShifts is how far (drift units) each end is moved, both ways,
	// when start and stop are fitted, in steps of modelShiftStep.
	modelShifts, modelShiftStep = 8, 4
)

// modelBlurs are the blur widths tried, Gaussian sigma in modules.
var modelBlurs = []float64{0.5, 0.7, 0.9, 1.1, 1.3}

// modelGammas are the tone curves tried: a photo's grey level is light
// raised to one of these powers.
var modelGammas = [...]float64{0.7, 1, 1.4}

// modelLinear is the index of gamma 1 in modelGammas.
const modelLinear = 1

// modelResult is one symbol read from a profile.
type modelResult struct {
	text   string
	vals   []byte  // start, data and check values
	x0, x1 float64 // the symbol's ends in the profile, start first
	margin float64 // how much better it fits than the next text (see modelFound)
}

// readModel reads one Code 128 symbol from prof, a profile across bars
// whose samples are step image pixels apart.
func readModel(ctx context.Context, prof []float64, step float64) (modelResult, bool) {
	return readModelWith(ctx, prof, step, false)
}

// readModelWith is readModel; with trend the grey levels may change along
// each character's window (see trendFit).
func readModelWith(ctx context.Context, prof []float64, step float64, trend bool) (modelResult, bool) {
	if len(prof) < 40 || step <= 0 {
		return modelResult{}, false
	}
	w := float64(len(prof))
	grad := make([]float64, len(prof))
	rng := make([]float64, len(prof))
	// The profile made linear in light for each tone curve tried, in
	// both directions.
	var srcs [len(modelGammas)][2]*modelSource
	pool := modelPools.Get().(*modelPool)
	defer modelPools.Put(pool)
	for g, gm := range modelGammas {
		lin := make([]float64, len(prof))
		for x, y := range prof {
			lin[x] = 255 * math.Pow(math.Max(0, y)/255, 1/gm)
		}
		rev := slices.Clone(lin)
		slices.Reverse(rev)
		srcs[g] = [2]*modelSource{newModelSource(lin, pool), newModelSource(rev, pool)}
		srcs[g][0].trend, srcs[g][1].trend = trend, trend
	}
	var tries []*modelTry
	type extent struct {
		rev    bool
		xa, xb float64
	}
	var seen []extent
	for _, frac := range []float64{0.05, 0.02} {
		es := profileEdges(prof, frac, grad, rng, nil)
		for d := range 2 {
			list := es
			if d == 1 {
				list = make([]edge, len(es))
				for k, e := range es {
					list[len(es)-1-k] = edge{x: w - 1 - e.x, fall: !e.fall}
				}
			}
			for _, ratio := range []float64{blindQuietRatio, 0.8} {
				i, j, ok := quietExtent(list, w, ratio)
				if !ok {
					continue
				}
				x := extent{d == 1, list[i].x, list[j].x}
				if slices.ContainsFunc(seen, func(y extent) bool {
					return y.rev == x.rev && math.Abs(y.xa-x.xa) < 2 && math.Abs(y.xb-x.xb) < 2
				}) {
					continue
				}
				seen = append(seen, x)
				tries = append(tries, modelEnds(srcs[modelLinear][d], x.xa, x.xb, step, x.rev)...)
			}
		}
		if ctx.Err() != nil {
			return modelResult{}, false
		}
	}
	slices.SortFunc(tries, func(a, b *modelTry) int { return cmp.Compare(a.cost, b.cost) })
	var reads []modelFound
	for _, t := range spreadTries(tries, modelTries) {
		if ctx.Err() != nil {
			return modelResult{}, false
		}
		// The tone curve: the one whose start and stop fit best.
		d := 0
		if t.rev {
			d = 1
		}
		for g := range modelGammas {
			if g == modelLinear {
				continue
			}
			if o := modelEndsFit(srcs[g][d], t.xa, t.xb, t.n, t.blur, t.rev); o != nil && o.cost < t.cost {
				t = o
			}
		}
		// The closest fit must be close to the noise, and clearly closer
		// than every other text, whether of its own placement or of
		// another.
		limit := modelNoiseFit*t.src.noise + modelMaxResidual*t.src.contrast*t.src.contrast
		f := newModelFit(t.src, t.x0, t.x1, t.n, t.blur)
		r, ok := f.search(ctx, modelAbandon*limit)
		modules := f.modules()
		f.release()
		if !ok {
			continue
		}
		r.try = t
		reads = append(reads, r)
		if r.mean <= limit && r.clear && !modelRivals(r, reads) && len(r.vals) >= modelMinSymbols && quietEnds(t.src, t.x0, t.x1, modules) {
			return r.result(w), true
		}
	}
	return modelResult{}, false
}

// Quiet zone check (quietEnds).
const (
	// modelQuietFrom and modelQuietTo bound the stretch beside each end
	// of a read, in modules, whose fine changes are measured: past the
	// blur of the last bar, within the ten modules of quiet zone a Code
	// 128 needs.
	modelQuietFrom, modelQuietTo = 3, 10
	// modelMaxQuiet is the most the changes there may reach, as a share
	// of those over the symbol (the noise taken out of both). Reads of
	// whole codes from windows placed by the truth stay under 0.1 on the
	// hard photos; a read of part of a code, its "quiet zone" a stretch of
	// bars, reaches 0.45 and more.
	modelMaxQuiet = 0.25
)

// quietEnds reports whether the stretches beside a read from x0 to x1
// (samples of src's profile, modules modules long) are as quiet as a
// Code 128's quiet zones: the model reader fits a start or stop
// character to blurred bars inside a code too, and more readily the
// more warps of one profile it is given. A side the profile cuts short
// is not judged.
func quietEnds(src *modelSource, x0, x1 float64, modules int) bool {
	if x0 > x1 {
		x0, x1 = x1, x0
	}
	prof := src.prof
	mw := (x1 - x0) / float64(modules)
	d := max(1, int(math.Round(mw)))
	// energy is the mean squared change over d samples on [a, b), less
	// what the noise gives it.
	energy := func(a, b float64) (float64, bool) {
		ia, ib := max(0, int(a)), min(len(prof)-d, int(b))
		if ib-ia < 3*d {
			return 0, false
		}
		s := 0.0
		for x := ia; x < ib; x++ {
			v := prof[x+d] - prof[x]
			s += v * v
		}
		return s/float64(ib-ia) - 2*src.noise, true
	}
	in, _ := energy(x0, x1)
	in = math.Max(in, 1)
	for _, side := range [][2]float64{{x0 - modelQuietTo*mw, x0 - modelQuietFrom*mw}, {x1 + modelQuietFrom*mw, x1 + modelQuietTo*mw}} {
		if e, ok := energy(side[0], side[1]); ok && e > modelMaxQuiet*in {
			return false
		}
	}
	return true
}

// spreadTries returns the first n of tries (sorted best first) to be
// searched: the best placement of each pair of outer edges first, then
// the next best of any. The lengths tried between one pair of edges fit
// their start and stop alike, so that one wrong pair would take every
// search: the dark background beside a label, taken for a bar, makes an
// end that fits a start or stop character better than the true quiet
// zone does.
func spreadTries(tries []*modelTry, n int) []*modelTry {
	type ends struct {
		rev    bool
		xa, xb int
	}
	seen := map[ends]bool{}
	out := make([]*modelTry, 0, n)
	var rest []*modelTry
	for _, t := range tries {
		k := ends{t.rev, int(math.Round(t.xa)), int(math.Round(t.xb))}
		if seen[k] || len(out) == n {
			rest = append(rest, t)
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	out = append(out, rest[:min(len(rest), n-len(out))]...)
	slices.SortStableFunc(out, func(a, b *modelTry) int { return cmp.Compare(a.cost, b.cost) })
	return out
}

// modelSource is a profile prepared for fitting: averaged down by each
// factor asked for, with running sums for the windows' fits.
type modelSource struct {
	trend    bool // fit levels that change along each window (trendFit)
	prof     []float64
	noise    float64 // variance of the noise
	contrast float64
	byK      map[int]*modelAveraged
	pool     *modelPool // window tables no fit uses any more
}

// modelAveraged is a profile averaged down k times, with the running sums
// of its samples and of their squares.
type modelAveraged struct {
	y, sum, sum2 []float64
}

// newModelSource prepares prof; its fits take their window tables from
// pool.
func newModelSource(prof []float64, pool *modelPool) *modelSource {
	lo, hi := profileRange(prof)
	return &modelSource{prof: prof, noise: profileNoise(prof), contrast: math.Max(8, hi-lo), byK: map[int]*modelAveraged{}, pool: pool}
}

// averaged returns the profile averaged down k times.
func (s *modelSource) averaged(k int) *modelAveraged {
	if m, ok := s.byK[k]; ok {
		return m
	}
	n := len(s.prof) / k
	m := &modelAveraged{y: make([]float64, n), sum: make([]float64, n+1), sum2: make([]float64, n+1)}
	for i := range m.y {
		v := 0.0
		for _, x := range s.prof[i*k : i*k+k] {
			v += x
		}
		v /= float64(k)
		m.y[i] = v
		m.sum[i+1], m.sum2[i+1] = m.sum[i]+v, m.sum2[i]+v*v
	}
	s.byK[k] = m
	return m
}

// modelRivals reports whether a read of reads other than r, of another
// text, fits nearly as well as r.
func modelRivals(r modelFound, reads []modelFound) bool {
	for _, o := range reads {
		if o.text != r.text && (o.mean-r.mean)*float64(r.samples)/r.mean < modelMinMargin {
			return true
		}
	}
	return false
}

// result returns the read, its ends in a profile w samples long.
func (best modelFound) result(w float64) modelResult {
	x0, x1 := best.try.x0, best.try.x1
	if best.try.rev {
		x0, x1 = w-1-x0, w-1-x1
	}
	return modelResult{text: best.text, vals: best.vals, x0: x0, x1: x1, margin: best.margin}
}

// modelFound is the best fit of one placement.
type modelFound struct {
	try     *modelTry
	vals    []byte
	text    string
	mean    float64 // mean squared residual per sample
	samples int
	clear   bool    // no other text of the placement fits nearly as well
	gap     float64 // how much worse the fit is than with the check free
	margin  float64 // how much better than the next text's
}

// profileNoise estimates the variance of the noise of prof from its
// second differences, in blocks, taking a low quantile over the blocks:
// the quiet zones and the wide elements, where blur leaves the profile
// smooth, hold noise alone.
func profileNoise(prof []float64) float64 {
	const block = 16
	var vs []float64
	for i := 1; i+block < len(prof); i += block {
		s := 0.0
		for k := i; k < i+block; k++ {
			d := prof[k-1] - 2*prof[k] + prof[k+1]
			s += d * d
		}
		vs = append(vs, s/(6*block))
	}
	if len(vs) == 0 {
		return 1
	}
	slices.Sort(vs)
	return math.Max(1, vs[len(vs)/5])
}

// profileRange returns the 5th and 95th percentile of prof.
func profileRange(prof []float64) (float64, float64) {
	s := slices.Clone(prof)
	slices.Sort(s)
	return s[len(s)/20], s[len(s)-1-len(s)/20]
}

// modelTry is one placement of a symbol: direction, length, blur, ends,
// and how well its start and stop characters fit there.
type modelTry struct {
	src    *modelSource
	rev    bool
	n      int
	blur   float64
	xa, xb float64 // the outer edges found
	x0, x1 float64 // the ends fitted
	cost   float64
}

// modelEnds returns the placements of a symbol whose outer edges lie
// near xa and xb in prof (samples step image pixels apart): every length
// with a plausible module and every blur, each end moved to fit its
// start or stop character best, scored by that fit per sample.
func modelEnds(src *modelSource, xa, xb, step float64, rev bool) []*modelTry {
	var out []*modelTry
	for n := 3; n <= modelMaxChars; n++ {
		mw := (xb - xa) / float64(11*n+13)
		if mw*step < modelMinModule {
			break
		}
		if mw*step > modelMaxModule {
			continue
		}
		var best *modelTry
		for _, bl := range modelBlurs {
			if t := modelEndsFit(src, xa, xb, n, bl, rev); t != nil && (best == nil || t.cost < best.cost) {
				best = t
			}
		}
		if best != nil {
			out = append(out, best)
		}
	}
	return out
}

// modelEndsFit places an n-character symbol with blur bl (modules) whose
// outer edges lie near xa and xb of src: each end moved to fit its start
// or stop character best. The cost is the fit per sample, as a share of
// the squared contrast.
func modelEndsFit(src *modelSource, xa, xb float64, n int, bl float64, rev bool) *modelTry {
	f := newModelFit(src, xa, xb, n, bl)
	c0, c1 := math.Inf(1), math.Inf(1)
	var s0, s1 int
	for s := -modelShifts; s <= modelShifts; s += modelShiftStep {
		for v := c128StartA; v < c128Stop; v++ {
			if c, _, _ := f.cost(0, s, -2, v, -1, 0, 0, false); c < c0 {
				c0, s0 = c, s
			}
		}
		if c, _, _ := f.cost(f.n, s, -1, c128Stop, -2, 0, 0, false); c < c1 {
			c1, s1 = c, s
		}
	}
	f.release()
	np := f.wins[0][1] - f.wins[0][0] + f.wins[f.n][1] - f.wins[f.n][0]
	if np <= 0 {
		return nil
	}
	return &modelTry{src: src, rev: rev, n: n, blur: bl, xa: xa, xb: xb,
		cost: (c0 + c1) / float64(np) / (src.contrast * src.contrast),
		x0:   f.x0at(s0)*f.scale + f.scale/2 - 0.5,
		x1:   f.x0at(s1)*f.scale + float64(f.modules())*f.mw*f.scale + f.scale/2 - 0.5}
}

// modelFit is the state of fitting one placement: the profile (averaged
// down), the grid, the blur and the windows of the characters.
type modelFit struct {
	prof   []float64
	scale  float64 // profile samples averaged into one of prof
	x0     float64 // left edge of the start character, samples of prof
	mw     float64 // module width, samples of prof
	sigma  float64 // blur, samples of prof
	n      int     // characters: start, data and check
	wins   [][2]int
	sy     []float64 // per window: sum of samples
	syy    []float64 // and of their squares
	sty    []float64 // and of samples times their place (see trendAt)
	trend  bool      // levels may change along each window (trendFit)
	tables map[[2]int]*modelTable
	// retired are the tables dropped from tables when it was last
	// cleared: a caller may still hold one, so they go back to the pool
	// only when it is cleared again.
	retired []*modelTable
	pool    *modelPool
	at      map[int][]float64 // trendAt of windows' samples, by length
}

// newModelFit places an n-character symbol from x0 to x1 (outer edges of
// start and stop, samples of prof) with blur sigma in modules.
func newModelFit(src *modelSource, x0, x1 float64, n int, blur float64) *modelFit {
	mods := float64(11*n + 13)
	mw := (x1 - x0) / mods
	k := max(1, int(mw/modelSamples))
	ms := src.averaged(k)
	f := &modelFit{prof: ms.y, scale: float64(k), n: n, trend: src.trend, tables: map[[2]int]*modelTable{}, pool: src.pool,
		wins: make([][2]int, 0, n+1), sy: make([]float64, 0, n+1), syy: make([]float64, 0, n+1)}
	if f.trend {
		f.sty = make([]float64, 0, n+1)
	}
	// Sample i of the averaged profile stands for samples ik..ik+k-1,
	// centred on ik+(k-1)/2.
	sc := float64(k)
	f.x0 = (x0 - (sc-1)/2) / sc
	f.mw = mw / sc
	// The pixel's own width blurs too.
	f.sigma = math.Sqrt(blur*blur*f.mw*f.mw + 1.0/12)
	np := len(f.prof)
	clip := func(x float64) int { return min(np, max(0, int(math.Ceil(x)))) }
	for j := 0; j <= n; j++ {
		a := f.x0 + float64(11*j)*f.mw
		b := a + 11*f.mw
		if j == 0 {
			a -= modelQuiet * f.mw
		}
		if j == n {
			b = a + (13+modelQuiet)*f.mw
		}
		w := [2]int{clip(a), clip(b)}
		f.wins = append(f.wins, w)
		f.sy = append(f.sy, ms.sum[w[1]]-ms.sum[w[0]])
		f.syy = append(f.syy, ms.sum2[w[1]]-ms.sum2[w[0]])
		if f.trend {
			sty := 0.0
			for i, y := range ms.y[w[0]:w[1]] {
				sty += trendAt(i, w[1]-w[0]) * y
			}
			f.sty = append(f.sty, sty)
		}
	}
	return f
}

// modules returns the symbol's width in modules.
func (f *modelFit) modules() int { return 11*f.n + 13 }

// x0at returns the start's left edge with the grid offset by o.
func (f *modelFit) x0at(o int) float64 { return f.x0 + float64(o)*modelDriftUnit*f.mw }

// modelTable holds, for one window and grid offset, the coverage by bars
// of each sample for every value of the window's character and its two
// neighbours, computed when first asked for.
type modelTable struct {
	w0, np          int     // the window's first sample and its samples
	base, mw, sigma float64 // the window's grid and blur (see modelFit)
	// phi is, per module boundary k from 11(j-1) on, Φ at each sample.
	phi  [36][]float64
	cov  [3][107][]float64
	mean []float64 // the right neighbour's coverage averaged over data values
	// The slices above are cut from chunks, kept when the table goes
	// back to the pool.
	chunks  [][]float64
	ci, off int
}

// modelChunk is the size (float64s) of the chunks tables cut their
// slices from.
const modelChunk = 4096

// modelPool holds window tables no fit uses any more, for the next fits
// to reuse: a read makes and drops thousands of them.
type modelPool struct {
	free []*modelTable
}

// modelPools holds the pools of reads done, for the next reads.
var modelPools = sync.Pool{New: func() any { return &modelPool{} }}

// get returns a table, reused when one is free, emptied.
func (p *modelPool) get() *modelTable {
	if p == nil || len(p.free) == 0 {
		return &modelTable{}
	}
	t := p.free[len(p.free)-1]
	p.free = p.free[:len(p.free)-1]
	chunks := t.chunks
	*t = modelTable{chunks: chunks}
	return t
}

// put gives ts back to the pool.
func (p *modelPool) put(ts ...*modelTable) {
	if p != nil {
		p.free = append(p.free, ts...)
	}
}

// take returns n float64s of t's chunks, to be written before read.
func (t *modelTable) take(n int) []float64 {
	for {
		if t.ci < len(t.chunks) {
			if c := t.chunks[t.ci]; t.off+n <= len(c) {
				s := c[t.off : t.off+n : t.off+n]
				t.off += n
				return s
			}
			t.ci++
			t.off = 0
			continue
		}
		t.chunks = append(t.chunks, make([]float64, max(modelChunk, n)))
	}
}

// release gives every table of f back to the pool: f is not used any
// more.
func (f *modelFit) release() {
	for _, t := range f.tables {
		f.pool.put(t)
	}
	f.pool.put(f.retired...)
	clear(f.tables)
	f.retired = f.retired[:0]
}

// c128BarShare is, for each module of a data character, the share of
// data values with a bar there.
var c128BarShare = func() (s [11]float64) {
	for v := 0; v < c128StartA; v++ {
		for k, b := range c128AllBits[v] {
			if b {
				s[k] += 1.0 / c128StartA
			}
		}
	}
	return s
}()

// table returns window j's table at grid offset o.
func (f *modelFit) table(j, o int) *modelTable {
	key := [2]int{j, o}
	if t, ok := f.tables[key]; ok {
		return t
	}
	if len(f.tables) >= modelMaxTables {
		f.pool.put(f.retired...)
		f.retired = f.retired[:0]
		for _, t := range f.tables {
			f.retired = append(f.retired, t)
		}
		clear(f.tables)
	}
	w := f.wins[j]
	t := f.pool.get()
	t.w0, t.np = w[0], w[1]-w[0]
	t.base, t.mw, t.sigma = f.x0at(o)+float64(11*(j-1))*f.mw, f.mw, f.sigma
	f.tables[key] = t
	return t
}

// boundary returns Φ at module boundary k of t at each sample.
func (t *modelTable) boundary(k int) []float64 {
	if c := t.phi[k]; c != nil {
		return c
	}
	c := t.take(t.np)
	for i := range c {
		x := float64(t.w0 + i)
		c[i] = phi((x - t.base - float64(k)*t.mw) / t.sigma)
	}
	t.phi[k] = c
	return c
}

// coverage returns the coverage of window j's samples by the bars of
// value v placed as neighbour p (0 left, 1 own, 2 right).
func (t *modelTable) coverage(p, v int) []float64 {
	if c := t.cov[p][v]; c != nil {
		return c
	}
	c := t.take(t.np)
	clear(c)
	pat := c128Patterns[v]
	k := 11 * p
	for e := 0; e < len(pat); e++ {
		wd := int(pat[e] - '0')
		if e%2 == 0 {
			lo, hi := t.boundary(k), t.boundary(k+wd)
			lo, hi = lo[:len(c)], hi[:len(c)]
			for i := range c {
				c[i] += lo[i] - hi[i]
			}
		}
		k += wd
	}
	t.cov[p][v] = c
	return c
}

// meanRight returns the coverage of window j's samples by a right
// neighbour of unknown data value.
func (t *modelTable) meanRight() []float64 {
	if t.mean != nil {
		return t.mean
	}
	m := t.take(t.np)
	clear(m)
	for k, pb := range c128BarShare {
		lo, hi := t.boundary(22+k), t.boundary(23+k)
		lo, hi = lo[:len(m)], hi[:len(m)]
		for i := range m {
			m[i] += pb * (lo[i] - hi[i])
		}
	}
	t.mean = m
	return m
}

// cost fits window j at grid offset o with own value v, left neighbour l
// and right neighbour r (-1: a data value not yet known; -2: none, quiet
// zone) and returns the squared residual with the levels' departure from
// (ap, bp) when prior is set, and the levels fitted: grey = a + b·coverage.
func (f *modelFit) cost(j, o, l, v, r int, ap, bp float64, prior bool) (c, a, b float64) {
	return f.costIn(f.table(j, o), j, l, v, r, ap, bp, prior)
}

// costIn is cost with window j's table at the grid offset given.
func (f *modelFit) costIn(t *modelTable, j, l, v, r int, ap, bp float64, prior bool) (c, a, b float64) {
	return f.solve(j, f.sums(t, j, l, v, r), ap, bp, prior)
}

// modelSums are the sums over a window's samples that its fit needs: of
// the coverage, its square, coverage times grey level and coverage times
// place (trend only).
type modelSums struct{ sr, srr, sry, srt float64 }

// sums returns the sums of window j (table t) with own value v and
// neighbours l and r, as in cost.
func (f *modelFit) sums(t *modelTable, j, l, v, r int) modelSums {
	w := f.wins[j]
	np := w[1] - w[0]
	if np <= 0 {
		return modelSums{}
	}
	own := t.coverage(1, v)
	var left, right []float64
	if l >= 0 && j > 0 {
		left = t.coverage(0, l)
	}
	switch {
	case r >= 0 && j < f.n:
		right = t.coverage(2, r)
	case r == -1 && j < f.n:
		right = t.meanRight()
	}
	var sr, srr, sry, srt float64
	ys := f.prof[w[0]:w[1]]
	own = own[:len(ys)]
	switch {
	case f.trend:
		at := f.places(np)
		for i, y := range ys {
			x := own[i]
			if left != nil {
				x += left[i]
			}
			if right != nil {
				x += right[i]
			}
			sr, srr, sry = sr+x, srr+x*x, sry+x*y
			srt += x * at[i]
		}
	case left != nil && right != nil:
		left, right = left[:len(ys)], right[:len(ys)]
		for i, y := range ys {
			x := own[i] + left[i] + right[i]
			sr, srr, sry = sr+x, srr+x*x, sry+x*y
		}
	case left != nil:
		left = left[:len(ys)]
		for i, y := range ys {
			x := own[i] + left[i]
			sr, srr, sry = sr+x, srr+x*x, sry+x*y
		}
	case right != nil:
		right = right[:len(ys)]
		for i, y := range ys {
			x := own[i] + right[i]
			sr, srr, sry = sr+x, srr+x*x, sry+x*y
		}
	default:
		for i, y := range ys {
			x := own[i]
			sr, srr, sry = sr+x, srr+x*x, sry+x*y
		}
	}
	return modelSums{sr, srr, sry, srt}
}

// solve fits window j from its sums s, as costIn.
func (f *modelFit) solve(j int, s modelSums, ap, bp float64, prior bool) (c, a, b float64) {
	w := f.wins[j]
	np := w[1] - w[0]
	if np <= 0 {
		return 0, ap, bp
	}
	sr, srr, sry, srt := s.sr, s.srr, s.sry, s.srt
	n := float64(np)
	if f.trend {
		return f.trendFit(j, n, sr, srr, sry, srt, bp, prior)
	}
	sy, syy := f.sy[j], f.syy[j]
	la, lb := 0.0, 0.0
	if prior {
		la, lb = modelPrior*n, modelPrior*n*0.1
	}
	a11, a12, a22 := n+la, sr, srr+lb
	b1, b2 := sy+la*ap, sry+lb*bp
	det := a11*a22 - a12*a12
	if det > 1e-9 {
		a, b = (b1*a22-a12*b2)/det, (a11*b2-a12*b1)/det
	}
	if det <= 1e-9 || b > 0 {
		// Bars no darker than spaces: a flat fit.
		a, b = b1/a11, 0
		if prior {
			b = math.Min(0, bp)
			a = (sy - b*sr + la*ap) / a11
		}
	}
	res := syy - 2*a*sy - 2*b*sry + a*a*n + 2*a*b*sr + b*b*srr
	return math.Max(0, res) + la*(a-ap)*(a-ap) + lb*(b-bp)*(b-bp), a, b
}

// places returns trendAt of each sample of a window of n samples.
func (f *modelFit) places(n int) []float64 {
	if at, ok := f.at[n]; ok {
		return at
	}
	at := make([]float64, n)
	for i := range at {
		at[i] = trendAt(i, n)
	}
	if f.at == nil {
		f.at = map[int][]float64{}
	}
	f.at[n] = at
	return at
}

// trendAt is the place of sample i of a window of n samples, centred:
// from about -1/2 to 1/2.
func trendAt(i, n int) float64 { return (float64(i) - float64(n-1)/2) / float64(n) }

// trendFit fits window j's samples (n of them, sums as in costIn, srt
// that of coverage times place) with grey = a + b·coverage + c·place:
// levels that change along the window, as they do where a glare's edge
// crosses the bars. The paper level a is not held to the previous
// window's (a glare's edge moves it by more than the bars' contrast from
// one character to the next); the depth b is, as in costIn.
func (f *modelFit) trendFit(j int, n, sr, srr, sry, srt, bp float64, prior bool) (cost, a, b float64) {
	sy, syy, sty := f.sy[j], f.syy[j], f.sty[j]
	stt := (n*n - 1) / (12 * n)
	lb := 0.0
	if prior {
		lb = modelPrior * n * 0.1
	}
	// Normal equations M·(a, b, c) = v; the places sum to 0.
	m11, m12, m22, m23, m33 := n, sr, srr+lb, srt, stt
	v1, v2, v3 := sy, sry+lb*bp, sty
	var c float64
	det := m11*(m22*m33-m23*m23) - m12*m12*m33
	if det > 1e-9 {
		a = (v1*(m22*m33-m23*m23) - m12*(v2*m33-m23*v3)) / det
		b = (m11*(v2*m33-m23*v3) - v1*m12*m33) / det
		c = (m11*(m22*v3-m23*v2) - m12*(m12*v3) + v1*m12*m23) / det
	}
	if det <= 1e-9 || b > 0 {
		b = 0
		if prior {
			b = math.Min(0, bp)
		}
		a = (v1 - b*sr) / m11
		c = (v3 - b*srt) / m33
	}
	res := syy - 2*a*sy - 2*b*sry - 2*c*sty + a*a*n + b*b*srr + c*c*stt + 2*a*b*sr + 2*b*c*srt
	return math.Max(0, res) + lb*(b-bp)*(b-bp), a, b
}

// modelHyp is one partial symbol of the search.
type modelHyp struct {
	vals []byte
	sum  int     // check sum of vals
	cost float64 // exact cost of every window but the last value's
	rank float64 // cost plus the last window's, its right neighbour unknown
	o, e int     // grid offset of the last window, and its change per window
	a, b float64 // levels of the last window fitted exactly
}

// search runs the beam search and returns the values (start, data,
// check) that fit best, with their fit, when they make a text; it gives
// up when the fit per sample of every partial symbol exceeds abandon.
func (f *modelFit) search(ctx context.Context, abandon float64) (modelFound, bool) {
	n := f.n
	var beam []modelHyp
	for v := c128StartA; v < c128Stop; v++ {
		c, _, _ := f.cost(0, 0, -2, v, -1, 0, 0, false)
		for e := -2 * modelSlopeStep; e <= 2*modelSlopeStep; e += modelSlopeStep {
			beam = append(beam, modelHyp{vals: []byte{byte(v)}, sum: v, rank: c, e: e})
		}
	}
	// Each partial symbol is extended by every data value, the grid
	// drifting as it did; the values that fit best are also tried with
	// the drift changed by a step either way.
	type cand struct {
		h, v, o, e int
		ex, rank   float64
		a, b       float64
	}
	all := make([]cand, 0, modelBeam*c128StartA)
	// Partial symbols that share their last window's grid offset and
	// last two values share the sums of its fit for every next value, and
	// those that share the next window's offset and their last value
	// share that window's: each is summed once a step.
	exSums := make([][c128StartA]modelSums, modelBeam)
	pcSums := make([][c128StartA]modelSums, modelBeam)
	exKeys := make([][3]int, 0, modelBeam)
	pcKeys := make([][2]int, 0, modelBeam)
	ranks := make([]float64, 0, cap(all))
	for j := 1; j < n-1; j++ {
		if ctx.Err() != nil {
			return modelFound{}, false
		}
		all = all[:0]
		exKeys, pcKeys = exKeys[:0], pcKeys[:0]
		for hi, h := range beam {
			left := -2
			if j >= 2 {
				left = int(h.vals[j-2])
			}
			last := int(h.vals[j-1])
			o0 := clampInt(h.o+h.e, modelMaxOffset)
			var top [modelTopValues]int
			nt := 0
			t1, t2 := f.table(j-1, h.o), f.table(j, o0)
			ki := slices.Index(exKeys, [3]int{h.o, left, last})
			if ki < 0 {
				ki = len(exKeys)
				exKeys = append(exKeys, [3]int{h.o, left, last})
				for v := range exSums[ki] {
					exSums[ki][v] = f.sums(t1, j-1, left, last, v)
				}
			}
			pi := slices.Index(pcKeys, [2]int{o0, last})
			if pi < 0 {
				pi = len(pcKeys)
				pcKeys = append(pcKeys, [2]int{o0, last})
				for v := range pcSums[pi] {
					pcSums[pi][v] = f.sums(t2, j, last, v, -1)
				}
			}
			for v := 0; v < c128StartA; v++ {
				ex, a, b := f.solve(j-1, exSums[ki][v], h.a, h.b, j > 1)
				pc, _, _ := f.solve(j, pcSums[pi][v], a, b, true)
				all = append(all, cand{hi, v, o0, h.e, ex, h.cost + ex + pc, a, b})
				k := len(all) - 1
				switch {
				case nt < modelTopValues:
					top[nt] = k
					nt++
				case all[k].rank < all[top[nt-1]].rank:
					top[nt-1] = k
				default:
					continue
				}
				for i := nt - 1; i > 0 && all[top[i]].rank < all[top[i-1]].rank; i-- {
					top[i], top[i-1] = top[i-1], top[i]
				}
			}
			for _, k := range top[:nt] {
				c := &all[k]
				for _, de := range []int{-1, 1} {
					e := clampInt(h.e+de, modelMaxSlope)
					o := clampInt(h.o+e, modelMaxOffset)
					pc, _, _ := f.cost(j, o, last, c.v, -1, c.a, c.b, true)
					if r := h.cost + c.ex + pc; r < c.rank {
						c.o, c.e, c.rank = o, e, r
					}
				}
			}
		}
		ranks = ranks[:0]
		for _, c := range all {
			ranks = append(ranks, c.rank)
		}
		limit := kthSmallest(ranks, min(len(ranks), modelBeam))
		next := make([]modelHyp, 0, modelBeam)
		for _, c := range all {
			if c.rank <= limit && len(next) < modelBeam {
				next = append(next, beam[c.h].extend(j, c.v, c.o, c.e, c.ex, c.rank, c.a, c.b))
			}
		}
		beam = next
		// A placement whose best partial symbol already fits far worse
		// than a read may is given up.
		if done := f.wins[j-1][1] - f.wins[0][0]; j >= 3 && done > 0 {
			least := math.Inf(1)
			for _, h := range beam {
				least = math.Min(least, h.cost)
			}
			if least/float64(done) > abandon {
				return modelFound{}, false
			}
		}
	}
	// The check character, then the stop.
	type final struct {
		vals []byte
		cost float64
	}
	var finals []final
	// free is the best fit with the check character free: far better
	// than the best with it computed means a character the symbol does
	// not hold was read somewhere.
	free := math.Inf(1)
	checks := map[[4]int]*[c128StartA]modelSums{}
	var costs [c128StartA]float64
	for _, h := range beam {
		left := -2
		if n >= 3 {
			left = int(h.vals[n-3])
		}
		check := h.sum % 103
		f.checkCosts(h, left, checks, &costs)
		for v := 0; v < c128StartA; v++ {
			c := h.cost + costs[v]
			free = math.Min(free, c)
			if v == check {
				finals = append(finals, final{append(slices.Clone(h.vals), byte(v)), c})
			}
		}
	}
	if len(finals) == 0 {
		return modelFound{}, false
	}
	slices.SortFunc(finals, func(x, y final) int { return cmp.Compare(x.cost, y.cost) })
	samples := f.wins[n][1] - f.wins[0][0]
	best := finals[0]
	text, ok := c128Checked(best.vals)
	if samples <= 0 || !ok || !modelPrinted(best.vals, text) {
		return modelFound{}, false
	}
	r := modelFound{vals: best.vals, text: text, samples: samples,
		mean: math.Max(best.cost/float64(samples), 1e-6)}
	r.gap = (best.cost - free) / r.mean
	r.clear = r.gap < modelMaxCheckGap
	for _, o := range finals[1:] {
		if slices.Equal(o.vals, best.vals) {
			continue
		}
		r.margin = (o.cost - best.cost) / r.mean
		r.clear = r.clear && r.margin >= modelMinMargin
		break
	}
	return r, true
}

// checkCosts sets costs[v] to the cost of the last data character's
// window, the check character's with value v and the stop's, for partial
// symbol h (left is the value before h's last), the grid drifting as fits
// best. The windows' sums, which depend on the grid offset and values
// alone, are kept in sums for the other partial symbols.
func (f *modelFit) checkCosts(h modelHyp, left int, sums map[[4]int]*[c128StartA]modelSums, costs *[c128StartA]float64) {
	n := f.n
	last := int(h.vals[n-2])
	// get returns the sums of window j at offset o for every check
	// value v, its left neighbour, own value and right neighbour given by
	// vals; key names them for sums.
	get := func(j, o int, vals func(v int) (l, w, r int), key [4]int) *[c128StartA]modelSums {
		if s, ok := sums[key]; ok {
			return s
		}
		s := new([c128StartA]modelSums)
		t := f.table(j, o)
		for v := range s {
			l, w, r := vals(v)
			s[v] = f.sums(t, j, l, w, r)
		}
		sums[key] = s
		return s
	}
	s1 := get(n-2, h.o, func(v int) (int, int, int) { return left, last, v }, [4]int{n - 2, h.o, left, last})
	var s2, s3 [3]*[c128StartA]modelSums
	for k, de := range []int{-1, 0, 1} {
		e := clampInt(h.e+de, modelMaxSlope)
		o1 := clampInt(h.o+e, modelMaxOffset)
		o2 := clampInt(o1+e, modelMaxOffset)
		s2[k] = get(n-1, o1, func(v int) (int, int, int) { return last, v, c128Stop }, [4]int{n - 1, o1, last, 0})
		s3[k] = get(n, o2, func(v int) (int, int, int) { return v, c128Stop, -2 }, [4]int{n, o2, 0, 0})
	}
	for v := range costs {
		ex1, a1, b1 := f.solve(n-2, s1[v], h.a, h.b, n > 2)
		best := math.Inf(1)
		for k := range 3 {
			ex2, a2, b2 := f.solve(n-1, s2[k][v], a1, b1, true)
			ex3, _, _ := f.solve(n, s3[k][v], a2, b2, true)
			best = math.Min(best, ex2+ex3)
		}
		costs[v] = ex1 + best
	}
}

// kthSmallest returns the k-th smallest of xs (k from 1 to len(xs)): what
// xs sorted by slices.Sort would hold at k-1. It reorders xs.
func kthSmallest(xs []float64, k int) float64 {
	// A max-heap of the k smallest so far, in xs[:k].
	h := xs[:k]
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= k {
				return
			}
			if c+1 < k && cmp.Less(h[c], h[c+1]) {
				c++
			}
			if !cmp.Less(h[i], h[c]) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range xs[k:] {
		if cmp.Less(x, h[0]) {
			h[0] = x
			down(0)
		}
	}
	return h[0]
}

// extend returns h with value v appended at position j.
func (h modelHyp) extend(j, v, o, e int, ex, rank, a, b float64) modelHyp {
	vals := make([]byte, len(h.vals), len(h.vals)+1)
	copy(vals, h.vals)
	return modelHyp{vals: append(vals, byte(v)), sum: h.sum + j*v, cost: h.cost + ex, rank: rank, o: o, e: e, a: a, b: b}
}

// clampInt bounds x to [-lim, lim].
func clampInt(x, lim int) int { return max(-lim, min(lim, x)) }

// modelMargin is how much of a bar region's length (each side) the model
// stage reads beyond it: regions of blurred codes stop short of their
// ends, and the quiet zones place the symbol.
const modelMargin = 0.4

// modelBudgetShare is the share of the escalation budget left that the
// model stage may take: the stages after it read other photos.
const modelBudgetShare = 0.5

// modelBars is the escalation stage of the model reader: it reads each
// bar region no code explains, across its bars, and returns how many it
// read.
func (e *escalation) modelBars(ctx context.Context) int { return e.modelRead(ctx, nil) }

// modelKind is a kind of model stage, by how it reads a region: its
// own window as taken or warped (modelRead), or the codes placed in it
// with levels fixed or free along each character (modelRefined).
type modelKind int

// The kinds of model stage.
const (
	modelTaken modelKind = iota
	modelWarped
	modelPlacedFixed
	modelPlacedFree
)

// modelKey names a region read by a kind of model stage.
type modelKey struct {
	r    region
	kind modelKind
}

// modelRegions calls read, within a model stage's share of the budget
// (modelContext), on each bar region no code explains that no stage of
// kind has read, and returns how many regions read took: it returns false
// for a region it passes over, which a later stage of kind may read. The
// model stages run again for the regions later stages find.
func (e *escalation) modelRegions(ctx context.Context, kind modelKind, read func(ctx context.Context, r region) bool) int {
	ctx, cancel, ok := e.modelContext(ctx)
	defer cancel()
	if !ok {
		return 0
	}
	tried := 0
	for _, i := range e.unexplained(true) {
		if ctx.Err() != nil {
			break
		}
		key := modelKey{e.region(i), kind}
		if e.modelDone[key] || !read(ctx, key.r) {
			continue
		}
		if e.modelDone == nil {
			e.modelDone = map[modelKey]bool{}
		}
		e.modelDone[key] = true
		tried++
	}
	return tried
}

// modelPerspective is the model stage again with the profiles evened out
// for each of modelPitchRatios: perspective may make one end's modules
// larger than the other's, more than the model's drift follows. It comes
// last, as it costs several model reads per region.
func (e *escalation) modelPerspective(ctx context.Context) int {
	return e.modelRead(ctx, modelPitchRatios)
}

// modelRead reads each bar region no code explains with the model
// reader, its profile warped by each pitch ratio of rhos (as taken when
// rhos is empty), and returns how many regions it tried (see
// modelRegions).
func (e *escalation) modelRead(ctx context.Context, rhos []float64) int {
	kind := modelTaken
	if len(rhos) > 0 {
		kind = modelWarped
	}
	return e.modelRegions(ctx, kind, func(ctx context.Context, r region) bool {
		return e.modelRegion(ctx, r, rhos)
	})
}

// modelRegion reads bar region r with the model reader, as modelRead,
// and reports whether it tried: a region too small for a window is not.
func (e *escalation) modelRegion(ctx context.Context, r region, rhos []float64) bool {
	// The region sampled upright, its rows not averaged: the bars' lean
	// is followed when the profile is taken.
	fs := float64(e.f)
	cx, cy := e.centre(r)
	w := r.lenU * fs * (1 + 2*modelMargin)
	h := (r.lenV + 2*cellSize) * fs
	// Not past the photo's edges.
	t0, t1 := lineSpan(cx, cy, r.angle, float64(e.full.w), float64(e.full.h))
	t0, t1 = math.Max(t0, -w/2), math.Min(t1, w/2)
	cx, cy = cx+(t0+t1)/2*math.Cos(r.angle), cy+(t0+t1)/2*math.Sin(r.angle)
	w = t1 - t0
	step := 1.0
	if r.lenU*fs < fineModuleSpan {
		step = 0.5
	}
	step, iw, ih := window(step, w, h, escWindowPixels)
	if iw < 40 || ih < blindMinRows {
		return false
	}
	q, mq := e.full.rotated(cx, cy, r.angle, step, iw, ih)
	// A region drawn out over a textured background (wood grain, cloth)
	// is cut to the stretch of fine bars in it.
	cq, cm := q, mq
	a, b, cut := barSpan(q)
	if cut {
		cq, cm = q.crop(a, 0, b-a, q.h), scaleOffset(1, float64(a), 0).then(mq)
	}
	rows, _ := e.modelWindow(ctx, q, mq, cq, cm, cut, r.angle, step, rhos)
	if rows[1] <= rows[0] || ctx.Err() != nil {
		return true
	}
	// Two codes stacked close (an SN over an IMEI) are often located as
	// one region, and a read takes the rows of one of them: the rows left
	// beside it are read too.
	y0, y1, ok := stackedRest(q.h, rows)
	if !ok {
		return true
	}
	sub := func(p plane, m affine) (plane, affine) {
		return p.crop(0, y0, p.w, y1-y0), scaleOffset(1, 0, float64(y0)).then(m)
	}
	sq, sm := sub(q, mq)
	scq, scm := sub(cq, cm)
	e.modelWindow(ctx, sq, sm, scq, scm, cut, r.angle, step, rhos)
	return true
}

// modelStackGap is the share of a read code's band height left between
// it and the rows stackedRest gives (the caption between two codes), and
// modelStackMin the least height of those rows, as a share of the band's.
const (
	modelStackGap = 0.25
	modelStackMin = 0.6
)

// modelContext returns ctx cut to modelBudgetShare of the time it has
// left, for one model stage, and false when the scan looks for no Code 128
// or leaves the model stages out.
func (e *escalation) modelContext(ctx context.Context) (context.Context, context.CancelFunc, bool) {
	if !e.ses.formats[Code128] || e.ses.stages&stageModel == 0 {
		return ctx, func() {}, false
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx, func() {}, true
	}
	ctx, cancel := context.WithDeadline(ctx, time.Now().Add(time.Duration(modelBudgetShare*float64(time.Until(dl)))))
	return ctx, cancel, true
}

// stackedRest returns the rows of an h-row window beside the band rows
// (the rows a code was read from) where a second code may lie: the
// larger side, past a gap, when it is at least modelStackMin of the
// band's height.
func stackedRest(h int, rows [2]int) (y0, y1 int, ok bool) {
	band := rows[1] - rows[0]
	if band <= 0 {
		return 0, 0, false
	}
	gap := int(modelStackGap * float64(band))
	above := [2]int{0, max(0, rows[0]-gap)}
	below := [2]int{min(h, rows[1]+gap), h}
	part := above
	if below[1]-below[0] > above[1]-above[0] {
		part = below
	}
	if part[1]-part[0] < max(blindMinRows, int(modelStackMin*float64(band))) {
		return 0, 0, false
	}
	return part[0], part[1], true
}

// modelWindow reads one Code 128 symbol of a region's upright window q
// (cq: q cut to the stretch of bars, when cut) with the model reader. It
// reports whether a read was new, and the rows of q the last read (new or
// not) took its profile from (none: rows[1] ≤ rows[0]).
func (e *escalation) modelWindow(ctx context.Context, q plane, mq affine, cq plane, cm affine, cut bool, angle, step float64, rhos []float64) (rows [2]int, isNew bool) {
	rows, isNew = e.ses.model1D(ctx, cq, cm, step, rhos)
	if isNew || ctx.Err() != nil {
		return rows, isNew
	}
	// The bars alone pick the rows, and the levels may change along
	// the code (glare): over the whole window, as bars dimmed by a
	// glare may fall outside the cut, then over the cut, as the
	// background beside the code may tilt the band. The perspective
	// stage reads the band warped too: a glare on a label held at an
	// angle needs both. A band read of a window turned level gives the
	// rows of the turned window, about the same as q's.
	band := func(p plane, m affine) bool {
		br, n := e.ses.modelBand(ctx, e.full, p, m, angle, step, rhos)
		if br[1] > br[0] {
			rows = br
		}
		return n
	}
	if band(q, mq) || cut && ctx.Err() == nil && band(cq, cm) {
		return rows, true
	}
	return rows, false
}

// model1D reads one Code 128 symbol from the upright bar window p (bars
// vertical, samples step image pixels apart) with the model reader; m
// maps p to the image. With rhos, the profile is read warped by each of
// these pitch ratios (see pitchWarp) instead of as taken. It reports
// whether the read was new, and the rows of p a read (new or not) took its
// profile from.
func (s *session) model1D(ctx context.Context, p plane, m affine, step float64, rhos []float64) ([2]int, bool) {
	prof, y0, y1, ok := barProfile(p)
	if !ok {
		return [2]int{}, false
	}
	r, ok := readPitches(ctx, prof, step, rhos, false)
	if !ok {
		return [2]int{}, false
	}
	return [2]int{y0, y1}, s.addModel(r, m, y0, y1)
}

// readPitches reads prof with the model reader (levels that may change
// along each window with trend, see trendFit): as taken when rhos is
// empty, else warped by each pitch ratio of rhos in turn until one reads.
// The symbol's ends are given in prof's own samples.
func readPitches(ctx context.Context, prof []float64, step float64, rhos []float64, trend bool) (modelResult, bool) {
	if len(rhos) == 0 {
		return readModelWith(ctx, prof, step, trend)
	}
	for _, rho := range rhos {
		if ctx.Err() != nil {
			break
		}
		wp, at := pitchWarp(prof, rho)
		if r, ok := readModelWith(ctx, wp, step, trend); ok && r.margin >= modelWarpMargin {
			r.x0, r.x1 = at(r.x0), at(r.x1)
			return r, true
		}
	}
	return modelResult{}, false
}

// addModel records r, read from rows y0 to y1 of a window that m maps to
// the image, and reports whether it was new.
func (s *session) addModel(r modelResult, m affine, y0, y1 int) bool {
	res := gozxing.NewResult(r.text, r.vals, nil, gozxing.BarcodeFormat_CODE_128)
	pts := []Point{
		m.apply(r.x0, float64(y0)), m.apply(r.x1, float64(y0)),
		m.apply(r.x1, float64(y1)), m.apply(r.x0, float64(y1)),
	}
	return s.add(res, pts, minRowHits)
}

// modelPunct are the characters besides letters and digits that a text
// the model reader returns may hold. A fit to bars blurred past a module,
// or to a window across two codes, gives any of Code 128's 95 printable
// characters alike: of 20 of them, all but one in 110 texts hold one
// outside this set.
const modelPunct = " -./:_+#?=&%,"

// modelPrinted reports whether the model reader's symbol vals (start,
// data and check) with text could have come from a label printer: the
// text is made of letters, digits and modelPunct (serial numbers, IMEIs,
// MAC addresses, URLs), and no code set is switched to (or shifted into)
// only to switch again or to end the symbol, which no encoder does. The
// model reader fits values to grey levels, and a check character passes
// one wrong symbol in 103: a symbol like that is taken for a misread. A
// code with such a text is still read when the photo is sharp enough for
// the row reader.
func modelPrinted(vals []byte, text string) bool {
	for _, c := range []byte(text) {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || strings.IndexByte(modelPunct, c) >= 0) {
			return false
		}
	}
	vals = vals[:len(vals)-1]
	set := int(vals[0]) - c128StartA // 0 = A, 1 = B, 2 = C
	pending := false                 // switched or shifted, nothing encoded since
	for _, b := range vals[1:] {
		v := int(b)
		switch {
		case set == 2 && v < 100, set < 2 && v < 96:
			pending = false // a character
			continue
		case v == c128Shift && set < 2:
			// The next character alone is of the other set.
		case v == c128CodeC && set < 2:
			set = 2
		case v == c128CodeA && set != 0:
			set = 0
		case v == c128CodeB && set != 1:
			set = 1
		default:
			continue // FNC1–4
		}
		if pending {
			return false
		}
		pending = true
	}
	return !pending
}
