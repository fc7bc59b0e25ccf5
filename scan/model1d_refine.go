package scan

import (
	"cmp"
	"context"
	"math"
	"slices"
)

// barWindow is a window placed on one Code 128 by refineBars: its
// centre, the direction along its axis, and its extent along (w) and
// across (h), in image pixels; weight ranks the windows of one region.
type barWindow struct {
	cx, cy, angle, w, h float64
	weight              float64
}

// refineBars places windows on the codes around a bar region (centre
// (cx, cy), gradient direction angle, extent length × height, image
// pixels) from the bars themselves. Bars agree down their length: the
// gradients of rows k apart correlate over a code and not over paper,
// text, noise or most backgrounds, whatever the light (the correlation is
// normalised, so a glare's low contrast still counts).
//
//  1. In a window turned to the bars' normal, the correlation is taken
//     over cells; perspective shears the code's axis off that normal, so
//     the cells of one code lie along a slant, found as the shear that
//     gathers them into the fewest rows.
//  2. In a window turned to that axis, where the bars lean by the shear,
//     the rows' correlation (following the lean) gives the bands of bars:
//     an SN over an IMEI makes two, split at the caption between them.
//  3. Within each band, the columns' correlation gives the code's ends.
//
// Windows come largest first.
func refineBars(full plane, cx, cy, angle, length, height float64) []barWindow {
	// A region drawn out over the photo is searched over no more than a
	// label's codes could span.
	length = math.Min(length, 12*height)
	step, iw, ih := window(1, length, 4*height, escWindowPixels)
	q, _ := full.rotated(cx, cy, angle, step, iw, ih)
	hs := height / step
	k := max(2, int(hs/10))
	cw, ch := max(8, int(hs/3)), max(4, int(hs/6))
	nx, ny := q.w/cw, (q.h-k)/ch
	if nx < 3 || ny < 3 {
		return nil
	}
	rho := make([]float64, nx*ny)
	for j := range ny {
		for i := range nx {
			rho[j*nx+i] = leanCorrelation(q, i*cw, (i+1)*cw, j*ch, (j+1)*ch, k, 0)
		}
	}
	// 1. The shear that gathers the agreeing cells into the fewest rows.
	const maxShear = 0.6 // rows of pixels per column of pixels
	best, bestScore := 0.0, -1.0
	sums := make([]float64, 2*ny+2*nx)
	for sh := -maxShear; sh <= maxShear+1e-9; sh += 0.02 {
		clear(sums)
		sc := sh * float64(cw) / float64(ch) // cell rows per cell column
		for j := range ny {
			for i := range nx {
				if v := rho[j*nx+i]; v > 0 {
					jj := int(math.Round(float64(j)-sc*float64(i-nx/2))) + nx
					if jj >= 0 && jj < len(sums) {
						sums[jj] += v
					}
				}
			}
		}
		score := 0.0
		for _, v := range sums {
			score += v * v
		}
		if score > bestScore {
			best, bestScore = sh, score
		}
	}
	// 2. The window along the axis (the same size), the bars leaning by
	// the shear.
	delta := math.Atan(best)
	axis := angle + delta
	lean := math.Tan(delta)
	q2, m2 := full.rotated(cx, cy, axis, step, iw, ih)
	rows := make([]float64, q2.h)
	for y := range q2.h - k {
		rows[y] = leanCorrelation(q2, 0, q2.w, y, y+1, k, lean)
	}
	smooth(rows, k/2)
	var out []barWindow
	for _, band := range bands(rows, refineLevel) {
		y0, y1 := band[0], min(q2.h-1, band[1]+k)
		bh := y1 - y0
		if bh < blindMinRows {
			continue
		}
		// 3. The band's ends: its columns' correlation (rows a sixth of
		// the band apart, smoothed over a quarter of its height), the
		// stretch around the best column that keeps refineEnds of it,
		// gaps shorter than a third of the height bridged (a Code 128
		// has no space wider than four modules).
		kk := max(2, bh/6)
		sw := max(2, bh/4)
		cols := make([]float64, q2.w)
		for x := range q2.w {
			cols[x] = leanCorrelation(q2, x, x+1, y0, y1-kk, kk, lean)
		}
		smooth(cols, sw)
		xt := 0
		for x := range cols {
			if cols[x] > cols[xt] {
				xt = x
			}
		}
		lvl := math.Max(0.1, refineEnds*cols[xt])
		gap := max(2, bh/3)
		end := func(dir int) int {
			last, quiet := xt, 0
			for x := xt; x >= 0 && x < q2.w && quiet < gap; x += dir {
				if cols[x] >= lvl {
					last, quiet = x, 0
				} else {
					quiet++
				}
			}
			return last
		}
		xa, xb := end(-1), end(1)
		weight := 0.0
		for x := xa; x <= xb; x++ {
			weight += cols[x]
		}
		p := m2.apply(float64(xa+xb)/2, float64(y0+y1)/2)
		out = append(out, barWindow{cx: p.X, cy: p.Y, angle: axis, w: float64(xb-xa) * step, h: float64(bh) * step, weight: weight * float64(bh)})
	}
	slices.SortFunc(out, func(a, b barWindow) int { return cmp.Compare(b.weight, a.weight) })
	return out
}

