package scan

import (
	"math"

	"github.com/makiuchi-d/gozxing"
)

// Region binarizers: ways of turning the luminance of an upright 1D region
// window (bars vertical) into something the row readers threshold well.
// Each returns a new plane of p's size; the binary ones hold only 0 and
// 255, which gozxing's global histogram then splits exactly.

// minEnvelope is the least local contrast (max − min, grey levels) the
// envelope normaliser stretches; flatter stretches read as white.
const minEnvelope = 24

// sauvolaK and sauvolaR are the constants of the Sauvola threshold
// T = m·(1 + k·(s/R − 1)): where the local spread s is small the threshold
// falls below the mean, so flat paper stays white.
const (
	sauvolaK = 0.2
	sauvolaR = 128
)

// rowsAveraged returns p with each pixel the mean of the k rows around it:
// along upright bars this averages noise and JPEG blocks away without
// blurring the bars, like reading many scanlines and combining them.
func (p plane) rowsAveraged(k int) plane {
	q := newPlane(p.w, p.h)
	if p.w == 0 || p.h == 0 {
		return q
	}
	r := max(0, k/2)
	sum := make([]int, p.w)
	n := 0
	add := func(y, sign int) {
		if y < 0 || y >= p.h {
			return
		}
		for x, v := range p.row(y) {
			sum[x] += sign * int(v)
		}
		n += sign
	}
	for y := 0; y < r; y++ {
		add(y, 1)
	}
	for y := 0; y < p.h; y++ {
		add(y+r, 1)
		add(y-r-1, -1)
		dst := q.pix[y*q.w : (y+1)*q.w]
		for x, s := range sum {
			dst[x] = byte((s + n/2) / n)
		}
	}
	return q
}

// envelopeNormalized stretches each row between its local minimum and
// maximum over 2·r+1 pixels: under glare or uneven light the bars stay
// darker than the spaces next to them even where the global level does
// not separate them.
func (p plane) envelopeNormalized(r int) plane {
	q := newPlane(p.w, p.h)
	lo, hi, neg := make([]byte, p.w), make([]byte, p.w), make([]byte, p.w)
	dq := make([]int, p.w)
	for y := 0; y < p.h; y++ {
		src := p.row(y)
		slidingMax(src, r, hi, dq)
		// The minimum is the maximum of the negative.
		for x, v := range src {
			neg[x] = 255 - v
		}
		slidingMax(neg, r, lo, dq)
		dst := q.pix[y*q.w : (y+1)*q.w]
		for x, v := range src {
			l := 255 - int(lo[x])
			d := int(hi[x]) - l
			if d < minEnvelope {
				dst[x] = 255
				continue
			}
			dst[x] = byte((int(v) - l) * 255 / d)
		}
	}
	return q
}

// slidingMax writes to out the maximum of src over the window [x−r, x+r]
// for every x, with a monotonic queue (dq is scratch of len(src)).
func slidingMax(src []byte, r int, out []byte, dq []int) {
	head, tail := 0, 0
	n := len(src)
	next := 0
	for x := 0; x < n; x++ {
		for ; next < n && next <= x+r; next++ {
			v := src[next]
			for tail > head && v >= src[dq[tail-1]] {
				tail--
			}
			dq[tail] = next
			tail++
		}
		for dq[head] < x-r {
			head++
		}
		out[x] = src[dq[head]]
	}
}

// thresholdLocal binarizes p against the mean m and standard deviation s
// of the (2r+1)² box around each pixel: black where v < m·(1 + k·(s/sauvolaR −
// 1)) (Sauvola); k = 0 is a plain local-mean threshold. Boxes with a
// contrast below minEnvelope/4 read as white. Memory is O(width).
func (p plane) thresholdLocal(r int, k float64) plane {
	q := newPlane(p.w, p.h)
	if p.w == 0 || p.h == 0 {
		return q
	}
	col, colSq := make([]int64, p.w), make([]int64, p.w)
	rows := 0
	add := func(y int, sign int64) {
		if y < 0 || y >= p.h {
			return
		}
		for x, v := range p.row(y) {
			col[x] += sign * int64(v)
			colSq[x] += sign * int64(v) * int64(v)
		}
		rows += int(sign)
	}
	for y := 0; y < r; y++ {
		add(y, 1)
	}
	for y := 0; y < p.h; y++ {
		add(y+r, 1)
		add(y-r-1, -1)
		var s, sq int64
		cols := 0
		for x := 0; x < min(r, p.w); x++ {
			s, sq, cols = s+col[x], sq+colSq[x], cols+1
		}
		src, dst := p.row(y), q.pix[y*q.w:(y+1)*q.w]
		for x, v := range src {
			if a := x + r; a < p.w {
				s, sq, cols = s+col[a], sq+colSq[a], cols+1
			}
			if b := x - r - 1; b >= 0 {
				s, sq, cols = s-col[b], sq-colSq[b], cols-1
			}
			dst[x] = 255
			if k == 0 {
				// The plain mean, in integers: v < m and s ≥
				// minEnvelope/4, without a division or a root.
				n := int64(cols * rows)
				if int64(v)*n < s && n*sq-s*s >= minEnvelope*minEnvelope/16*n*n {
					dst[x] = 0
				}
				continue
			}
			n := float64(cols * rows)
			m := float64(s) / n
			sd := math.Sqrt(math.Max(0, float64(sq)/n-m*m))
			if sd >= minEnvelope/4 && float64(v) < m*(1+k*(sd/sauvolaR-1)) {
				dst[x] = 0
			}
		}
	}
	return q
}

