package scan

import (
	"context"
	"github.com/makiuchi-d/gozxing"
	"math"
	"sort"
)

// Limits of the denoised read of blurred 2D symbols.
const (
	// matrixBoxGap is the widest gap (working-plane cells) between two
	// unread 2D regions that matrixBoxes joins into one box: a blurred or
	// faint symbol is located in pieces, none of which holds all three
	// finder patterns.
	matrixBoxGap = 2
	// matrixBoxGrow is how much a box's side grows, beyond a margin of
	// matrixBoxGap cells, so that the symbol's edges the pieces left out
	// fall inside the window.
	matrixBoxGrow = 1.8
	// matrixBoxMax is the largest side (image pixels) of a square read:
	// larger ones take in whole labels or backgrounds.
	matrixBoxMax = 1300
	// maxMatrixCoherence is the most a square's gradients may share one
	// direction (pooled structure tensor, see coherence) for it to be
	// read: a QR code or Data Matrix has edges along both its axes
	// (0.05–0.2 on the tuning photos, 0.42 for a symbol with bars beside
	// it), two stacked blurred Code 128 that the localiser saw as 2D
	// texture 0.5–0.9.
	maxMatrixCoherence = 0.45
	// maxMatrixBoxes bounds how many squares, least coherent first, a
	// scan reads so: a busy photo has dozens of unread 2D regions.
	maxMatrixBoxes = 6
	// maxHalved bounds the squares and regions halvedMatrices reads (in
	// that order): each costs 50–80 ms, and a busy 12 MP photo has half a
	// dozen.
	maxHalved = 3
)

// denoiseVariants are the (smoothing, threshold) radii, in window pixels,
// readDenoised binarizes a window with: the window smoothed by two passes
// of a box of the first radius (none for 0), then thresholded against the
// mean of the square of the second radius. Modules of 3–6 px blurred over
// about half their width keep their centres on the right side of the
// mean of their neighbours, while the sensor noise and JPEG blocks that
// break the finder patterns' runs under gozxing's own binarizers (8 px
// blocks, no smoothing) are averaged away; on the tuning photos each
// variant reads symbols the others miss.
var denoiseVariants = [][2]int{{1, 6}, {0, 6}, {1, 4}}

// matrixBox is a square of the image (centre and side, image pixels) to
// read a 2D symbol in.
type matrixBox struct {
	cx, cy, side float64
	coherence    float64 // of its gradients (see matrixBoxes)
}

// matrixBoxes returns squares around the 2D regions of the fast path and
// of later stages that no 2D code covers: the unions of regions less than
// matrixBoxGap cells apart and each region's own square (a small symbol
// beside bars a union takes in), each once, grown by matrixBoxGrow. Squares
// over matrixBoxMax across or whose gradients share one direction more
// than maxMatrixCoherence (bars) are left out; the rest are returned least
// coherent first, at most maxMatrixBoxes.
func (e *escalation) matrixBoxes() []matrixBox {
	type box struct{ x0, y0, x1, y1 float64 }
	fs := float64(e.f)
	gap := matrixBoxGap * cellSize * fs
	within := func(a, b box) bool {
		return a.x0 >= b.x0-cellSize*fs && a.y0 >= b.y0-cellSize*fs && a.x1 <= b.x1+cellSize*fs && a.y1 <= b.y1+cellSize*fs
	}
	var singles []box
	for _, r := range append(append([]region(nil), e.regions...), e.matrices...) {
		cx, cy := e.centre(r)
		hw, hh := r.lenU*fs/2, r.lenV*fs/2
		b := box{cx - hw, cy - hh, cx + hw, cy + hh}
		if r.bars || 2*math.Max(hw, hh) > maxPyramidSide || e.ses.covers(cx, cy, true) {
			continue
		}
		dup := false
		for _, o := range singles {
			dup = dup || within(b, o) && within(o, b)
		}
		if !dup {
			singles = append(singles, b)
		}
	}
	joined := append([]box(nil), singles...)
	members := make([]int, len(joined))
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(joined) && !merged; i++ {
			for j := i + 1; j < len(joined); j++ {
				a, b := joined[i], joined[j]
				if a.x0 > b.x1+gap || b.x0 > a.x1+gap || a.y0 > b.y1+gap || b.y0 > a.y1+gap {
					continue
				}
				joined[i] = box{math.Min(a.x0, b.x0), math.Min(a.y0, b.y0), math.Max(a.x1, b.x1), math.Max(a.y1, b.y1)}
				members[i] += members[j] + 1
				joined = append(joined[:j], joined[j+1:]...)
				members = append(members[:j], members[j+1:]...)
				merged = true
				break
			}
		}
	}
	var all []box
	for i, b := range joined {
		if members[i] > 0 && math.Max(b.x1-b.x0, b.y1-b.y0) <= maxPyramidSide {
			all = append(all, b)
		}
	}
	for _, b := range singles {
		in := false
		for _, o := range all {
			in = in || within(b, o) && within(o, b)
		}
		if !in {
			all = append(all, b)
		}
	}
	coherence := func(b box) float64 {
		t, _ := softTensor(e.full, e.f, int(b.x0/fs), int(b.y0/fs), int(b.x1/fs), int(b.y1/fs))
		return t.coherence()
	}
	var out []matrixBox
	for _, b := range all {
		side := math.Max(b.x1-b.x0, b.y1-b.y0)*matrixBoxGrow + gap
		if c := coherence(b); side <= matrixBoxMax && c <= maxMatrixCoherence {
			out = append(out, matrixBox{(b.x0 + b.x1) / 2, (b.y0 + b.y1) / 2, side, c})
		}
	}
	// Most like a symbol first.
	sort.SliceStable(out, func(i, j int) bool { return out[i].coherence < out[j].coherence })
	if len(out) > maxMatrixBoxes {
		out = out[:maxMatrixBoxes]
	}
	return out
}

