package scan

import (
	"errors"
	"math"
	"sync"

	"github.com/makiuchi-d/gozxing"
)

// plane is an 8-bit luminance image: pixel (x, y) is pix[y*stride+x].
// A plane may share its pixels with another one (crops do); planes are
// never written to once built.
type plane struct {
	pix    []byte
	stride int
	w, h   int
}

// newPlane allocates a w×h plane.
func newPlane(w, h int) plane {
	return plane{pix: make([]byte, w*h), stride: w, w: w, h: h}
}

// row returns the pixels of row y.
func (p plane) row(y int) []byte {
	o := y * p.stride
	return p.pix[o : o+p.w]
}

// crop returns the sub-plane [x0,x0+w)×[y0,y0+h), sharing pixels with p.
// The rectangle is clipped to p.
func (p plane) crop(x0, y0, w, h int) plane {
	x0, y0 = max(0, x0), max(0, y0)
	w, h = min(w, p.w-x0), min(h, p.h-y0)
	if w <= 0 || h <= 0 {
		return plane{}
	}
	o := y0*p.stride + x0
	return plane{pix: p.pix[o : o+(h-1)*p.stride+w], stride: p.stride, w: w, h: h}
}

// compact returns p with stride == w, copying only when needed.
func (p plane) compact() plane {
	if p.stride == p.w {
		return plane{pix: p.pix[:p.w*p.h], stride: p.w, w: p.w, h: p.h}
	}
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		copy(q.pix[y*q.w:], p.row(y))
	}
	return q
}

// inverted returns a copy of p with black and white swapped.
func (p plane) inverted() plane {
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		src, dst := p.row(y), q.pix[y*q.w:(y+1)*q.w]
		for x, v := range src {
			dst[x] = 255 - v
		}
	}
	return q
}

// sharpened returns p with an unsharp mask applied along rows (the
// direction across the bars of an upright 1D region).
func (p plane) sharpened() plane {
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		src, dst := p.row(y), q.pix[y*q.w:(y+1)*q.w]
		for x := range src {
			a, b := src[max(0, x-2)], src[min(p.w-1, x+2)]
			v := 2*int(src[x]) - (int(a)+int(b))/2
			dst[x] = byte(min(255, max(0, v)))
		}
	}
	return q
}

// rotatedCCW returns p rotated 90° counter-clockwise: pixel (x, y) of p
// lands at (y, w-1-x).
func (p plane) rotatedCCW() plane {
	q := newPlane(p.h, p.w)
	for y := 0; y < p.h; y++ {
		src := p.row(y)
		for x, v := range src {
			q.pix[(p.w-1-x)*q.stride+y] = v
		}
	}
	return q
}

// downscaled returns p shrunk by the integer factor f with a box filter.
// The two halves of the output are computed in parallel.
func (p plane) downscaled(f int) plane {
	if f <= 1 {
		return p
	}
	w, h := p.w/f, p.h/f
	q := newPlane(w, h)
	var wg sync.WaitGroup
	mid := h / 2
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.downscaleRows(q, f, 0, mid)
	}()
	p.downscaleRows(q, f, mid, h)
	wg.Wait()
	return q
}

// downscaleRows fills output rows [y0, y1) of q.
func (p plane) downscaleRows(q plane, f, y0, y1 int) {
	w := q.w
	acc := make([]uint32, w)
	area := uint32(f * f)
	for y := y0; y < y1; y++ {
		clear(acc)
		for dy := 0; dy < f; dy++ {
			o := (y*f + dy) * p.stride
			src := p.pix[o : o+w*f]
			switch f {
			case 2:
				for x := range acc {
					i := 2 * x
					acc[x] += uint32(src[i]) + uint32(src[i+1])
				}
			case 3:
				for x := range acc {
					i := 3 * x
					acc[x] += uint32(src[i]) + uint32(src[i+1]) + uint32(src[i+2])
				}
			case 4:
				for x := range acc {
					i := 4 * x
					acc[x] += uint32(src[i]) + uint32(src[i+1]) + uint32(src[i+2]) + uint32(src[i+3])
				}
			default:
				for i, v := range src {
					acc[i/f] += uint32(v)
				}
			}
		}
		dst := q.pix[y*w : (y+1)*w]
		for x, s := range acc {
			dst[x] = byte(s / area)
		}
	}
}

