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
// a few pixels (which keeps a module's edges and drops the swell), turns
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
)

// barBand returns the first and last row of p (an upright bar window,
// samples step image pixels apart) whose detrended grey levels follow
// those of the middle rows, and the band's slant: how many rows its middle
// moves per sample across (the bars may lean off the normal to the code's
// axis, under perspective, so that following the bars is not following
// the code).
func barBand(p plane, step float64) (y0, y1 int, slant float64, ok bool) {
	if p.h < blindMinRows || p.w < 40 {
		return 0, 0, 0, false
	}
	mid := make([]int, 0, modelLeanRows)
	for y, k := p.h/4, max(1, (p.h/2)/modelLeanRows); y < p.h-p.h/4 && len(mid) < modelLeanRows; y += k {
		mid = append(mid, y)
	}
	r := max(1, int(math.Round(bandDetrend/step)))
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
	row := make([]float64, p.w)
	seg := max(16, int(bandSegment/step))
	nseg := p.w / seg
	// Per segment across, the rows of bars: their count and summed row.
	cnt, sum := make([]float64, nseg), make([]float64, nseg)
	y0, y1, n := -1, -1, 0
	for y := range p.h {
		shiftedRow(p, y, lean*(float64(y)-ym), row)
		d := detrended(row, r)
		for g := range nseg {
			if correlation(ref[g*seg:(g+1)*seg], d[g*seg:(g+1)*seg]) >= bandMinCorr {
				cnt[g]++
				sum[g] += float64(y)
			}
		}
		if correlation(ref, d) < bandMinCorr {
			continue
		}
		if y0 < 0 {
			y0 = y
		}
		y1 = y
		n++
	}
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
	return y0, y1, slant, n >= blindMinRows
}

// detrended returns prof less its running mean over 2r+1 samples.
func detrended(prof []float64, r int) []float64 {
	out := make([]float64, len(prof))
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
// read was new.
func (s *session) modelBand(ctx context.Context, full plane, q plane, mq affine, angle, step float64, rhos []float64) bool {
	y0, y1, slant, ok := barBand(q, step)
	if !ok {
		return false
	}
	if math.Abs(slant) >= bandMinSlant {
		// Turned about the band's middle, so that the band is level.
		c := mq.apply(float64(q.w)/2, float64(y0+y1)/2)
		q, mq = full.rotated(c.X, c.Y, angle+math.Atan(slant), step, q.w, q.h)
		if y0, y1, _, ok = barBand(q, step); !ok || ctx.Err() != nil {
			return false
		}
	}
	m := int(bandMargin * float64(y1-y0+1))
	y0, y1 = max(0, y0-m), min(q.h-1, y1+m)
	band := q.crop(0, y0, q.w, y1-y0+1)
	prof, b0, b1, ok := barProfile(band)
	if !ok {
		return false
	}
	r, ok := readPitches(ctx, prof, step, rhos, true)
	if !ok {
		return false
	}
	return s.addModel(r, mq, y0+b0, y0+b1)
}