// denoisedMatrices reads the squares of matrixBoxes with readDenoised
// while no 2D code covers their centre.
func (e *escalation) denoisedMatrices(ctx context.Context) int {
	tried := 0
	for _, b := range e.matrixBoxes() {
		if ctx.Err() != nil {
			break
		}
		if e.ses.covers(b.cx, b.cy, true) {
			continue
		}
		tried++
		e.ses.readDenoised(ctx, e.full, b.cx, b.cy, b.side, 1)
	}
	return tried
}

// halvedMatrices reads, at half resolution, the squares of matrixBoxes
// and the regions of largeMatrices while no 2D code covers their
// centre: a symbol of modules over about eight pixels blurred over half
// a module has finder patterns whose cores the denoised thresholds at
// full resolution hollow out, and noise that halving averages away.
func (e *escalation) halvedMatrices(ctx context.Context) int {
	tried := 0
	for _, b := range e.matrixBoxes() {
		if ctx.Err() != nil || tried == maxHalved {
			break
		}
		if e.ses.covers(b.cx, b.cy, true) {
			continue
		}
		tried++
		e.ses.readDenoised(ctx, e.full, b.cx, b.cy, b.side, 2)
	}
	for _, r := range e.largeMatrices() {
		cx, cy := e.centre(r)
		if ctx.Err() != nil || tried == maxHalved {
			break
		}
		if e.ses.covers(cx, cy, true) {
			continue
		}
		tried++
		e.ses.readDenoised(ctx, e.full, cx, cy, math.Max(r.lenU, r.lenV)*float64(e.f)*1.1, 2)
	}
	return tried
}

// maxGridSkew is the angle (radians) from the window's axes beyond which
// readDenoised turns its window to a symbol's module grid.
const maxGridSkew = 3 * math.Pi / 180

// gridSmooth is the radius (pixels) of the two box passes gridAngle
// smooths a window with before it measures gradients. JPEG's 8 px blocks
// leave faint edges along the image's axes all over a photo, and sensor
// noise strong edges in every direction; on a faint symbol (under glare,
// on a dim label) they outweigh its module edges, and the window stays
// square to the image: a QR code turned 28° under glare measured 0.3°.
// Smoothed over about two pixels, both fade, and the edges of modules
// of three pixels and more remain.
const gridSmooth = 2

// gridAngle returns the angle, in (−π/4, π/4], of the edges of q that
// meet at right angles (a 2D symbol's module grid): gradient directions
// taken four times over, so that the four sides of a module agree,
// averaged with the square of their strength, on q smoothed (gridSmooth).
func gridAngle(q plane) float64 {
	q = q.boxBlurred(gridSmooth).boxBlurred(gridSmooth)
	var re, im float64
	for y := 1; y+1 < q.h; y += 2 {
		r0, r1, r2 := q.row(y-1), q.row(y), q.row(y+1)
		for x := 1; x+1 < q.w; x += 2 {
			gx := float64(r1[x+1]) - float64(r1[x-1])
			gy := float64(r2[x]) - float64(r0[x])
			m2 := gx*gx + gy*gy
			if m2 == 0 {
				continue
			}
			// (gx + i·gy)⁴ / |g|²: direction ×4, weight |g|².
			a, b := gx*gx-gy*gy, 2*gx*gy
			re += (a*a - b*b) / m2
			im += 2 * a * b / m2
		}
	}
	return math.Atan2(im, re) / 4
}

