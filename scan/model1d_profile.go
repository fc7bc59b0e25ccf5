package scan

import (
	"math"
	"slices"
)

// The profile across a bar region that the model reader reads: the rows
// of bars averaged along them (barProfile), following bars that lean and
// fan out under perspective (measuredLean), over the stretch of the window
// that holds fine bars (barSpan), and evened out for modules that grow
// along the code (pitchWarp).

// barProfile averages the rows of bars of p, following the bars' lean
// (barLean), into one profile, and returns it with the first and last of
// those rows: those whose grey levels, so shifted, follow the middle
// rows' (leanProfile).
func barProfile(p plane) ([]float64, int, int, bool) {
	if p.h < blindMinRows || p.w < 40 {
		return nil, 0, 0, false
	}
	all := middleRows(p)
	return leanProfile(p, all, barLean(p, all))
}

// leanProfile averages the rows of p that follow the middle rows all
// along the lean best into one profile, and returns it with the first
// and last of those rows.
func leanProfile(p plane, all []int, best lean) ([]float64, int, int, bool) {
	ym := float64(p.h-1) / 2
	ref := meanRowsLean(p, all, best, ym)
	var rows []int
	row := make([]float64, p.w)
	for y := range p.h {
		leanRow(p, y, best, ym, row)
		if correlation(ref[p.w/4:3*p.w/4], row[p.w/4:3*p.w/4]) >= blindMinCorr {
			rows = append(rows, y)
		}
	}
	if len(rows) < blindMinRows {
		return nil, 0, 0, false
	}
	return meanRowsLean(p, rows, best, ym), rows[0], rows[len(rows)-1], true
}

// middleRows returns rows of the middle half of p, at most modelLeanRows
// of them, evenly spaced.
func middleRows(p plane) []int {
	all := make([]int, 0, modelLeanRows)
	for y, k := p.h/4, max(1, (p.h/2)/modelLeanRows); y < p.h-p.h/4 && len(all) < modelLeanRows; y += k {
		all = append(all, y)
	}
	return all
}

// barLean returns the lean of the bars of p that leaves the sharpest
// profile of the middle rows given. The localiser's direction may be a
// few degrees off, which over the bars' height smears modules of two
// pixels away, and under perspective the bars converge, so the lean
// changes along the code.
func barLean(p plane, rows []int) lean {
	ym := float64(p.h-1) / 2
	best, sharp := lean{}, -1.0
	try := func(l lean) {
		prof := meanRowsLean(p, rows, l, ym)
		s := 0.0
		for x := 1; x < len(prof); x++ {
			d := prof[x] - prof[x-1]
			s += d * d
		}
		// Bars that fan out must be clearly sharper: over a few rows,
		// noise and glare make some fan look a little sharper anyway.
		if l.fan != 0 {
			s /= modelFanGain
		}
		if s > sharp {
			best, sharp = l, s
		}
	}
	// The slope first, then how the bars fan out around it, then the
	// slope again, finer.
	step := modelMaxLean / modelLeanSteps
	for k := -modelLeanSteps; k <= modelLeanSteps; k++ {
		try(lean{slope: float64(k) * step})
	}
	for k := -modelFanSteps; k <= modelFanSteps; k++ {
		if k != 0 {
			try(lean{slope: best.slope, fan: float64(k) * modelMaxFan / modelFanSteps})
		}
	}
	// The lean measured from the edges' directions in the first and last
	// third of the window: past modelMaxLean when the localiser's
	// direction is far off (a region found on a textured background).
	if m, ok := measuredLean(p); ok {
		try(m)
	}
	if best.fan != 0 {
		l := best
		for k := -2; k <= 2; k++ {
			if k != 0 {
				try(lean{slope: l.slope + float64(k)*step/2, fan: l.fan})
			}
		}
	}
	return best
}

