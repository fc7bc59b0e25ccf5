package scan

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Escalation limits. When the fast passes leave a photo unexplained (no
// code, or bar regions no code accounts for), the scan escalates through
// slower stages, cheapest first, within a time budget.
const (
	// DefaultEscalationBudget is the time the stages after the fast path
	// may take on a phone photo (2 MP and more); smaller images get a
	// share in proportion to their pixels (see escalationBudget).
	DefaultEscalationBudget = 2 * time.Second
	// escalationRefPixels is the smallest photo that gets the whole
	// budget: a 2–3 MP photo's SN sits in modules of two or three pixels,
	// as hard to read as anything a 12 MP photo holds.
	escalationRefPixels = 2_000_000
	// minEscalationShare is the least share of the budget a small photo
	// gets: a 0.3 MP crop still deserves the retries it always had.
	minEscalationShare = 0.25
	// escWindowPixels bounds each window an escalation stage samples
	// around a region (2 MP): a window and three filtered copies of it fit
	// in one maxWindowPixels of the scan's memory estimate.
	escWindowPixels = maxWindowPixels / 4
	// escCachePixels bounds the region windows kept between stages (one
	// maxWindowPixels).
	escCachePixels = maxWindowPixels
	// minExplainCells is the size (cells) from which a located bar region
	// that no code explains keeps a scan going.
	minExplainCells = 8
	// minExplainLength is the least length across the bars (working
	// pixels) of such a region, and minExplainShape the least ratio of
	// that length to the bars' height: label borders and lines of text
	// look like one long bar.
	minExplainLength = 6 * cellSize
	minExplainShape  = 0.6
	// minExplainFill is the least share of the points of a grid over a
	// bar region (in the columns that cross bars at all) that must look
	// like bars for the region to need explaining: a barcode's bars fill
	// their columns from top to bottom, lines of text and a label's
	// edges do not.
	minExplainFill = 0.25
	// maxExtentGap is how many cells without bars a code's stretch may
	// hold (wide bars and spaces) when its extent is measured.
	maxExtentGap = 2
	// maxPieceAngle is how far apart (radians) the bar directions of two
	// pieces of one code may be to be joined, and maxPieceGap the widest
	// gap between them along the bars' normal, in units of their height.
	maxPieceAngle = 0.12
	maxPieceGap   = 1.5
	// minExplainedShare is the share of a bar region that codes must
	// cover for it to count as read, and minIMEIShare the share IMEIs
	// alone must: an SN stacked over an IMEI is often located as one
	// region, about half of which the IMEI covers once read.
	minExplainedShare = 0.5
	minIMEIShare      = 0.8
	// minBarHeight is the least height of a code's bars, as a share of
	// its length, assumed when a region is checked against the codes read.
	minBarHeight = 0.25
	// maxCrossAngle is how far (radians) the direction of a bar region
	// inside a code read may differ from the code's before the region
	// counts as lines across it.
	maxCrossAngle = 0.35
	// maxPyramidSide bounds the side (image pixels) of a 2D region the
	// pyramid and soft stages read: a low texture threshold also finds whole
	// backgrounds, too large to be one label's code.
	maxPyramidSide = 1200
	// escRows is how many row bands of a region window the escalation
	// stages read; each band averages the rows of its height.
	escRows = 16
	// fineModuleSpan is the length (image pixels) under which a bar
	// region is upsampled ×2 before reading: short codes have modules of
	// two or three pixels.
	fineModuleSpan = 800
	// softSpan is the distance (image pixels) over which the soft stage
	// measures gradients when it locates again at the working scale, and
	// softCellEnergy the texture a cell then needs: sensor noise of a dim
	// photo makes the whole background look textured to differences of
	// neighbouring pixels, and hides labels whose edges blur over more
	// than a module; differences over four pixels averaged over four rows
	// cut the noise's energy eightfold and still see the label. On the
	// tuning photos of the hard tier it finds bars on 27 of 40 (against
	// 3) and QR codes the fast path saw as part of a textured background.
	softSpan       = 4
	softCellEnergy = minCellEnergy / 6
	// faintTimes is how many times the median cell's texture a cell
	// needs in the faint and coarse stages, and faintCellEnergy the least
	// texture.
	faintTimes      = 8
	faintCellEnergy = softCellEnergy / 8
	// coarseSpan is the distance (image pixels) over which the coarse
	// stage measures gradients: a 2D symbol of large modules (10–14 px
	// at 12 MP) on a dim label over a dark, noisy background has edges
	// too sparse for its cells to stand out from the noise over
	// softSpan; over twice that span the noise's energy falls eightfold
	// more, and the symbol's cells stand well above the background's.
	coarseSpan = 8
	// minMatrixFill is the least share of its box a 2D region must fill
	// with textured cells for the matrix-sharpened stage to read it: QR
	// codes and Data Matrix symbols, even turned by 45°, fill 38–80 % on
	// the tuning photos; blocks of text and clutter 9–23 %, and reading
	// them sharpened cost up to 1.6 s.
	minMatrixFill = 0.3
	// tightMatrixSide is the side of the square the matrix-tight stage
	// reads a 2D region in, in units of the region's extent (the other
	// reads take 1.5 and more).
	tightMatrixSide = 1.1
)

// StopReason says why a scan stopped.
type StopReason string

// Stop reasons.
const (
	// StopFound: the codes found explain the photo.
	StopFound StopReason = "found"
	// StopBudget: the escalation budget ran out.
	StopBudget StopReason = "budget"
	// StopExhausted: every stage ran.
	StopExhausted StopReason = "exhausted"
	// StopCancelled: the caller's context or the scan timeout ended.
	StopCancelled StopReason = "cancelled"
)

// Trace records how a scan spent its time, stage by stage, so failures can
// be studied.
type Trace struct {
	// Escalated is true when the fast path did not explain the photo and
	// the escalation stages ran.
	Escalated bool `json:"escalated"`
	// BudgetMS is the escalation budget of this photo, in milliseconds.
	BudgetMS float64 `json:"budget_ms"`
	// Stop says why the scan stopped.
	Stop StopReason `json:"stop"`
	// Stages lists the stages that ran, in order; "fast" is the fast path.
	// Stages of two lanes (StageTrace.Lane) are listed lane by lane.
	Stages []StageTrace `json:"stages"`
}

// StageTrace is what one stage of a scan tried.
type StageTrace struct {
	// Name names the stage: "fast", "rows-working", "bars-averaged",
	// "soft", "bars-envelope", "pyramid", "full-resolution"...
	Name string `json:"name"`
	// Lane is the lane the stage ran in when the stages after the
	// localisers ran in two at once: 1 the bar stages and the model
	// reader on located regions, 2 the 2D stages, the model reader on
	// placed windows and the finer localisation; 0 for the fast path, the
	// localisers, and scans in one lane.
	Lane int `json:"lane,omitempty"`
	// MS is the time the stage took, in milliseconds.
	MS float64 `json:"ms"`
	// Tried counts the windows or passes the stage read.
	Tried int `json:"tried"`
	// Found counts the codes the stage confirmed that were not known
	// before it.
	Found int `json:"found"`
}

// escalationBudget is the budget for a w×h photo: opt (or the default) at
// 2 MP and above, a share in proportion to the pixels below, never less
// than minEscalationShare of it. A negative opt means no escalation.
func escalationBudget(opt time.Duration, w, h int) time.Duration {
	if opt < 0 {
		return -1
	}
	if opt == 0 {
		opt = DefaultEscalationBudget
	}
	share := math.Min(1, math.Max(minEscalationShare, float64(w)*float64(h)/escalationRefPixels))
	return max(1, time.Duration(float64(opt)*share))
}

// stage is one step of the escalation.
type stage struct {
	name string
	// regional stages read only the regions no code explains; the others
	// read the whole photo and run only while no code is found, or only
	// IMEIs (see settled) and no bar region is left to read.
	regional bool
	// extra stages read only the regions found by later stages.
	extra bool
	// read reads one window of a bar stage (default readWindow).
	read func(q plane, mq affine)
	// cost is what a whole-photo stage is expected to take, in units of
	// the fast path's time (see escalate): it does not start when less of
	// the budget is left, since it cannot stop halfway.
	cost float64
	run  func(ctx context.Context) int // returns what it tried
}

// escalation is the state of the stages of one scan.
type escalation struct {
	ses     *session
	full    plane
	f       int
	regions []region // from the fast path; these decide when a scan is done
	extra   []region // found by later stages
	// matrices are the 2D regions later stages found and read in vain.
	matrices []region
	// large are 2D regions too large to be one symbol, read at half
	// resolution for a symbol in them: a whole label, blurred.
	large []region
	trace *Trace
	// ahead is the coarse stage's plan, worked out beside the stages
	// before it (see coarse); nil when it is not, or once taken.
	ahead  *coarseAhead
	cache  map[windowKey]cachedWindow
	cached int // pixels in cache
	// board and lane are set on the copies of a scan's state that run
	// in two lanes (see escalateLanes).
	board *board
	lane  int
	// modelDone holds the regions each kind of model stage has read, so
	// that it reads a region once (see modelRegions).
	modelDone map[modelKey]bool
	// placed holds the codes refineBars placed in each region, for the
	// refined model stages that read them.
	placed map[region][]barWindow
}

// windowKey names a cached region window.
type windowKey struct {
	region int // index in regions ++ extra
	turn   float64
	step   float64
}

// cachedWindow is a region window and its map to the image.
type cachedWindow struct {
	q plane
	m affine
}

// unexplained returns the indexes of the bar regions no code read
// explains. With all, these are the regions worth reading (regions ++
// extra, any bar region longer across its bars than about its height);
// without, those that keep a scan going (the fast path's, barLike).
func (e *escalation) unexplained(all bool) []int {
	var out []int
	rs := e.regions
	like := barLike
	if all {
		rs = append(append([]region(nil), e.regions...), e.extra...)
		like = func(r region) bool { return r.bars && r.lenU >= minExplainShape*r.lenV }
	}
	for i, r := range rs {
		if like(r) && !e.explained(r, !all) {
			out = append(out, i)
		}
	}
	return out
}

// codeAngle is the direction of a 1D code's axis (across its bars).
func codeAngle(c Code) float64 {
	p := c.Points
	return math.Atan2(p[1].Y-p[0].Y, p[1].X-p[0].X)
}

// barExtent returns the longest stretch of region r along its bars'
// normal, from u0 to u1 image pixels from its centre, where cells look
// like bars on a line through the centre or a quarter of the bars'
// height off it; ok is false when no stretch is minExplainLength long.
// Regions may be drawn out past a code's ends, or be one long edge.
func (e *escalation) barExtent(r region) (u0, u1 float64, ok bool) {
	fs := float64(e.f)
	cx, cy := e.centre(r)
	cos, sin := math.Cos(r.angle), math.Sin(r.angle)
	step := cellSize * fs
	n := int(r.lenU*fs/step/2) + 1
	best, start, gap := 0.0, math.NaN(), 0
	for i := -n; i <= n+maxExtentGap+1; i++ {
		u := float64(i) * step
		hit := false
		for _, v := range []float64{-0.25, 0, 0.25} {
			vv := v * r.lenV * fs
			if i <= n && e.barTextured(cx+u*cos-vv*sin, cy+u*sin+vv*cos, r.angle, false) {
				hit = true
				break
			}
		}
		switch {
		case hit && math.IsNaN(start):
			start, gap = u, 0
		case hit:
			gap = 0
		case !math.IsNaN(start):
			gap++
			if gap > maxExtentGap {
				end := u - float64(gap)*step
				if end-start > best {
					best, u0, u1 = end-start, start-step/2, end+step/2
				}
				start = math.NaN()
			}
		}
	}
	return u0, u1, best+step >= minExplainLength*fs
}

// barTextured reports whether the cells of the working grid around image
// point (x, y), pooled three by three as the localiser pools them, hold
// parallel edges at about angle. With soft, the gradients are measured
// over softSpan pixels against the soft localiser's threshold
// (softCellEnergy): the bars of a region the soft or coarse localiser
// found, blurred or dimmed by a glare, that the fast test does not see.
func (e *escalation) barTextured(x, y, angle float64, soft bool) bool {
	x0, y0 := int(x)/e.f-cellSize*3/2, int(y)/e.f-cellSize*3/2
	if x0 < 0 || y0 < 0 || (x0+3*cellSize)*e.f >= e.full.w || (y0+3*cellSize)*e.f >= e.full.h {
		return false
	}
	cell, least := cellTensor, float64(minCellEnergy/2)
	if soft {
		cell, least = softCell, float64(softCellEnergy/2)
	}
	t, _ := boxTensor(e.full, e.f, x0, y0, x0+3*cellSize, y0+3*cellSize, cell)
	st := t.stat(9)
	return st.energy >= least && st.coherence >= minCoherence && angleDiff(st.angle, angle) <= 2*maxAngleDiff
}

// barsGrown returns a 1D code with its outline grown along the bars to at
// least minBarHeight of its length: the rows that read a code may span
// only part of its bars.
func barsGrown(c Code) Code {
	if is2D(c.Format) || len(c.Points) != 4 {
		return c
	}
	p := c.Points
	top := Point{(p[0].X + p[1].X) / 2, (p[0].Y + p[1].Y) / 2}
	bot := Point{(p[2].X + p[3].X) / 2, (p[2].Y + p[3].Y) / 2}
	length := math.Hypot(p[1].X-p[0].X, p[1].Y-p[0].Y)
	h := math.Hypot(bot.X-top.X, bot.Y-top.Y)
	if length == 0 || h >= minBarHeight*length {
		return c
	}
	// Unit normal to the code's axis, from top to bottom.
	nx, ny := -(p[1].Y-p[0].Y)/length, (p[1].X-p[0].X)/length
	if nx*(bot.X-top.X)+ny*(bot.Y-top.Y) < 0 {
		nx, ny = -nx, -ny
	}
	g := (minBarHeight*length - h) / 2
	c.Points = []Point{
		{p[0].X - g*nx, p[0].Y - g*ny}, {p[1].X - g*nx, p[1].Y - g*ny},
		{p[2].X + g*nx, p[2].Y + g*ny}, {p[3].X + g*nx, p[3].Y + g*ny},
	}
	return c
}

// explained reports whether confirmed codes cover at least
// minExplainedShare of the points of a grid over region r that look like
// bars (IMEIs alone: minIMEIShare): one region may hold an SN and an IMEI
// stacked, or bars beside a QR, and its box takes in blank label and text
// too. strict (the check that keeps a scan going) also counts as
// explained a region with hardly any points that look like bars; without
// strict (which regions the stages read), points whose bars only the soft
// texture test sees count too (barTextured, soft): an IMEI's sharp bars
// would otherwise outnumber those of an SN beside it under a glare.
func (e *escalation) explained(r region, strict bool) bool {
	cx, cy := e.centre(r)
	var outlines [][]Point
	var imei []bool // by outline
	for _, k := range e.ses.order {
		fd := e.ses.found[k]
		if !e.ses.confirmed(fd) {
			continue
		}
		c := barsGrown(fd.code)
		o := outline(c)
		if o == nil {
			continue
		}
		if !is2D(c.Format) && inside(o, cx, cy) && angleDiff(codeAngle(c), r.angle) > maxCrossAngle {
			// Lines across a code read (the ends of its bars, print
			// around it) are no code of their own.
			return true
		}
		outlines = append(outlines, o)
		imei = append(imei, isIMEI(c.Text))
	}
	if len(outlines) == 0 {
		return false
	}
	fs := float64(e.f)
	cos, sin := math.Cos(r.angle), math.Sin(r.angle)
	u0, u1 := -r.lenU*fs/2, r.lenU*fs/2
	if b0, b1, ok := e.barExtent(r); ok {
		u0, u1 = b0, b1
	} else if strict {
		// No stretch of bars as long as a code: lines of text, the
		// edges of a label.
		return true
	}
	in, inOther, n, all := 0, 0, 0, 0
	for a := 0.05; a < 1; a += 0.1 {
		for b := -0.375; b <= 0.38; b += 0.125 {
			u, v := u0+a*(u1-u0), b*r.lenV*fs
			x, y := cx+u*cos-v*sin, cy+u*sin+v*cos
			all++
			if !e.barTextured(x, y, r.angle, false) && (strict || !e.barTextured(x, y, r.angle, true)) {
				continue
			}
			n++
			covered, other := false, false
			for k, o := range outlines {
				if inside(o, x, y) {
					covered, other = true, other || !imei[k]
				}
			}
			if covered {
				in++
			}
			if other {
				inOther++
			}
		}
	}
	if strict && float64(n) < minExplainFill*float64(all) {
		// Hardly any bars: blank paper between a label's edges, or bars
		// too soft to keep a scan going (a scan escalated anyway still
		// reads them).
		return true
	}
	if n == 0 || float64(in) < minExplainedShare*float64(n) {
		return false
	}
	return inOther > 0 || float64(in) >= minIMEIShare*float64(n)
}

// pending reports whether bar regions are left to read: any, or with
// extra only those later stages found.
func (e *escalation) pending(extra bool) bool {
	for _, i := range e.unexplained(true) {
		if !extra || i >= len(e.regions) {
			return true
		}
	}
	return false
}

// barLike reports whether r is a bar region that a scan must explain.
func barLike(r region) bool {
	return r.bars && r.cells >= minExplainCells && r.lenU >= minExplainLength && r.lenU >= minExplainShape*r.lenV
}

// joinPieces joins bar regions that lie end to end along their normal at
// one angle: wide bars and spaces leave cells without edges, which split
// a code into pieces the width of a few characters. 2D regions pass
// through.
func joinPieces(rs []region) []region {
	out := append([]region(nil), rs...)
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(out) && !merged; i++ {
			for j := i + 1; j < len(out); j++ {
				if r, ok := joined(out[i], out[j]); ok {
					out[i] = r
					out = append(out[:j], out[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return out
}

// joined returns the union of bar regions a and b when they are pieces
// of one code.
func joined(a, b region) (region, bool) {
	if !a.bars || !b.bars || angleDiff(a.angle, b.angle) > maxPieceAngle {
		return region{}, false
	}
	cos, sin := math.Cos(a.angle), math.Sin(a.angle)
	dx, dy := b.cx-a.cx, b.cy-a.cy
	du, dv := dx*cos+dy*sin, -dx*sin+dy*cos
	h := math.Max(a.lenV, b.lenV)
	if math.Abs(dv) > h/2 || math.Abs(du)-(a.lenU+b.lenU)/2 > maxPieceGap*h {
		return region{}, false
	}
	u0, u1 := math.Min(-a.lenU/2, du-b.lenU/2), math.Max(a.lenU/2, du+b.lenU/2)
	v0, v1 := math.Min(-a.lenV/2, dv-b.lenV/2), math.Max(a.lenV/2, dv+b.lenV/2)
	mu, mv := (u0+u1)/2, (v0+v1)/2
	return region{bars: true, angle: a.angle, cx: a.cx + mu*cos - mv*sin, cy: a.cy + mu*sin + mv*cos,
		lenU: u1 - u0, lenV: v1 - v0, cells: a.cells + b.cells}, true
}

// region returns region i of regions ++ extra.
func (e *escalation) region(i int) region {
	if i < len(e.regions) {
		return e.regions[i]
	}
	return e.extra[i-len(e.regions)]
}

// centre maps a region's centre to image pixels.
func (e *escalation) centre(r region) (float64, float64) {
	fs := float64(e.f)
	half := float64(e.f-1) / 2
	return r.cx*fs + half, r.cy*fs + half
}

// settled reports whether some code other than an IMEI was found: a
// terminal's label does not carry an IMEI alone, so an IMEI read beside an
// SN code the fast path did not locate (two stacked codes and their text
// pool into one 2D-looking region) keeps the scan going.
func (e *escalation) settled() bool {
	for _, c := range e.ses.codes() {
		if is2D(c.Format) || !isIMEI(c.Text) {
			return true
		}
	}
	return false
}

// done reports whether the codes found explain the photo: some code other
// than an IMEI was found (settled), and no sizeable bar region of the fast path is left unread (the
// SN is most often a Code 128 beside an IMEI or a QR).
func (e *escalation) done() bool {
	if !e.settled() {
		return false
	}
	return !e.ses.formats.any1D() || len(e.unexplained(false)) == 0
}

// window returns region i sampled upright (bars vertical) at full
// resolution, turned by turn radians from the localiser's angle, rows
// averaged in escRows bands, and its map to the image. The window is a
// strip along the bars' normal across the whole photo: a code the
// localiser saw in pieces (wide bars leave cells without edges) is read
// whole. Windows are cached while they fit in escCachePixels.
func (e *escalation) window(i int, turn float64) (plane, affine, bool) {
	r := e.region(i)
	fs := float64(e.f)
	cx, cy := e.centre(r)
	angle := r.angle + turn
	t0, t1 := lineSpan(cx, cy, angle, float64(e.full.w), float64(e.full.h))
	mid := (t0 + t1) / 2
	cx, cy = cx+mid*math.Cos(angle), cy+mid*math.Sin(angle)
	w := t1 - t0
	h := (r.lenV + 2*cellSize) * fs
	step := 1.0
	if r.lenU*fs < fineModuleSpan {
		step = 0.5
	}
	step, iw, ih := window(step, w, h, escWindowPixels)
	if iw < 20 || ih < 1 {
		return plane{}, affine{}, false
	}
	k := windowKey{i, turn, step}
	if c, ok := e.cache[k]; ok {
		return c.q, c.m, true
	}
	q, mq := e.full.rotated(cx, cy, angle, step, iw, ih)
	q = q.rowsAveraged(max(1, ih/escRows))
	if e.cached+iw*ih <= escCachePixels {
		e.cache[k] = cachedWindow{q, mq}
		e.cached += iw * ih
	}
	return q, mq, true
}

// lineSpan returns the range [t0, t1] of t for which (x, y) + t·(cos a,
// sin a) lies in the w×h image; (x, y) is inside it.
func lineSpan(x, y, a, w, h float64) (float64, float64) {
	t0, t1 := math.Inf(-1), math.Inf(1)
	clip := func(p, d, hi float64) {
		if math.Abs(d) < 1e-9 {
			return
		}
		lo, up := (0-p)/d, (hi-p)/d
		if lo > up {
			lo, up = up, lo
		}
		t0, t1 = math.Max(t0, lo), math.Min(t1, up)
	}
	clip(x, math.Cos(a), w)
	clip(y, math.Sin(a), h)
	if t0 > t1 {
		return 0, 0
	}
	return t0, t1
}

// readWindow reads the 1D codes of an upright region window with the row
// readers; a bar stage whose read is set reads with another 1D reader
// instead (greyStage).
func (e *escalation) readWindow(q plane, mq affine) int {
	return e.ses.decode1D(q, mq, max(1, q.h/escRows))
}

// readEdges reads an upright region window with the row readers and then
// with the edge reader, whatever the row readers confirmed: a window
// across a label often holds an IMEI they read and an SN only the edge
// reader reads.
func (e *escalation) readEdges(q plane, mq affine) {
	step := max(1, q.h/escRows)
	e.ses.decode1D(q, mq, step)
	e.ses.edgeRead(q, mq, step, false)
}

// greyStage makes bar stage st read its windows with readEdges: its
// filter keeps the grey levels the edge reader measures (the binarized
// stages' do not, and on the turned windows of bars-angles and the
// sharpened ones of bars-unsharp it read nothing more on the tuning
// photos). Without the blind fit it takes a few milliseconds a window;
// with it, hundreds on some.
func (e *escalation) greyStage(st *stage) *stage {
	st.read = func(q plane, mq affine) { e.readEdges(q, mq) }
	return st
}

// barStage returns a regional stage that reads every unexplained bar
// region through filter, at each of turns; extra limits it to the regions
// later stages found.
func (e *escalation) barStage(name string, extra bool, turns []float64, filter func(plane) plane) *stage {
	st := &stage{name: name, regional: true, extra: extra}
	st.run = func(ctx context.Context) int {
		tried := 0
		for _, turn := range turns {
			for _, i := range e.unexplained(true) {
				if extra && i < len(e.regions) {
					continue
				}
				if ctx.Err() != nil {
					return tried
				}
				q, mq, ok := e.window(i, turn)
				if !ok {
					continue
				}
				if filter != nil {
					q = filter(q)
				}
				tried++
				if st.read != nil {
					st.read(q, mq)
				} else {
					e.readWindow(q, mq)
				}
			}
		}
		return tried
	}
	return st
}

// negative wraps the stage reading bar regions as negatives: when it
// reads a code the label is printed light on dark, so its 2D codes are
// read as negatives too (then2D) before the scan can stop.
func (e *escalation) negative(st *stage, then2D func()) *stage {
	run := st.run
	st.run = func(ctx context.Context) int {
		before := len(e.ses.codes())
		tried := run(ctx)
		if len(e.ses.codes()) > before && ctx.Err() == nil && (e.ses.formats[QRCode] || e.ses.formats[DataMatrix]) {
			then2D()
			tried++
		}
		return tried
	}
	return st
}

// envelopeRadius is the half-width of the local min/max window of a
// region window w samples wide: about ten modules of a label code.
func envelopeRadius(w int) int { return max(4, w/30) }

// stages lists the escalation stages, cheapest first. low is the working
// copy, mLow its map to the image.
func (e *escalation) stages(low plane, mLow affine) []*stage {
	ses, full, f := e.ses, e.full, e.f
	deg := math.Pi / 180
	// The working copy turned by 90° and inverted, made when first used.
	var rot, inv plane
	turned := func() plane {
		if rot.w == 0 {
			rot = low.rotatedCCW()
		}
		return rot
	}
	inverted := func() plane {
		if inv.w == 0 {
			inv = low.inverted()
		}
		return inv
	}
	// Pixel (u, v) of rot is pixel (w-1-v, u) of low.
	mRot := affine{b: -1, c: float64(low.w - 1), d: 1}.then(mLow)
	whole := func(name string, cost float64, steps ...func()) *stage {
		return &stage{name: name, cost: cost, run: func(ctx context.Context) int {
			for i, s := range steps {
				if ctx.Err() != nil {
					return i
				}
				s()
			}
			return len(steps)
		}}
	}
	envelope := func(q plane) plane { return q.envelopeNormalized(envelopeRadius(q.w)) }
	st := []*stage{
		whole("rows-working", 0.3,
			func() { ses.decode1D(low, mLow, rowStep(low.h)) },
			func() { ses.decode1D(turned(), mRot, rowStep(low.w)) }),
		e.greyStage(e.barStage("bars-averaged", false, []float64{0}, nil)),
		e.negative(e.barStage("bars-inverted", false, []float64{0}, plane.inverted), func() {
			ses.decode2D(inverted(), mLow, hybrid, false)
			ses.readRegions(context.Background(), full, e.regions, f, true, false)
		}),
		{name: "sharp", cost: 0.2, run: e.sharp},
		e.greyStage(e.barStage("sharp-bars", true, []float64{0}, nil)),
		whole("2d-working", 0.5,
			func() { ses.decode2D(low, mLow, global, false) },
			func() { ses.decode2D(low, mLow, hybrid, true) },
			func() { ses.rescueFaint(low, mLow) }),
		{name: "soft", cost: 0.3, run: e.soft},
		{name: "faint", cost: 0.3, run: e.faint},
		{name: "coarse", cost: 0.5, run: e.coarse},
		e.greyStage(e.barStage("soft-bars", true, []float64{0}, nil)),
		{name: "matrix-sharpened", cost: 0.3, run: e.sharpenedMatrices},
		{name: "matrix-denoised", cost: 0.3, run: e.denoisedMatrices},
		{name: "matrix-halved", cost: 0.3, run: e.halvedMatrices},
		whole("inverted", 1,
			func() { ses.decode2D(inverted(), mLow, hybrid, false) },
			func() { ses.decode1D(inverted(), mLow, rowStep(low.h)) },
			func() { ses.readRegions(context.Background(), full, e.regions, f, true, false) }),
		e.greyStage(e.barStage("bars-envelope", false, []float64{0}, envelope)),
		e.barStage("bars-angles", false, []float64{-3 * deg, 3 * deg, -6 * deg, 6 * deg}, nil),
		{name: "model-bars", regional: true, run: e.modelBars},
		{name: "model-refined", regional: true, run: func(ctx context.Context) int { return e.modelRefined(ctx, false) }},
		{name: "model-perspective", regional: true, run: e.modelPerspective},
		{name: "model-refined-glare", regional: true, run: func(ctx context.Context) int { return e.modelRefined(ctx, true) }},
		// After the model stages: placed before them, it took the time
		// of two Code 128 they read on the tuning photos.
		{name: "matrix-tight", cost: 0.3, run: e.tightMatrices},
		e.barStage("bars-sauvola", false, []float64{0}, func(q plane) plane { return q.thresholdLocal(envelopeRadius(q.w), sauvolaK) }),
		e.barStage("bars-mean", false, []float64{0}, func(q plane) plane { return q.thresholdLocal(envelopeRadius(q.w), 0) }),
		e.barStage("bars-hybrid", false, []float64{0}, plane.hybridBinarized),
		e.barStage("bars-unsharp", false, []float64{0}, func(q plane) plane { return envelope(q.unsharp(2, 1.5)) }),
		{name: "pyramid", cost: 0.5, run: e.pyramid},
		e.greyStage(e.barStage("pyramid-bars", true, []float64{0}, nil)),
		e.greyStage(e.barStage("pyramid-envelope", true, []float64{0}, envelope)),
		// The model stages again, for the bar regions the pyramid found:
		// a code blurred over about a module at 2–3 MP is often located
		// only at the pyramid's finer scale.
		{name: "pyramid-model", regional: true, extra: true, run: e.modelBars},
		{name: "pyramid-model-refined", regional: true, extra: true, run: func(ctx context.Context) int { return e.modelRefined(ctx, false) }},
		{name: "pyramid-model-perspective", regional: true, extra: true, run: e.modelPerspective},
		{name: "pyramid-model-refined-glare", regional: true, extra: true, run: func(ctx context.Context) int { return e.modelRefined(ctx, true) }},
		whole("rows-dense", 1.5,
			func() { ses.decode1D(low, mLow, 1) },
			func() { ses.decode1D(turned(), mRot, 1) }),
		whole("rows-45", 1,
			func() { ses.rotated1D(low, mLow, math.Pi/4) },
			func() { ses.rotated1D(low, mLow, -math.Pi/4) }),
	}
	if f > 1 {
		st = append(st, whole("full-resolution", 4,
			func() { ses.decode2D(full, identity, hybrid, true) },
			func() { ses.decode1D(full, identity, rowStep(full.h)) }),
			&stage{name: "working-located", run: func(ctx context.Context) int { return e.workingLocated(ctx, low) }})
	}
	return st
}

// pyramid locates regions again at a second, finer working scale and
// with a lower texture threshold (small or soft labels), reads the 2D
// ones and keeps the bar ones for the stages after it.
func (e *escalation) pyramid(ctx context.Context) int {
	f2 := max(1, e.f/2)
	rs := locateWith(e.full, f2, minCellEnergy/3, 1)
	// Express the new regions in the fast path's scale.
	s := float64(f2) / float64(e.f)
	off := (float64(f2-1)/2 - float64(e.f-1)/2) / float64(e.f)
	for i := range rs {
		r := &rs[i]
		r.cx, r.cy = r.cx*s+off, r.cy*s+off
		r.lenU, r.lenV = r.lenU*s, r.lenV*s
		r.cells = int(float64(r.cells) * s * s)
	}
	return e.readLocated(ctx, rs)
}

// sharp locates regions again at the working scale with paired
// gradients (sharp bars at angles where the fast locator sees texture or
// turns them, see cellTensorPaired), reads the 2D ones and keeps the bar
// ones for the stages after it.
func (e *escalation) sharp(ctx context.Context) int {
	return e.readLocated(ctx, locateWith(e.full, e.f, minCellEnergy, spanPaired))
}

// soft locates regions again at the working scale with gradients
// measured over softSpan pixels (blurred, dim or noisy labels), reads the
// 2D ones and keeps the bar ones for the stages after it.
func (e *escalation) soft(ctx context.Context) int {
	return e.readLocated(ctx, locateWith(e.full, e.f, softCellEnergy, softSpan))
}

// faint locates regions again as soft does, with a texture threshold
// set by the photo's own background (adaptiveEnergy) instead of a fixed
// one, when no stage has found a bar region yet: a dim label blurred over
// a module or more has edges too gentle for the fixed threshold, while a
// smooth background leaves little texture of its own.
func (e *escalation) faint(ctx context.Context) int {
	for _, r := range append(append([]region(nil), e.regions...), e.extra...) {
		if r.bars {
			return 0
		}
	}
	return e.readLocated(ctx, locateWith(e.full, e.f, -faintTimes, softSpan))
}

// coarse locates 2D regions again with gradients measured over
// coarseSpan pixels and a texture threshold set by the photo's own
// background, as faint does, and reads them. The codes refineBars places
// in its bar regions, and in its 2D regions whose gradients share one
// direction (barsIn2D), are kept as bar regions (placedCodes). What it
// finds from the image alone (planCoarse) is worked out ahead, beside the
// stages before it, when the escalation has a core to spare (see
// escalateLanes).
func (e *escalation) coarse(ctx context.Context) int {
	var plan coarsePlan
	if e.ahead != nil {
		plan = e.ahead.wait()
		e.ahead = nil
	} else {
		plan = planCoarse(ctx, e.full, e.f)
	}
	var rs []region
	for i, r := range plan.regions {
		if ctx.Err() != nil {
			break
		}
		if !r.bars {
			rs = append(rs, r)
		}
		rs = append(rs, e.placedCodes(plan.placed[i], r.cells)...)
	}
	return e.readLocated(ctx, rs)
}

// coarsePlan is what the coarse stage finds from the image alone: its
// regions, and for each the codes refineBars places in it (in its
// prevailing direction for a 2D region, none when it has none).
type coarsePlan struct {
	regions []region
	placed  [][]barWindow
}

// planCoarse returns the coarse stage's plan for full, located at the
// fast path's scale (f image pixels to its pixel). Once ctx ends, it
// places no more codes.
func planCoarse(ctx context.Context, full plane, f int) coarsePlan {
	fs, half := float64(f), float64(f-1)/2
	var plan coarsePlan
	for _, r := range locateWith(full, f, -faintTimes, coarseSpan) {
		var bws []barWindow
		if ctx.Err() == nil {
			b, ok := r, r.bars
			if !ok {
				b, ok = barsIn2D(full, f, r)
			}
			if ok {
				bws = refineBars(full, b.cx*fs+half, b.cy*fs+half, b.angle, b.lenU*fs, b.lenV*fs)
			}
		}
		plan.regions = append(plan.regions, r)
		plan.placed = append(plan.placed, bws)
	}
	return plan
}

// coarseAhead is the coarse stage's plan worked out in a goroutine of its
// own.
type coarseAhead struct {
	done  chan struct{}
	plan  coarsePlan
	crash any
}

// planAhead starts working out the coarse stage's plan for full, until
// ctx ends (see planCoarse).
func planAhead(ctx context.Context, full plane, f int) *coarseAhead {
	a := &coarseAhead{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		defer func() { a.crash = recover() }()
		a.plan = planCoarse(ctx, full, f)
	}()
	return a
}

// wait returns the plan once it is worked out; a panic in its goroutine
// is raised again in the caller's.
func (a *coarseAhead) wait() coarsePlan {
	<-a.done
	if a.crash != nil {
		panic(fmt.Sprintf("scan: coarse plan: %v", a.crash))
	}
	return a.plan
}

// workingLocated locates regions again on the working copy low itself,
// with gradients between its pixels (f image pixels apart, each the mean
// of f×f), and reads the 2D ones as the stages before it read theirs
// (readLocated, sharpenedMatrices, denoisedMatrices). A label blurred over
// several image pixels in a large photo has edges too gentle per image
// pixel for the localisers that measure on the full image, however long
// their span; on the working copy its slopes are f times steeper and its
// noise averaged. It runs last, and only when no stage located anything:
// its regions read in vain would take the budget of the stages after it.
// Bar regions are left out: a blur that hides them from the other
// localisers leaves their bars unread.
func (e *escalation) workingLocated(ctx context.Context, low plane) int {
	if e.f < 2 || len(e.regions)+len(e.extra)+len(e.matrices) > 0 {
		return 0
	}
	var rs []region
	for _, r := range locateWith(low, 1, softCellEnergy, 1) {
		if !r.bars {
			rs = append(rs, r)
		}
	}
	tried := e.readLocated(ctx, rs)
	if len(e.matrices)+len(e.large) > 0 {
		tried += e.sharpenedMatrices(ctx)
		tried += e.denoisedMatrices(ctx)
		tried += e.halvedMatrices(ctx)
	}
	return tried
}

// readLocated reads the 2D regions of rs, in the fast path's scale, that
// no code covers and keeps the bar ones in extra.
func (e *escalation) readLocated(ctx context.Context, rs []region) int {
	tried := 0
	for _, r := range rs {
		if ctx.Err() != nil {
			break
		}
		cx, cy := e.centre(r)
		if r.bars {
			if !e.ses.covers(cx, cy, false) {
				e.extra = append(e.extra, r)
			}
			continue
		}
		side := math.Max(r.lenU, r.lenV) * float64(e.f)
		if r.cells >= 9 && side <= maxPyramidSide && (e.ses.formats[QRCode] || e.ses.formats[DataMatrix]) && !e.ses.covers(cx, cy, true) {
			tried++
			e.ses.readMatrix(e.full, r, cx, cy, float64(e.f), false)
			if !e.ses.covers(cx, cy, true) {
				e.matrices = append(e.matrices, r)
			}
		} else if r.cells >= 9 && side <= 2*maxPyramidSide && !e.ses.covers(cx, cy, true) {
			e.large = append(e.large, r)
		}
	}
	e.extra = joinPieces(e.extra)
	return tried
}

// sharpenedMatrices reads the 2D regions later stages found and could not
// read, largest first, sharpened (readSharpened), if they fill their box
// as a symbol does (minMatrixFill).
func (e *escalation) sharpenedMatrices(ctx context.Context) int {
	tried := 0
	for _, r := range e.filledMatrices() {
		cx, cy := e.centre(r)
		if ctx.Err() != nil || e.ses.covers(cx, cy, true) {
			continue
		}
		tried++
		e.ses.readSharpened(e.full, cx, cy, math.Max(r.lenU, r.lenV)*1.5*float64(e.f)+2*cellSize)
	}
	return tried
}

// filledMatrices returns the 2D regions later stages found and could not
// read that fill their box as a symbol does (minMatrixFill).
func (e *escalation) filledMatrices() []region {
	var out []region
	for _, r := range e.matrices {
		if float64(r.cells*cellSize*cellSize) >= minMatrixFill*r.lenU*r.lenV {
			out = append(out, r)
		}
	}
	return out
}

// tightMatrices reads the 2D regions sharpenedMatrices read in vain again,
// in a square of tightMatrixSide times their extent (readSharpened, then
// readDenoised): a symbol near a label's edge, or beside its text, shares
// the larger square with a background or lines that the binarizers and
// the Data Matrix outline take for part of it.
func (e *escalation) tightMatrices(ctx context.Context) int {
	tried := 0
	for _, r := range e.filledMatrices() {
		cx, cy := e.centre(r)
		side := math.Max(r.lenU, r.lenV)*tightMatrixSide*float64(e.f) + 2*cellSize
		if ctx.Err() != nil || side > matrixBoxMax || e.ses.covers(cx, cy, true) {
			continue
		}
		tried++
		if e.ses.readSharpened(e.full, cx, cy, side) == 0 {
			e.ses.readDenoised(ctx, e.full, cx, cy, side, 1)
		}
	}
	return tried
}

// escalate runs the stages while the photo is unexplained and the budget
// lasts, recording each in the trace: in two lanes when the process has a
// core to spare (see escalateLanes), else in one.
func (e *escalation) escalate(ctx context.Context, budget, fast time.Duration, low plane, mLow affine) StopReason {
	if e.ses.spare != nil {
		if release, ok := e.ses.spare(); ok {
			defer release()
			return e.escalateLanes(ctx, budget, fast, low, mLow)
		}
	}
	return e.run(ctx, budget, fast, e.stages(low, mLow))
}

// run runs stages in one lane. A whole-photo stage that cannot finish in
// the budget left is passed over, and the stop is then StopBudget, but
// the stages after it still run: the regional ones stop at the budget's
// end.
func (e *escalation) run(ctx context.Context, budget, fast time.Duration, stages []*stage) StopReason {
	ectx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	return e.runLane(&lane{ctx: ctx, ectx: ectx, end: time.Now().Add(budget), unit: fast}, stages)
}

// runLane runs stages in ln: first in order, then the whole-photo stages
// passed over beside an IMEI while located bar regions were left to read.
func (e *escalation) runLane(ln *lane, stages []*stage) StopReason {
	later, stop, ended := e.pass(ln, stages, false)
	if !ended {
		_, stop, ended = e.pass(ln, later, true)
	}
	if ended {
		return stop
	}
	return ln.ended()
}

// pass runs stages in ln, in order, until one explains the photo (stop
// StopFound), the scan is cancelled or the budget ends; ended says so.
// Unless final, it passes over the whole-photo stages while only IMEIs
// are found and located bar regions are left to read, and returns them
// as later.
func (e *escalation) pass(ln *lane, stages []*stage, final bool) (later []*stage, stop StopReason, ended bool) {
	for _, st := range stages {
		if ln.ctx.Err() != nil {
			return nil, StopCancelled, true
		}
		if ln.ectx.Err() != nil {
			return nil, StopBudget, true
		}
		if !st.regional && e.view().settled() {
			// A code is found: whole-photo passes only look for a
			// label whose codes were all missed.
			continue
		}
		if !final && !st.regional && len(e.ses.codes()) > 0 && e.pending(false) {
			// Only IMEIs: the located bar regions are the likelier
			// way to the SN beside them.
			later = append(later, st)
			continue
		}
		if st.regional && !e.pending(st.extra) {
			continue
		}
		if time.Until(ln.end) < time.Duration(st.cost*float64(ln.unit)) {
			// A whole-photo pass that cannot finish in time: the
			// regional stages after it still may.
			ln.skipped = true
			continue
		}
		start, before := time.Now(), len(e.ses.codes())
		tried := st.run(ln.ectx)
		if st.cost > 0 && ln.ectx.Err() == nil {
			ln.unit = max(ln.unit, time.Duration(float64(time.Since(start))/st.cost))
		}
		e.trace.Stages = append(e.trace.Stages, StageTrace{Name: st.name, Lane: ln.n, MS: ms(time.Since(start)), Tried: tried, Found: len(e.ses.codes()) - before})
		if e.board != nil {
			e.board.publish(e.lane, e.ses)
		}
		if e.view().done() {
			return nil, StopFound, true
		}
	}
	return later, "", false
}

// ended is why a lane that ran out of stages stopped.
func (ln *lane) ended() StopReason {
	switch {
	case ln.ctx.Err() != nil:
		return StopCancelled
	case ln.ectx.Err() != nil || ln.skipped:
		return StopBudget
	}
	return StopExhausted
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