// largeMatrices returns the 2D regions too large for a square of
// matrixBoxes but at most twice maxPyramidSide across: a whole label
// located as one region, its symbol blurred.
func (e *escalation) largeMatrices() []region {
	var out []region
	fs := float64(e.f)
	for _, r := range append(append(append([]region(nil), e.regions...), e.matrices...), e.large...) {
		side := math.Max(r.lenU, r.lenV) * fs
		if !r.bars && side*matrixBoxGrow > matrixBoxMax && side <= 2*maxPyramidSide {
			out = append(out, r)
		}
	}
	return out
}

// readDenoised reads a 2D symbol blurred over about half a module in the
// square of the given side around (cx, cy), at each of factors (1: full
// resolution, 2: halved by a box filter, which averages noise and brings
// modules of 8 px and more to the sizes the thresholds suit): the window
// (at most rescuePixels) is contrast stretched and binarized each way of
// denoiseVariants (halved, the first way only), and each bitmap read by
// every 2D reader; the QR grid sampler takes the modules from the
// smoothed window (qrRead's grey). Then QR finder patterns are looked for
// by their rings (qrReadBlurred) in the window turned square to the
// symbol's modules (gridAngle). It returns how many codes were new.
func (ses *session) readDenoised(ctx context.Context, full plane, cx, cy, side float64, factors ...int) int {
	step, w, h := window(1, side, side, rescuePixels)
	if w < 21 || h < 21 {
		return 0
	}
	q0, m0 := full.rotated(cx, cy, 0, step, w, h)
	// The window squared to the symbol's modules, made when first used.
	var sq0 plane
	var sm0 affine
	squared := func() (plane, affine) {
		if sq0.w == 0 {
			sq0, sm0 = q0, m0
			if a := gridAngle(q0); math.Abs(a) > maxGridSkew {
				sq0, sm0 = full.rotated(cx, cy, a, step, w, h)
			}
		}
		return sq0, sm0
	}
	// halve(q, m)(f) is q shrunk by f with its map to the image.
	halve := func(q plane, m affine) func(f int) (plane, affine) {
		return func(f int) (plane, affine) {
			if f == 1 {
				return q, m
			}
			return q.downscaled(f), scaleOffset(float64(f), float64(f-1)/2, float64(f-1)/2).then(m)
		}
	}
	// rings reads a QR symbol whose finder patterns blurred past their
	// runs, found by their rings in the window squared to the modules.
	rings := func(f int) int {
		if ses.qr == nil || ctx.Err() != nil {
			return 0
		}
		g, mg := halve(squared())(f)
		g = g.stretched().boxBlurred(1).boxBlurred(1)
		return ses.readBlurredQR(ctx, g.thresholdLocal(6, 0), g, mg)
	}
	for _, f := range factors {
		if f > 1 && (w/f < 100 || h/f < 100) {
			break
		}
		if f > 1 {
			// Halved, the rings first: they read most symbols there.
			if n := rings(f); n > 0 {
				return n
			}
		}
		q, mq := halve(q0, m0)(f)
		q = q.stretched()
		smooth := map[int]plane{0: q}
		for vi, v := range denoiseVariants {
			if ctx.Err() != nil || f > 1 && vi > 0 {
				// Halved, the first variant reads what the others
				// would on the tuning photos, at 20 ms a window each.
				break
			}
			s, ok := smooth[v[0]]
			if !ok {
				s = q.boxBlurred(v[0]).boxBlurred(v[0])
				smooth[v[0]] = s
			}
			p := s.thresholdLocal(v[1], 0)
			if n, _ := ses.readBitmap(p, globalOf(p), mq, &s); n > 0 {
				return n
			}
		}
		if f == 1 {
			if n := rings(f); n > 0 {
				return n
			}
		}
	}
	return 0
}

// readBlurredQR reads a QR symbol in the grey window g (square to its
// modules) with qrReadBlurred; p is g binarized and m maps both to the
// image. It returns how many codes were new.
func (ses *session) readBlurredQR(ctx context.Context, p, g plane, m affine) int {
	bmp, err := gozxing.NewBinaryBitmap(globalOf(p))
	if err != nil {
		return 0
	}
	bm, err := bmp.GetBlackMatrix()
	if err != nil {
		return 0
	}
	var r *gozxing.Result
	_ = safely(func() (err error) { r, err = qrReadBlurred(ctx, bm, ses.qrDec, ses.hard, &g); return })
	if r != nil && ses.add(r, mapPoints(r.GetResultPoints(), m), 1) {
		return 1
	}
	return 0
}