// measuredLean returns the lean of the bars of the upright window p from
// the direction of its grey-level gradients (the structure tensor over
// spanReach samples) in its first and last third: the slope in the middle
// and the fan between. ok is false when either third holds no clear
// direction.
func measuredLean(p plane) (lean, bool) {
	// leanCoherence is the least coherence of a third's gradients: text
	// and the label's edges share the window with the bars.
	const leanCoherence = 0.6
	third := p.w / 3
	at := func(x0, x1 int) (float64, bool) {
		var t tensor
		for y := spanReach; y < p.h-spanReach; y++ {
			r, up, dn := p.row(y), p.row(y-spanReach), p.row(y+spanReach)
			for x := max(x0, spanReach); x < min(x1, p.w-spanReach); x++ {
				gx := float64(int(r[x+spanReach]) - int(r[x-spanReach]))
				gy := float64(int(dn[x]) - int(up[x]))
				t.xx, t.yy, t.xy = t.xx+gx*gx, t.yy+gy*gy, t.xy+gx*gy
			}
		}
		if t.coherence() < leanCoherence {
			return 0, false
		}
		// The gradient runs across the bars at angle θ from the rows;
		// a bar moves by -tan θ pixels across per row.
		theta := 0.5 * math.Atan2(2*t.xy, t.xx-t.yy)
		if math.Abs(theta) > math.Pi/4 {
			return 0, false
		}
		return -math.Tan(theta), true
	}
	l, ok1 := at(0, third)
	r, ok2 := at(p.w-third, p.w)
	if !ok1 || !ok2 {
		return lean{}, false
	}
	// The thirds' centres lie at 1/6 and 5/6 of the width.
	return lean{slope: (l + r) / 2, fan: 1.5 * (r - l)}, true
}

// pitchWarp resamples prof, a profile across bars whose module pitch
// changes along it (perspective foreshortens one end), so that a pitch
// ratio rho between its last and first sample becomes even: sample u of
// the result is prof at at(u), and at maps the result's positions back.
func pitchWarp(prof []float64, rho float64) (out []float64, at func(u float64) float64) {
	w := float64(len(prof) - 1)
	k := math.Sqrt(rho)
	at = func(u float64) float64 {
		t := u / w
		return w * t / (k - (k-1)*t)
	}
	out = make([]float64, len(prof))
	for u := range out {
		x := at(float64(u))
		i := min(len(prof)-2, max(0, int(x)))
		f := x - float64(i)
		out[u] = prof[i]*(1-f) + prof[i+1]*f
	}
	return out, at
}

// modelPitchRatios are the ratios of the module pitch at the end of a
// profile to that at its start that the model-perspective stage evens
// out, the smallest first. The ratio goes about as the cube of the ratio
// of the code's heights at its two ends: a label tilted so that one end
// of its code stands 5 % taller than the other already needs 1.15. From
// windows placed by the truth, seeds 7 and 1 of the hard photos read 7
// codes more each with it than with 1.3 and 1.6 alone.
var modelPitchRatios = []float64{1.15, 1 / 1.15, 1.3, 1 / 1.3, 1.6, 1 / 1.6}

// Bar span limits (see barSpan).
const (
	// spanReach is the distance (samples) over which barSpan measures the
	// fine slope of the grey levels: about a blurred module.
	spanReach = 2
	// spanSmooth is the radius (samples) of the window the slope energy
	// is averaged over, and spanGap the longest run (samples) below
	// spanLevel of the largest average that a stretch of bars bridges.
	spanSmooth, spanGap = 8, 48
	spanLevel           = 0.04
	// spanMargin is how much of the stretch's length (each side) is kept
	// beyond it, for the quiet zones; spanMaxShare is the largest share
	// of the window the stretch may take for the cut to be worth making.
	spanMargin, spanMaxShare = 0.25, 0.6
	// spanRows is how many rows the grey levels are averaged over (a
	// running mean down the window) when the stretch of bars is found
	// again: along the bars, which keeps their slopes, while the noise's
	// energy drops that many times.
	spanRows = 9
	// spanFloor is how many times the background's slope energy (the
	// first quartile along the window) a stretch of bars must keep where
	// it falls below spanLevel of the top, and spanMinLevel the least
	// share of the top it may keep.
	spanFloor, spanMinLevel = 2.5, 0.01
)

