package scan

import (
	"context"
	"math"
)

// A glare, a light gradient or a label's edge adds to every row of a bar
// window the same slow swell, so that rows of paper and text follow the
// rows of bars as closely as bars do: barProfile then averages them all,
// and the bars' contrast drowns. The band reader finds the rows of bars
// from the bars alone, each row's grey levels less their running mean over
// a few pixels (which keeps a module's edges and drops the swell); when
// no band shows so, each averaged with a few rows above and below (along
// the bars, which cuts the noise of one row: under a glare the bars keep
// less contrast than that) and compared with the rows of the most such
// texture near the middle rather than with the middle rows; then it turns
// the window so that the band of bars runs along its rows (the
// localiser's direction may be a few degrees off, and under perspective
// the bars lean off the normal to the code's axis: either slants the band
// across the rows, so that no rows hold bars over the whole code), and
// fits the model with levels that may change along each character's
// window: under a glare's edge the paper brightens by more than the bars'
// contrast within one character (trendFit).

// Band reader limits.
const (
	// bandDetrend is the half-width (image pixels) of the running mean
	// taken from each row: about a module of the smallest codes read.
	bandDetrend = 2.0
	// bandMinCorr is the least correlation of a row's detrended levels
	// with the middle rows' for the row to hold bars.
	bandMinCorr = 0.5
	// bandMinSlant is the least slant of the band of bars (rows per
	// sample across) for which the window is turned to follow it.
	bandMinSlant = 0.01
	// bandSegment is the width (image pixels) of the pieces of a window
	// in which the band's rows are found to measure its slant.
	bandSegment = 64.0
	// bandMargin is how many rows beyond the band found are kept, as a
	// share of its height: the band's ends are where the bars fade.
	bandMargin = 0.1
	// bandSeedShare is the least share of the most energetic row's
	// detrended energy that a row of the seed run keeps (bandSeeds).
	bandSeedShare = 0.5
	// bandSmooth is how many rows either side each row is averaged with
	// when the band's rows are found (alongBars).
	bandSmooth = 4
)

// barBand returns the first and last row of p (an upright bar window,
// samples step image pixels apart) whose detrended grey levels follow
// those of the middle rows, and the band's slant: how many rows its middle
// moves per sample across (the bars may lean off the normal to the code's
// axis, under perspective, so that following the bars is not following
// the code). With smooth, each row is averaged with bandSmooth rows either
// side (alongBars) and compared with the rows of the bars the window was
// cut around (bandSeeds).
func barBand(p plane, step float64, smooth bool) (y0, y1 int, slant float64, ok bool) {
	if p.h < blindMinRows || p.w < 40 {
		return 0, 0, 0, false
	}
	r := max(1, int(math.Round(bandDetrend/step)))
	var mid []int
	rows := 0
	if smooth {
		rows = bandSmooth
		mid = bandSeeds(p, r)
	} else {
		mid = middleRows(p)
	}
	ym := float64(p.h-1) / 2
	lean, sharp := 0.0, -1.0
	for k := -modelLeanSteps; k <= modelLeanSteps; k++ {
		sl := float64(k) * modelMaxLean / modelLeanSteps
		d := detrended(meanRows(p, mid, sl, ym), r)
		s := 0.0
		for _, v := range d {
			s += v * v
		}
		if s > sharp {
			lean, sharp = sl, s
		}
	}
	ref := detrended(meanRows(p, mid, lean, ym), r)
	seg := max(16, int(bandSegment/step))
	nseg := p.w / seg
	// Per segment across, the rows of bars: their count and summed row.
	cnt, sum := make([]float64, nseg), make([]float64, nseg)
	y0, y1, n := -1, -1, 0
	alongBars(p, lean, ym, r, rows, func(y int, d []float64) {
		for g := range nseg {
			if correlation(ref[g*seg:(g+1)*seg], d[g*seg:(g+1)*seg]) >= bandMinCorr {
				cnt[g]++
				sum[g] += float64(y)
			}
		}
		if correlation(ref, d) < bandMinCorr {
			return
		}
		if y0 < 0 {
			y0 = y
		}
		y1 = y
		n++
	})
	// The slant: a line through the segments' middle rows, weighted by
	// their rows of bars.
	var sw, sx, sy, sxx, sxy float64
	for g := range nseg {
		if cnt[g] < blindMinRows {
			continue
		}
		x, y, w := (float64(g)+0.5)*float64(seg), sum[g]/cnt[g], cnt[g]
		sw, sx, sy, sxx, sxy = sw+w, sx+w*x, sy+w*y, sxx+w*x*x, sxy+w*x*y
	}
	if d := sw*sxx - sx*sx; d > 1e-9 {
		slant = (sw*sxy - sx*sy) / d
	}
	if y1-y0 > 2*rows+blindMinRows {
		// Rows that hold bars only within the rows averaged with them.
		y0, y1 = y0+rows, y1-rows
	}
	return y0, y1, slant, n >= blindMinRows
}