// hybridBinarized binarizes p with gozxing's hybrid (block) binarizer, the
// one its 2D readers use; the row readers otherwise see only its global
// histogram.
func (p plane) hybridBinarized() plane {
	q := newPlane(p.w, p.h)
	m, err := gozxing.NewHybridBinarizer(lumSource{p}).GetBlackMatrix()
	if err != nil {
		return p
	}
	for y := 0; y < p.h; y++ {
		dst := q.pix[y*q.w : (y+1)*q.w]
		for x := range dst {
			if m.Get(x, y) {
				dst[x] = 0
			} else {
				dst[x] = 255
			}
		}
	}
	return q
}

// unsharp returns p with an unsharp mask along rows of radius r and
// amount a (1 = add the full difference from the local mean once): soft
// bars regain their edges.
func (p plane) unsharp(r int, a float64) plane {
	q := newPlane(p.w, p.h)
	n := 2*r + 1
	for y := 0; y < p.h; y++ {
		src, dst := p.row(y), q.pix[y*q.w:(y+1)*q.w]
		s := 0
		for k := -r; k <= r; k++ {
			s += int(src[min(p.w-1, max(0, k))])
		}
		for x, v := range src {
			mean := float64(s) / float64(n)
			out := float64(v) + a*(float64(v)-mean)
			dst[x] = byte(math.Max(0, math.Min(255, out)))
			s += int(src[min(p.w-1, x+r+1)]) - int(src[max(0, x-r)])
		}
	}
	return q
}

// unsharp2D returns p with an unsharp mask in both directions: the
// difference from p blurred by two passes of a box of radius r (σ ≈ 0.8·r
// pixels) added a times. Modules of a 2D code blurred over about half
// their width regain their edges.
func (p plane) unsharp2D(r int, a float64) plane {
	b := p.boxBlurred(r).boxBlurred(r)
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		src, soft, dst := p.row(y), b.row(y), q.pix[y*q.w:(y+1)*q.w]
		for x, v := range src {
			out := float64(v) + a*(float64(v)-float64(soft[x]))
			dst[x] = byte(math.Max(0, math.Min(255, out)))
		}
	}
	return q
}

// boxBlurred returns p averaged over squares of side 2·r+1 (edges
// repeated), one pass along rows and one along columns.
func (p plane) boxBlurred(r int) plane {
	n := 2*r + 1
	tmp := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		src, dst := p.row(y), tmp.pix[y*tmp.w:(y+1)*tmp.w]
		s := 0
		for k := -r; k <= r; k++ {
			s += int(src[min(p.w-1, max(0, k))])
		}
		for x := range src {
			dst[x] = byte((s + n/2) / n)
			s += int(src[min(p.w-1, x+r+1)]) - int(src[max(0, x-r)])
		}
	}
	q := newPlane(p.w, p.h)
	col := make([]int, p.w)
	for k := -r; k <= r; k++ {
		for x, v := range tmp.row(min(p.h-1, max(0, k))) {
			col[x] += int(v)
		}
	}
	for y := 0; y < p.h; y++ {
		dst := q.pix[y*q.w : (y+1)*q.w]
		next, prev := tmp.row(min(p.h-1, y+r+1)), tmp.row(max(0, y-r))
		for x := range dst {
			dst[x] = byte((col[x] + n/2) / n)
			col[x] += int(next[x]) - int(prev[x])
		}
	}
	return q
}