// bandShoulder is the share of a band's peak down to which the rows
// beside it belong to it, up to the valley that parts it from the next
// band: rows that rise by bandRise of its peak above the lowest passed
// belong to another. bandMin is the least correlation of a band's peak:
// paper and noise stay near zero, bars under a glare above 0.5.
// bandPeer is the least share of the first band's peak another band's
// peak keeps: the caption between an SN and an IMEI correlates at
// 0.3–0.4 where their bars do at 0.8–0.9.
const (
	bandShoulder = 0.1
	bandRise     = 0.1
	bandMin      = 0.2
	bandPeer     = 0.5
)

// refineLevel is the share of its peak the rows' (and a band's columns')
// correlation keeps within one code.
const refineLevel = 0.4

// refineEnds is the share of a band's best column correlation that its
// columns keep out to the code's ends: the modules at a far end,
// foreshortened, and bars dimmed by a glare correlate less.
const refineEnds = 0.2

// leanCorrelation returns the correlation between the gradients along
// the rows of p at columns [x0, x1) and rows [y0, y1) and those k rows
// below, shifted by lean·k columns (bars that lean by lean columns a row).
func leanCorrelation(p plane, x0, x1, y0, y1, k int, lean float64) float64 {
	const r = 2
	dx := int(math.Round(lean * float64(k)))
	x0 = max(x0, r, r-dx)
	x1 = min(x1, p.w-r, p.w-r-dx)
	var sab, saa, sbb float64
	for y := max(0, y0); y < y1 && y+k < p.h; y++ {
		a, b := p.row(y), p.row(y+k)
		for x := x0; x < x1; x++ {
			da := float64(int(a[x+r]) - int(a[x-r]))
			db := float64(int(b[x+dx+r]) - int(b[x+dx-r]))
			sab, saa, sbb = sab+da*db, saa+da*da, sbb+db*db
		}
	}
	if saa == 0 || sbb == 0 {
		return 0
	}
	return sab / math.Sqrt(saa*sbb)
}

// smooth replaces xs by its running mean over 2r+1 values.
func smooth(xs []float64, r int) {
	if r < 1 {
		return
	}
	src := slices.Clone(xs)
	for i := range xs {
		s, n := 0.0, 0
		for j := max(0, i-r); j <= min(len(src)-1, i+r); j++ {
			s, n = s+src[j], n+1
		}
		xs[i] = s / float64(n)
	}
}

// bands returns the runs of rows whose value stays above level times
// the run's own peak, the peaks (above bandMin) taken highest first: two
// codes stacked with a caption between them give two runs.
func bands(rows []float64, level float64) [][2]int {
	taken := make([]bool, len(rows))
	var out [][2]int
	least := bandMin
	for {
		top := -1
		for y, v := range rows {
			if !taken[y] && v > least && (top < 0 || v > rows[top]) {
				top = y
			}
		}
		if top < 0 {
			return out
		}
		if len(out) == 0 {
			least = math.Max(bandMin, bandPeer*rows[top])
		}
		lo, hi := top, top
		for lo > 0 && !taken[lo-1] && rows[lo-1] >= level*rows[top] {
			lo--
		}
		for hi < len(rows)-1 && !taken[hi+1] && rows[hi+1] >= level*rows[top] {
			hi++
		}
		out = append(out, [2]int{lo, hi})
		// Its shoulders too, lest they make bands of their own.
		floor, rise := bandShoulder*rows[top], bandRise*rows[top]
		lo, hi = shoulder(rows, taken, lo, -1, floor, rise), shoulder(rows, taken, hi, 1, floor, rise)
		for y := lo; y <= hi; y++ {
			taken[y] = true
		}
	}
}