// bandSeeds returns up to modelLeanRows rows of p, evenly spread, that
// hold the bars the window was cut around: the run of rows around the
// middle half's row of most detrended energy (running mean over 2r+1
// samples taken off) whose energy stays above bandSeedShare of that row's.
// The middle half itself may hold more paper and text than bars: a band
// slanted across the window, or a short one beside a stacked code.
func bandSeeds(p plane, r int) []int {
	e := make([]float64, p.h)
	alongBars(p, 0, float64(p.h-1)/2, r, bandSmooth, func(y int, d []float64) {
		for _, v := range d {
			e[y] += v * v
		}
	})
	best := p.h / 2
	for y := p.h / 4; y < p.h-p.h/4; y++ {
		if e[y] > e[best] {
			best = y
		}
	}
	a, b := best, best
	for a > 0 && e[a-1] >= bandSeedShare*e[best] {
		a--
	}
	for b < p.h-1 && e[b+1] >= bandSeedShare*e[best] {
		b++
	}
	rows := make([]int, 0, modelLeanRows)
	for y, k := a, max(1, (b-a+1)/modelLeanRows); y <= b && len(rows) < modelLeanRows; y += k {
		rows = append(rows, y)
	}
	return rows
}

// alongBars calls fn for each row y of p, top to bottom, with the row's
// grey levels shifted along the lean (rows per sample across, about row
// ym), less their running mean over 2r+1 samples, and summed with rows
// rows either side likewise: along the bars, which keeps their modules
// and cuts the noise of a single row. Under a glare the bars keep a few
// grey levels of contrast, less than one row's noise. fn must not keep d.
func alongBars(p plane, lean, ym float64, r, rows int, fn func(y int, d []float64)) {
	k := 2*rows + 1
	ring := make([][]float64, k)
	for i := range ring {
		ring[i] = make([]float64, p.w)
	}
	row, sum := make([]float64, p.w), make([]float64, p.w)
	add := func(y int) {
		d := ring[y%k]
		shiftedRow(p, y, lean*(float64(y)-ym), row)
		detrendedTo(d, row, r)
		for x, v := range d {
			sum[x] += v
		}
	}
	for y := range min(rows, p.h) {
		add(y)
	}
	for y := range p.h {
		if old := y - rows - 1; old >= 0 {
			for x, v := range ring[old%k] {
				sum[x] -= v
			}
		}
		if y+rows < p.h {
			add(y + rows)
		}
		fn(y, sum)
	}
}

// detrended returns prof less its running mean over 2r+1 samples.
func detrended(prof []float64, r int) []float64 {
	return detrendedTo(make([]float64, len(prof)), prof, r)
}

// detrendedTo is detrended written into out, as long as prof.
func detrendedTo(out, prof []float64, r int) []float64 {
	s, n := 0.0, 0
	for x := 0; x < min(r, len(prof)); x++ {
		s += prof[x]
		n++
	}
	for x := range prof {
		if a := x + r; a < len(prof) {
			s += prof[a]
			n++
		}
		if b := x - r - 1; b >= 0 {
			s -= prof[b]
			n--
		}
		out[x] = prof[x] - s/float64(n)
	}
	return out
}

// modelBand reads one Code 128 symbol from the bar window q (bars about
// vertical, samples step image pixels apart, mq its map to the image,
// angle the direction of its rows) by its band of bars, the window turned
// to level the band when it slants, and with rhos its profile warped by
// each of these pitch ratios (see readPitches). It reports whether the
// read was new, and the rows (of q, or of q turned) a read took its
// profile from.
func (s *session) modelBand(ctx context.Context, full plane, q plane, mq affine, angle, step float64, rhos []float64) ([2]int, bool) {
	// The rows one by one first; averaged with their neighbours when no
	// band shows so (a glare, or a band that leaves the middle rows).
	smooth := false
	y0, y1, slant, ok := barBand(q, step, false)
	if !ok {
		smooth = true
		y0, y1, slant, ok = barBand(q, step, true)
	}
	if !ok {
		return [2]int{}, false
	}
	if math.Abs(slant) >= bandMinSlant {
		// Turned about the band's middle, so that the band is level.
		c := mq.apply(float64(q.w)/2, float64(y0+y1)/2)
		q, mq = full.rotated(c.X, c.Y, angle+math.Atan(slant), step, q.w, q.h)
		if y0, y1, _, ok = barBand(q, step, smooth); !ok || ctx.Err() != nil {
			return [2]int{}, false
		}
	}
	m := int(bandMargin * float64(y1-y0+1))
	y0, y1 = max(0, y0-m), min(q.h-1, y1+m)
	band := q.crop(0, y0, q.w, y1-y0+1)
	prof, b0, b1, ok := barProfile(band)
	if !ok {
		return [2]int{}, false
	}
	r, ok := readPitches(ctx, prof, step, rhos, true)
	if !ok {
		return [2]int{}, false
	}
	return [2]int{y0 + b0, y0 + b1}, s.addModel(r, mq, y0+b0, y0+b1)
}
