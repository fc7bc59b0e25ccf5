package scan

import (
	"github.com/makiuchi-d/gozxing"
)

// Limits of the harder reads of a 2D region.
const (
	// rescuePixels bounds each window a 2D region is resampled into for
	// the harder reads.
	rescuePixels = 1_500_000
	// stretchTail is the fraction of darkest and of brightest pixels a
	// contrast stretch saturates.
	stretchTail = 0.01
	// lowSpread is the level spread (between the stretchTail quantiles)
	// under which a whole photo counts as low in contrast and gets the
	// harder 2D reads too, though no 2D region was located in it: the
	// localiser's edge-energy threshold misses faint symbols.
	lowSpread = 128
	// sharpenRadius and sharpenAmount are the unsharp mask of
	// readSharpened: two box passes of radius 3 (σ ≈ 2.8 px) and the
	// difference added twice, which on the tuning photos read QR codes
	// and Data Matrix symbols of 2.5–4.5 px modules under blur σ of
	// 1.9–2.6 px that no plain binarization did.
	sharpenRadius = 3
	sharpenAmount = 2
)

// rescueMatrix reads a located 2D region that the plain reads missed:
// the region is resampled (at twice the resolution too when small), its
// contrast stretched, and then binarized three ways (hybrid, Sauvola,
// global histogram); each bitmap is read by gozxing's QR and Data Matrix
// readers and by posid's own grid samplers, which follow perspective and
// curvature through the alignment patterns (QR) and the symbol's edges
// (Data Matrix). Only regions where the plain reads saw a symbol they
// could not decode, and no 2D code found so far reaches, are read so;
// a region in whose first two bitmaps no reader finds a symbol to sample
// is given up. The cost so falls on symbols that could not be decoded,
// not on text and texture. It returns how many codes were new.
func (ses *session) rescueMatrix(full plane, cx, cy, side float64, inv bool) int {
	if !ses.symbol || ses.decoded || ses.near2D(cx, cy, side) {
		return 0
	}
	steps := []float64{1}
	if side < smallCrop {
		steps = append(steps, 0.5)
	}
	tried, seen := 0, false
	for _, step := range steps {
		step, w, h := window(step, side, side, rescuePixels)
		if w < 21 || h < 21 {
			continue
		}
		q, mq := full.rotated(cx, cy, 0, step, w, h)
		if inv {
			q = q.inverted()
		}
		q = q.stretched()
		for _, b := range []func(plane) gozxing.Binarizer{hybridOf, sauvolaOf, globalOf} {
			n, symbol := ses.readBitmap(q, b(q), mq, nil)
			if n > 0 {
				return n
			}
			tried++
			seen = seen || symbol
			if tried >= 2 && !seen {
				return 0
			}
		}
	}
	return 0
}

// readSharpened reads a 2D region that the plain and rescue reads missed,
// when escalating: the square around it (at most rescuePixels), contrast
// stretched, then with an unsharp mask of radius sharpenRadius and amount
// sharpenAmount, each binarized three ways (hybrid, Sauvola, global
// histogram) and read by every 2D reader. The global threshold reads a
// small symbol on a label over a background of about the paper's grey:
// the local binarizers see the background as dark, and the symbol's
// outline runs into it. Unlike rescueMatrix it does not wait for gozxing's
// detectors to see a symbol: under blur over half a module they see none
// while posid's own grid samplers still read it. It returns how many codes
// were new.
func (ses *session) readSharpened(full plane, cx, cy, side float64) int {
	step, w, h := window(1, side, side, rescuePixels)
	if w < 21 || h < 21 {
		return 0
	}
	q, mq := full.rotated(cx, cy, 0, step, w, h)
	for _, v := range []func() plane{
		q.stretched,
		func() plane { return q.unsharp2D(sharpenRadius, sharpenAmount).stretched() },
	} {
		p := v()
		for _, b := range []func(plane) gozxing.Binarizer{hybridOf, sauvolaOf, globalOf} {
			if n, _ := ses.readBitmap(p, b(p), mq, nil); n > 0 {
				return n
			}
		}
	}
	return 0
}

// rescueFaint reads 2D codes on the whole plane p (m maps it to the
// image) when its contrast is low: stretched, then hybrid and Sauvola
// binarized. Photos of normal contrast are left alone, so the cost falls
// only on faint ones.
func (ses *session) rescueFaint(p plane, m affine) int {
	if lo, hi := p.levels(); hi-lo >= lowSpread || p.w < 21 || p.h < 21 {
		return 0
	}
	q := p.stretched()
	for _, b := range []func(plane) gozxing.Binarizer{hybridOf, sauvolaOf} {
		if n, _ := ses.readBitmap(q, b(q), m, nil); n > 0 {
			return n
		}
	}
	return 0
}