// shoulder returns how far from row y, going dir, the rows stay at
// floor or above and rise no more than rise above the lowest of them
// passed: the shoulder of a band, which ends at the valley before the
// next band.
func shoulder(rows []float64, taken []bool, y, dir int, floor, rise float64) int {
	lowest := rows[y]
	for {
		n := y + dir
		if n < 0 || n >= len(rows) || taken[n] || rows[n] < floor || rows[n] > lowest+rise {
			return y
		}
		y = n
		lowest = math.Min(lowest, rows[y])
	}
}

// refineFitMin and refineFitMax bound a read's length as a share of the
// placed code's (see refinedRead). refineLength and refineHeight size
// the window read around a placed code, as shares of its extent: the
// quiet zones beyond the bars along, the band's edge rows (where the bars
// meet the caption) left out across. The quiet zones decide where the
// reader finds the symbol's ends: seed 7 hard 26's SN, placed three
// times within 1.5° and 50 px, read from one placement at 1.3 times its
// length and from all three at 1.5–1.7.
// refineWindows is how many placed codes of one region are read (an SN,
// an IMEI, a line of text that looked like bars), and refineShape the
// least ratio of a placed code's length to its height.
const (
	refineFitMin  = 0.7
	refineFitMax  = 1.4
	refineLength  = 1.6
	refineHeight  = 0.9
	refineWindows = 3
	refineShape   = 1.5
)

// modelRefined is the escalation stage of the model reader on the codes
// refineBars places around each bar region no code explains: a region's
// own window is often drawn out over the background and turned to the
// bars' normal, which perspective shears off the code's axis. Each window
// is read as taken, then warped by each of modelPitchRatios; with trend,
// paper and ink levels are free to change along each character (a
// glare's edge crosses most codes it dims), which doubles a read's time.
// It returns how many regions it tried (see modelRegions).
func (e *escalation) modelRefined(ctx context.Context, trend bool) int {
	kind := modelPlacedFixed
	if trend {
		kind = modelPlacedFree
	}
	return e.modelRegions(ctx, kind, func(ctx context.Context, r region) bool {
		bws, ok := e.placed[r]
		if !ok {
			fs := float64(e.f)
			cx, cy := e.centre(r)
			bws = refineBars(e.full, cx, cy, r.angle, r.lenU*fs, r.lenV*fs)
			if e.placed == nil {
				e.placed = map[region][]barWindow{}
			}
			e.placed[r] = bws
		}
		for n, bw := range bws {
			if n >= refineWindows || ctx.Err() != nil {
				break
			}
			if bw.w < refineShape*bw.h {
				continue
			}
			// The largest first; past an SN, the rest are captions,
			// text or the IMEI beside it.
			if text, ok := e.refinedRead(ctx, bw, trend); ok && !isIMEI(text) {
				break
			}
		}
		return true
	})
}

// refinedRead reads window bw with the model reader, as taken and then
// warped by each of modelPitchRatios (levels changing along each
// character with trend), and returns the text of a code it read that is
// new. A read must span refineFitMin to refineFitMax of the placed code's
// length: freer levels let a text of modules far finer than the blur fit
// part of a code blurred over a module.
func (e *escalation) refinedRead(ctx context.Context, bw barWindow, trend bool) (string, bool) {
	if e.ses.covers(bw.cx, bw.cy, false) {
		return "", false
	}
	w, h := bw.w*refineLength, bw.h*refineHeight
	step := 1.0
	if w < fineModuleSpan {
		step = 0.5
	}
	step, iw, ih := window(step, w, h, escWindowPixels)
	if iw < 40 || ih < blindMinRows {
		return "", false
	}
	q, mq := e.full.rotated(bw.cx, bw.cy, bw.angle, step, iw, ih)
	prof, y0, y1, ok := barProfile(q)
	if !ok {
		return "", false
	}
	for _, rhos := range [][]float64{nil, modelPitchRatios} {
		r, ok := readPitches(ctx, prof, step, rhos, trend)
		if n := math.Abs(r.x1-r.x0) * step / bw.w; ok && n >= refineFitMin && n <= refineFitMax {
			return r.text, e.ses.addModel(r, mq, y0, y1)
		}
		if ctx.Err() != nil {
			break
		}
	}
	return "", false
}

