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

// barProfile averages the rows of bars of p, following the bars' lean,
// into one profile, and returns it with the first and last of those
// rows. The lean is the one that leaves the sharpest profile (the
// localiser's direction may be a few degrees off, which over the bars'
// height smears modules of two pixels away, and under perspective the
// bars converge, so the lean changes along the code); the rows of bars
// are those whose grey levels, so shifted, follow the middle rows'.
func barProfile(p plane) ([]float64, int, int, bool) {
	if p.h < blindMinRows || p.w < 40 {
		return nil, 0, 0, false
	}
	// The middle half of the rows, at most modelLeanRows of them spread
	// over it: the lean shows in how far apart the rows are.
	all := leanRows(p.h/4, p.h-p.h/4, modelLeanRows)
	ym := float64(p.h-1) / 2
	best, sharp := lean{}, -1.0
	try := func(l lean) {
		prof := meanRowsLean(p, all, l, ym)
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
	// The slope first, then how the bars fan out around it.
	step := modelMaxLean / modelLeanSteps
	for k := -modelLeanSteps; k <= modelLeanSteps; k++ {
		try(lean{slope: float64(k) * step})
	}
	for k := -modelFanSteps; k <= modelFanSteps; k++ {
		if k != 0 {
			try(lean{slope: best.slope, fan: float64(k) * modelMaxFan / modelFanSteps})
		}
	}
	// Then the lean the bars' shifts between rows above and below the
	// middle give, refined: a code at a slant under perspective whose
	// bars turn by 15–20° from one end to the other (seed 7 hard 37: the
	// lean goes from 0.26 to -0.08 along the code), or a region whose
	// direction is far off.
	// Leans within the range searched above are left to that search: on
	// tuning hard 2 (a glare over fine bars) the shifts' lean, refined
	// within it, was a little sharper than the best found there, and its
	// profile read nothing where the best's reads.
	before := best
	if l, ok := shiftedLean(p); ok && (math.Abs(l.slope) > modelMaxLean || math.Abs(l.fan) > modelMaxFan) {
		try(l)
	}
	shifted := best != before
	if shifted {
		ds, df := modelLeanRefineStep, 2*modelLeanRefineStep
		for range modelLeanRefine {
			l := best
			for ks := -1; ks <= 1; ks++ {
				for kf := -1; kf <= 1; kf++ {
					if ks != 0 || kf != 0 {
						try(lean{slope: l.slope + float64(ks)*ds, fan: l.fan + float64(kf)*df})
					}
				}
			}
			ds, df = ds/2, df/2
		}
	}
	// The lean measured from the edges' directions in the first and last
	// third of the window: past modelMaxLean when the localiser's
	// direction is far off (a region found on a textured background).
	if m, ok := measuredLean(p); ok {
		try(m)
	}
	// The slope again, finer, unless the shifts' lean was refined.
	if best.fan != 0 && !shifted {
		l := best
		for k := -2; k <= 2; k++ {
			if k != 0 {
				try(lean{slope: l.slope + float64(k)*step/2, fan: l.fan})
			}
		}
	}
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

// leanRows returns at most n rows spread evenly from y0 to y1 (not
// included).
func leanRows(y0, y1, n int) []int {
	rows := make([]int, 0, n)
	for i := range n {
		y := y0 + i*(y1-y0)/n
		if y < y1 && (len(rows) == 0 || y > rows[len(rows)-1]) {
			rows = append(rows, y)
		}
	}
	return rows
}

// shiftedLean returns the lean of the bars of the upright window p from
// how far they move between a band of rows a quarter of the window's
// height above its middle and one as far below, in each of
// modelShiftSegments stretches along it: blur, which leaves the
// gradients' directions unclear to measuredLean, leaves the bars'
// profiles alike from row to row. A line fitted to the stretches' leans,
// weighted by their contrast, gives the slope and the fan. ok is false
// when fewer than three stretches hold contrast.
func shiftedLean(p plane) (lean, bool) {
	const band = 3 // rows each side of a band's middle
	yt, yb := p.h/4, p.h-1-p.h/4
	if yb-yt < 8 || p.w < 4*modelShiftSegments {
		return lean{}, false
	}
	mean := func(y int) []float64 {
		var rows []int
		for r := max(0, y-band); r <= min(p.h-1, y+band); r++ {
			rows = append(rows, r)
		}
		return meanRowsLean(p, rows, lean{}, float64(y))
	}
	top, bot := mean(yt), mean(yb)
	dy := float64(yb - yt)
	maxShift := int(math.Ceil(modelShiftLean * dy))
	seg := p.w / modelShiftSegments
	type point struct{ x, lean, weight float64 }
	var pts []point
	most := 0.0
	for k := range modelShiftSegments {
		a, b := top[k*seg:(k+1)*seg], bot[k*seg:(k+1)*seg]
		m, v := 0.0, 0.0
		for _, y := range a {
			m += y
		}
		m /= float64(len(a))
		for _, y := range a {
			v += (y - m) * (y - m)
		}
		x := (float64(k)+0.5)/modelShiftSegments - 0.5
		pts = append(pts, point{x, profileShift(a, b, min(maxShift, seg/2)) / dy, v})
		most = math.Max(most, v)
	}
	var sw, sx, sxx, sy, sxy float64
	n := 0
	for _, pt := range pts {
		// Stretches of paper or quiet zone have little contrast.
		if pt.weight < 0.1*most {
			continue
		}
		w := pt.weight
		sw, sx, sxx, sy, sxy = sw+w, sx+w*pt.x, sxx+w*pt.x*pt.x, sy+w*pt.lean, sxy+w*pt.x*pt.lean
		n++
	}
	det := sw*sxx - sx*sx
	if n < 3 || det <= 0 {
		return lean{}, false
	}
	fan := (sw*sxy - sx*sy) / det
	return lean{slope: (sy - fan*sx) / sw, fan: fan}, true
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
// out.
var modelPitchRatios = []float64{1.3, 1 / 1.3, 1.6, 1 / 1.6}

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
	// modelShiftLean bounds the lean shiftedLean measures (pixels across
	// per row, at either end); modelShiftSegments is how many stretches
	// along the window it measures the shift in. barProfile refines the
	// lean it gives modelLeanRefine times, from steps of
	// modelLeanRefineStep in slope (twice that in fan), halved each time.
	modelShiftLean      = 0.7
	modelShiftSegments  = 6
	modelLeanRefine     = 3
	modelLeanRefineStep = 0.04
)