// rotated returns the w×h window of p centred on (cx, cy), sampled along axes
// turned by angle radians (bilinear) every step pixels: output pixel (u, v)
// reads p at c + step·R(angle)·(u-w/2, v-h/2). Pixels outside p read as
// white.
func (p plane) rotated(cx, cy, angle, step float64, w, h int) (plane, affine) {
	q := newPlane(w, h)
	cos, sin := step*math.Cos(angle), step*math.Sin(angle)
	hw, hh := float64(w)/2, float64(h)/2
	// Map output coordinates back to p.
	m := affine{a: cos, b: -sin, c: cx - cos*hw + sin*hh, d: sin, e: cos, f: cy - sin*hw - cos*hh}
	// Fixed point, 16 fractional bits, stepping along each output row.
	const one = 1 << 16
	du, dv := int64(cos*one), int64(sin*one)
	maxX, maxY := int64(p.w-1)<<16, int64(p.h-1)<<16
	for v := 0; v < h; v++ {
		x := int64((m.b*float64(v) + m.c) * one)
		y := int64((m.e*float64(v) + m.f) * one)
		dst := q.pix[v*w : (v+1)*w]
		for u := range dst {
			if x < 0 || y < 0 || x >= maxX || y >= maxY {
				dst[u] = 255
			} else {
				xi, yi := int(x>>16), int(y>>16)
				fx, fy := x&(one-1), y&(one-1)
				o := yi*p.stride + xi
				a, b := int64(p.pix[o]), int64(p.pix[o+1])
				c, d := int64(p.pix[o+p.stride]), int64(p.pix[o+p.stride+1])
				top := a*one + (b-a)*fx
				bot := c*one + (d-c)*fx
				dst[u] = byte((top*one + (bot-top)*fy + 1<<31) >> 32)
			}
			x += du
			y += dv
		}
	}
	return q, m
}

// affine maps plane coordinates to image coordinates:
// X = a·x + b·y + c, Y = d·x + e·y + f.
type affine struct{ a, b, c, d, e, f float64 }

// identity is the affine map that changes nothing.
var identity = affine{a: 1, e: 1}

// apply maps one point.
func (m affine) apply(x, y float64) Point {
	return Point{X: m.a*x + m.b*y + m.c, Y: m.d*x + m.e*y + m.f}
}

// then returns the map that applies m first and n second.
func (m affine) then(n affine) affine {
	return affine{
		a: n.a*m.a + n.b*m.d, b: n.a*m.b + n.b*m.e, c: n.a*m.c + n.b*m.f + n.c,
		d: n.d*m.a + n.e*m.d, e: n.d*m.b + n.e*m.e, f: n.d*m.c + n.e*m.f + n.f,
	}
}

// scaleOffset returns the map x → s·x + dx, y → s·y + dy.
func scaleOffset(s, dx, dy float64) affine { return affine{a: s, c: dx, e: s, f: dy} }

// errNoRotate is returned by lumSource for the unsupported 45° rotation.
var errNoRotate = errors.New("scan: 45° rotation not supported")

// lumSource adapts a plane to gozxing.LuminanceSource without copying.
type lumSource struct{ p plane }

// GetRow returns row y.
func (s lumSource) GetRow(y int, row []byte) ([]byte, error) {
	if y < 0 || y >= s.p.h {
		return nil, errors.New("scan: row out of range")
	}
	if len(row) < s.p.w {
		row = make([]byte, s.p.w)
	}
	copy(row, s.p.row(y))
	return row, nil
}

// GetMatrix returns the pixels in row-major order without padding.
func (s lumSource) GetMatrix() []byte { return s.p.compact().pix }

// GetWidth returns the width.
func (s lumSource) GetWidth() int { return s.p.w }

// GetHeight returns the height.
func (s lumSource) GetHeight() int { return s.p.h }

// IsCropSupported reports true.
func (s lumSource) IsCropSupported() bool { return true }

// Crop returns a view of a rectangle of the source.
func (s lumSource) Crop(left, top, width, height int) (gozxing.LuminanceSource, error) {
	return lumSource{s.p.crop(left, top, width, height)}, nil
}

// IsRotateSupported reports true.
func (s lumSource) IsRotateSupported() bool { return true }

// Invert returns the source with black and white swapped.
func (s lumSource) Invert() gozxing.LuminanceSource { return lumSource{s.p.inverted()} }

// RotateCounterClockwise returns the source turned by 90°.
func (s lumSource) RotateCounterClockwise() (gozxing.LuminanceSource, error) {
	return lumSource{s.p.rotatedCCW()}, nil
}

// RotateCounterClockwise45 is not supported.
func (s lumSource) RotateCounterClockwise45() (gozxing.LuminanceSource, error) {
	return nil, errNoRotate
}

// String renders the source as ASCII art (for debugging).
func (s lumSource) String() string { return gozxing.LuminanceSourceString(s) }

// window sizes a rotated window of w×h image pixels sampled every step
// pixels so that it holds at most limit pixels: when it would hold more,
// the step grows. It returns the step and the window's size in samples;
// a size of 0 means there is nothing to sample.
func window(step, w, h float64, limit int64) (float64, int, int) {
	if !(w >= 1 && h >= 1 && step > 0) || math.IsInf(w*h, 0) {
		return step, 0, 0
	}
	if n := (w / step) * (h / step); n > float64(limit) {
		step *= math.Sqrt(n / float64(limit))
	}
	iw, ih := max(1, int(w/step)), max(1, int(h/step))
	for int64(iw)*int64(ih) > limit { // one side was held at 1
		step *= 1.25
		iw, ih = max(1, int(w/step)), max(1, int(h/step))
	}
	return step, iw, ih
}