// placedCodes returns the codes refineBars placed around a region (bws,
// see planCoarse) as bar regions of their own of the given cells (at most
// refineWindows, each at least refineShape times as long as high),
// leaving out those whose centre lies in a bar region found before: the
// stages read those already, and each region more takes from their
// budget. The coarse localiser's bar regions of a label blurred over
// about a module run the length of the photo, along the background's
// grain or the label's edge, at angles off the bars; the codes placed
// from their own bars are what the bar stages can read.
func (e *escalation) placedCodes(bws []barWindow, cells int) []region {
	fs, half := float64(e.f), float64(e.f-1)/2
	var out []region
	for n, bw := range bws {
		if n >= refineWindows {
			break
		}
		if bw.w < refineShape*bw.h || e.inBarRegion(bw.cx, bw.cy) {
			continue
		}
		out = append(out, region{bars: true, angle: bw.angle, cx: (bw.cx - half) / fs, cy: (bw.cy - half) / fs, lenU: bw.w / fs, lenV: bw.h / fs, cells: cells})
	}
	return out
}

// barsIn2D returns the bar region to place codes in within 2D region r
// (fast path's scale, f image pixels to its pixel) when its gradients
// share one direction: a Code 128 blurred over about a module pools with
// its caption and the text beside it into cells a localiser takes for 2D
// texture, while over the whole region the bars' direction still
// prevails (coherence from 0.45 to 0.7 on such labels; a QR code or Data
// Matrix has none). Codes run past a region that holds their middle
// only, and their bars are about a third of its shorter side high.
func barsIn2D(full plane, f int, r region) (region, bool) {
	t, ok := regionTensor(full, f, r)
	if st := t.stat(1); ok && st.coherence >= minBarsIn2D {
		long, short := math.Max(r.lenU, r.lenV), math.Min(r.lenU, r.lenV)
		return region{bars: true, angle: st.angle, cx: r.cx, cy: r.cy, lenU: 3 * long, lenV: short / 3, cells: r.cells}, true
	}
	return region{}, false
}

// minBarsIn2D is the least coherence over a 2D region for barsIn2D to
// look for bars in it.
const minBarsIn2D = 0.4

// regionTensor returns the structure tensor of p over the box of region
// r (fast path's scale, f image pixels to its pixel), its gradients
// measured over softSpan pixels, from the working grid's cells within the
// box and the plane; ok is false for a box of no cells.
func regionTensor(p plane, f int, r region) (tensor, bool) {
	x0, x1 := int(r.cx-r.lenU/2)/cellSize, int(r.cx+r.lenU/2)/cellSize
	y0, y1 := int(r.cy-r.lenV/2)/cellSize, int(r.cy+r.lenV/2)/cellSize
	t, n := softTensor(p, f, max(0, x0)*cellSize, max(0, y0)*cellSize, min(x1*cellSize, p.w/f), min(y1*cellSize, p.h/f))
	return t, n > 0
}

// inBarRegion reports whether image point (x, y) lies in one of the bar
// regions found so far.
func (e *escalation) inBarRegion(x, y float64) bool {
	fs := float64(e.f)
	for _, r := range append(append([]region(nil), e.regions...), e.extra...) {
		if !r.bars {
			continue
		}
		cx, cy := e.centre(r)
		cos, sin := math.Cos(r.angle), math.Sin(r.angle)
		u, v := (x-cx)*cos+(y-cy)*sin, -(x-cx)*sin+(y-cy)*cos
		if math.Abs(u) <= r.lenU*fs/2 && math.Abs(v) <= r.lenV*fs/2 {
			return true
		}
	}
	return false
}
