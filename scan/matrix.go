package scan

import (
	"github.com/makiuchi-d/gozxing"
)

// Limits of the harder reads of a 2D region.
const (
	// rescuePixels bounds each window a 2D region is resampled into for
	// the harder reads.
	rescuePixels = 1_500_000
	// sauvolaK and sauvolaR are the constants of the Sauvola threshold
	// T = m·(1 + k·(s/R − 1)): where the local spread s is small the
	// threshold falls below the mean, so flat paper stays white.
	sauvolaK = 0.2
	sauvolaR = 128
	// stretchTail is the fraction of darkest and of brightest pixels a
	// contrast stretch saturates.
	stretchTail = 0.01
	// lowSpread is the level spread (between the stretchTail quantiles)
	// under which a whole photo counts as low in contrast and gets the
	// harder 2D reads too, though no 2D region was located in it: the
	// localiser's edge-energy threshold misses faint symbols.
	lowSpread = 128
)

// rescueMatrix reads a located 2D region that the plain reads missed:
// the region is resampled (at twice the resolution too when small), its
// contrast stretched, and then binarized three ways (hybrid, Sauvola,
// global histogram); each bitmap is read by gozxing's QR and Data Matrix
// readers and by posid's own grid samplers, which follow perspective and
// curvature through the alignment patterns (QR) and the symbol's edges
// (Data Matrix). It returns how many codes were new.
func (ses *session) rescueMatrix(full plane, cx, cy, side float64, inv bool) int {
	steps := []float64{1}
	if side < smallCrop {
		steps = append(steps, 0.5)
	}
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
			if n := ses.readBitmap(q, b(q), mq); n > 0 {
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
		if n := ses.readBitmap(q, b(q), m); n > 0 {
			return n
		}
	}
	return 0
}

// readBitmap runs the 2D readers on one binarized window; m maps the
// window to the image.
func (ses *session) readBitmap(q plane, b gozxing.Binarizer, m affine) int {
	bmp, err := gozxing.NewBinaryBitmap(b)
	if err != nil {
		return 0
	}
	n := 0
	try := func(r *gozxing.Result) {
		if r != nil && ses.add(r, mapPoints(r.GetResultPoints(), m), 1) {
			n++
		}
	}
	if ses.qr != nil {
		if bm, err := bmp.GetBlackMatrix(); err == nil {
			r, _ := qrRead(bm, ses.qrDec, ses.hard)
			try(r)
		}
	}
	if ses.dm != nil {
		var r *gozxing.Result
		_ = safely(func() (err error) { r, err = ses.dm.Decode(bmp, ses.hard); return })
		if r == nil {
			if bm, err := bmp.GetBlackMatrix(); err == nil {
				r, _ = dmRead(bm, ses.dmDec)
			}
		}
		try(r)
	}
	return n
}

// hybridOf is gozxing's hybrid binarizer over q.
func hybridOf(q plane) gozxing.Binarizer { return gozxing.NewHybridBinarizer(lumSource{q}) }

// globalOf is gozxing's global histogram binarizer over q.
func globalOf(q plane) gozxing.Binarizer { return gozxing.NewGlobalHistgramBinarizer(lumSource{q}) }

// sauvolaOf binarizes q with a Sauvola threshold over windows of about an
// eighth of its side, which follows uneven light across a symbol.
func sauvolaOf(q plane) gozxing.Binarizer {
	return &fixedBinarizer{src: lumSource{q}, bits: sauvola(q, max(15, min(q.w, q.h)/8))}
}

// sauvola thresholds p over (2r+1)² windows, from integral images of the
// pixels and of their squares. The test v < m·(1 + k·(s/R − 1)) is done
// without a square root: v − m·(1−k) < m·k·s/R.
func sauvola(p plane, r int) *gozxing.BitMatrix {
	w, h := p.w, p.h
	sum := make([]uint32, (w+1)*(h+1))
	sq := make([]uint64, (w+1)*(h+1))
	for y := 0; y < h; y++ {
		var rs uint32
		var rq uint64
		row := p.row(y)
		o := (y+1)*(w+1) + 1
		for x, v := range row {
			rs += uint32(v)
			rq += uint64(v) * uint64(v)
			sum[o+x] = sum[o+x-(w+1)] + rs
			sq[o+x] = sq[o+x-(w+1)] + rq
		}
	}
	bits, _ := gozxing.NewBitMatrix(w, h)
	const kr = sauvolaK / sauvolaR
	for y := 0; y < h; y++ {
		y0, y1 := max(0, y-r), min(h, y+r+1)
		row := p.row(y)
		for x, pv := range row {
			x0, x1 := max(0, x-r), min(w, x+r+1)
			a, b, c, d := y0*(w+1)+x0, y0*(w+1)+x1, y1*(w+1)+x0, y1*(w+1)+x1
			n := float64((x1 - x0) * (y1 - y0))
			m := float64(sum[d]-sum[b]-sum[c]+sum[a]) / n
			lhs := float64(pv) - m*(1-sauvolaK)
			if lhs < 0 {
				bits.Set(x, y)
				continue
			}
			v := float64(sq[d]-sq[b]-sq[c]+sq[a])/n - m*m
			if rhs := m * kr; lhs*lhs < rhs*rhs*v {
				bits.Set(x, y)
			}
		}
	}
	return bits
}

// fixedBinarizer is a binarizer whose bitmap was computed beforehand.
type fixedBinarizer struct {
	src  lumSource
	bits *gozxing.BitMatrix
}

// GetLuminanceSource returns the source.
func (b *fixedBinarizer) GetLuminanceSource() gozxing.LuminanceSource { return b.src }

// GetBlackRow returns row y of the bitmap.
func (b *fixedBinarizer) GetBlackRow(y int, row *gozxing.BitArray) (*gozxing.BitArray, error) {
	return b.bits.GetRow(y, row), nil
}

// GetBlackMatrix returns the bitmap.
func (b *fixedBinarizer) GetBlackMatrix() (*gozxing.BitMatrix, error) { return b.bits, nil }

// CreateBinarizer returns a hybrid binarizer over another source.
func (b *fixedBinarizer) CreateBinarizer(src gozxing.LuminanceSource) gozxing.Binarizer {
	return gozxing.NewHybridBinarizer(src)
}

// GetWidth returns the width.
func (b *fixedBinarizer) GetWidth() int { return b.src.GetWidth() }

// GetHeight returns the height.
func (b *fixedBinarizer) GetHeight() int { return b.src.GetHeight() }

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