// near2D reports whether a 2D code already found reaches into the square
// of the given side centred on (cx, cy): the symbol the plain reads saw
// there may be that code, cut by the window's edge.
func (ses *session) near2D(cx, cy, side float64) bool {
	for _, c := range ses.codes() {
		if !is2D(c.Format) {
			continue
		}
		x0, y0, x1, y1 := bounds(outline(c))
		if x1 >= cx-side/2 && x0 <= cx+side/2 && y1 >= cy-side/2 && y0 <= cy+side/2 {
			return true
		}
	}
	return false
}

// readBitmap runs the 2D readers on one binarized window; m maps the
// window to the image; grey is qrRead's (nil but for blurred symbols),
// and the plane Data Matrix modules are read from in grey (q when nil). It
// returns how many codes were new, and whether a reader found a symbol to
// sample, decoded or not.
func (ses *session) readBitmap(q plane, b gozxing.Binarizer, m affine, grey *plane) (int, bool) {
	bmp, err := gozxing.NewBinaryBitmap(b)
	if err != nil {
		return 0, false
	}
	bm, err := bmp.GetBlackMatrix()
	if err != nil {
		return 0, false
	}
	n, symbol := 0, false
	// Readers run under safely: a panic on a strange bitmap is a miss.
	guard := func(read func() (*gozxing.Result, error)) (r *gozxing.Result, err error) {
		err = safely(func() (err error) { r, err = read(); return })
		return r, err
	}
	try := func(r *gozxing.Result, err error) {
		if r != nil && ses.add(r, mapPoints(r.GetResultPoints(), m), 1) {
			n++
		}
		if _, notFound := err.(gozxing.NotFoundException); r != nil || err != nil && !notFound {
			symbol = true
		}
	}
	if ses.qr != nil {
		try(guard(func() (*gozxing.Result, error) { return qrRead(bm, ses.qrDec, ses.hard, grey) }))
	}
	if ses.dm != nil {
		r, err := guard(func() (*gozxing.Result, error) { return ses.dm.Decode(bmp, ses.hard) })
		try(r, err)
		if r == nil {
			g := &q
			if grey != nil {
				g = grey
			}
			try(guard(func() (*gozxing.Result, error) { return dmRead(bm, ses.dmDec, g) }))
		}
	}
	return n, symbol
}

// hybridOf is gozxing's hybrid binarizer over q.
func hybridOf(q plane) gozxing.Binarizer { return gozxing.NewHybridBinarizer(lumSource{q}) }

// globalOf is gozxing's global histogram binarizer over q.
func globalOf(q plane) gozxing.Binarizer { return gozxing.NewGlobalHistgramBinarizer(lumSource{q}) }

// sauvolaOf binarizes q with a Sauvola threshold (binarize.go) over
// windows of about an eighth of its side, which follows uneven light
// across a symbol; the global histogram then splits its 0 and 255 exactly.
func sauvolaOf(q plane) gozxing.Binarizer {
	return globalOf(q.thresholdLocal(max(16, min(q.w, q.h)/8), sauvolaK))
}

// levels returns the grey levels below and above which lie the darkest
// and the brightest stretchTail of p's pixels.
func (p plane) levels() (lo, hi int) {
	var hist [256]int
	for y := 0; y < p.h; y++ {
		for _, v := range p.row(y) {
			hist[v]++
		}
	}
	tail := int(float64(p.w*p.h) * stretchTail)
	lo, hi = 0, 255
	for acc := 0; lo < 255 && acc+hist[lo] <= tail; lo++ {
		acc += hist[lo]
	}
	for acc := 0; hi > 0 && acc+hist[hi] <= tail; hi-- {
		acc += hist[hi]
	}
	return lo, hi
}

// stretched returns a copy of p whose levels are stretched so the darkest
// and brightest stretchTail of pixels saturate: low-contrast symbols then
// pass the hybrid binarizer's minimum contrast.
func (p plane) stretched() plane {
	lo, hi := p.levels()
	if hi-lo < 8 {
		return p
	}
	var lut [256]byte
	for i := range lut {
		lut[i] = byte(min(255, max(0, (i-lo)*255/(hi-lo))))
	}
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		src, dst := p.row(y), q.pix[y*q.w:(y+1)*q.w]
		for x, v := range src {
			dst[x] = lut[v]
		}
	}
	return q
}