// barSpan returns the columns a to b of the upright bar window p that
// hold its fine bars, with margins for the quiet zones: where the grey
// levels change fastest over a few samples, averaged down the rows. A
// coarse texture behind the code (wood grain, folds of cloth) changes
// slowly and falls outside. When the stretch takes most of the window,
// the rows are first averaged spanRows at a time (along the bars): the
// sensor noise of a dim photo, over a window drawn out along a
// background's streaks, otherwise looks like fine bars everywhere. ok is
// false when the stretch takes most of the window even so.
func barSpan(p plane) (a, b int, ok bool) {
	if a, b, ok = barSpanOf(p, false); ok {
		return a, b, true
	}
	return barSpanOf(p.rowsAveraged(spanRows), true)
}

// barSpanOf is barSpan on p as it is; with averaged (p's rows are means
// down the window) the level may fall to spanFloor times the background's.
func barSpanOf(p plane, averaged bool) (a, b int, ok bool) {
	w := p.w
	if w < 4*spanGap {
		return 0, 0, false
	}
	energy := make([]float64, w)
	for y := range p.h {
		r := p.row(y)
		for x := spanReach; x < w-spanReach; x++ {
			d := float64(int(r[x+spanReach]) - int(r[x-spanReach]))
			energy[x] += d * d
		}
	}
	// A running mean over 2·spanSmooth+1 samples.
	sm := make([]float64, w)
	sum, top := 0.0, 0.0
	for x := range w + spanSmooth {
		if x < w {
			sum += energy[x]
		}
		if x-2*spanSmooth-1 >= 0 {
			sum -= energy[x-2*spanSmooth-1]
		}
		if c := x - spanSmooth; c >= 0 && c < w {
			sm[c] = sum
			top = math.Max(top, sum)
		}
	}
	if top == 0 {
		return 0, 0, false
	}
	// The widest stretch above the level, gaps bridged: spanLevel of the
	// top, or, on averaged rows, less where that is still spanFloor times
	// the background's (bars under a glare keep a few per cent of the
	// top's energy, well above that of the plain paper and background
	// around them once the rows' noise is averaged away).
	level := spanLevel * top
	if averaged {
		sorted := slices.Clone(sm)
		slices.Sort(sorted)
		level = math.Min(level, math.Max(spanFloor*sorted[len(sorted)/4], spanMinLevel*top))
	}
	best, start, last := 0, -1, -1
	for x := 0; x <= w; x++ {
		if x < w && sm[x] >= level {
			if start < 0 || x-last > spanGap {
				start = x
			}
			last = x
			if last-start > best {
				best, a, b = last-start, start, last
			}
		}
	}
	if best == 0 {
		return 0, 0, false
	}
	margin := int(spanMargin*float64(b-a)) + spanSmooth
	a, b = max(0, a-margin), min(w, b+margin)
	return a, b, float64(b-a) <= spanMaxShare*float64(w)
}

// modelMaxLean is the largest lean of the bars (pixels across per row)
// that barProfile corrects, in modelLeanSteps steps each way.
const (
	modelMaxLean   = 0.15
	modelLeanSteps = 10
	// modelLeanRows bounds the rows the lean is measured on.
	modelLeanRows = 24
	// modelMaxFan is the largest change of the lean from one end of the
	// window to the other (bars converging under perspective), tried in
	// modelFanSteps steps each way.
	modelMaxFan   = 0.2
	modelFanSteps = 4
	// modelFanGain is how much sharper the profile must be for a fan to
	// be taken over bars that lean alike.
	modelFanGain = 1.05
)
