package scan

import (
	"context"
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Limits of the blur-tolerant search for QR finder patterns.
const (
	// bfMinModule and bfMaxModule bound the module sizes (window pixels)
	// searched, in steps of bfScaleStep.
	bfMinModule = 2.5
	bfMaxModule = 10
	bfScaleStep = 1.2
	// bfMinCorr is the least correlation of a window's greys with a
	// finder pattern's rings for a candidate, and bfMinSpread the least
	// standard deviation (grey levels) of the pattern's square: flat
	// paper correlates by chance.
	bfMinCorr   = 0.3
	bfMinSpread = 6.0
	// bfCands is how many of the best candidates are combined into
	// triples, and bfTriples how many triples are read.
	bfCands   = 10
	bfTriples = 2
	// bfMaxPixels bounds the window the search runs on.
	bfMaxPixels = 500_000
)

// finderCand is a place in a window where the greys look like a QR
// finder pattern of modules ms pixels.
type finderCand struct {
	p     pt
	ms    float64
	score float64
}

// blurFinders finds QR finder patterns in a grey window whose module
// grid is square to its axes (see gridAngle) by their rings, not by runs
// of a binarized row: the greys of the square of 9×9 modules around each
// place are correlated with the pattern's dark core (3×3), light ring,
// dark ring and light separator, at module sizes from bfMinModule to
// bfMaxModule. Blur over half a module merges the separator with the
// data and thins the core, which breaks the 1:1:3:1:1 runs gozxing
// looks for, while the rings' mean levels still alternate. It returns
// the best candidates, at most bfCands, each a local maximum.
func blurFinders(g plane) []finderCand {
	if int64(g.w)*int64(g.h) > bfMaxPixels || g.w < 30 || g.h < 30 {
		return nil
	}
	W := g.w + 1
	sum := make([]float64, W*(g.h+1))
	sq := make([]float64, W*(g.h+1))
	for y := 0; y < g.h; y++ {
		row := g.row(y)
		var rs, rq float64
		for x, v := range row {
			f := float64(v)
			rs += f
			rq += f * f
			sum[(y+1)*W+x+1] = sum[y*W+x+1] + rs
			sq[(y+1)*W+x+1] = sq[y*W+x+1] + rq
		}
	}
	box := func(t []float64, x, y, h int) float64 {
		x0, y0, x1, y1 := x-h, y-h, x+h+1, y+h+1
		return t[y1*W+x1] - t[y0*W+x1] - t[y1*W+x0] + t[y0*W+x0]
	}
	// at is the correlation at pixel (x, y) for modules of m pixels (−2
	// where the pattern's square leaves the window or is flat).
	at := func(x, y int, m float64) float64 {
		h1 := max(1, int(math.Round(1.5*m-0.5)))
		h2 := max(h1+1, int(math.Round(2.5*m-0.5)))
		h3 := max(h2+1, int(math.Round(3.5*m-0.5)))
		h4 := max(h3+1, int(math.Round(4.5*m-0.5)))
		if x < h4 || y < h4 || x+h4 >= g.w || y+h4 >= g.h {
			return -2
		}
		a := func(h int) float64 { return float64((2*h + 1) * (2*h + 1)) }
		N := a(h4)
		nt := a(h2) - a(h1) + a(h4) - a(h3)
		s1, s2, s3, s4 := box(sum, x, y, h1), box(sum, x, y, h2), box(sum, x, y, h3), box(sum, x, y, h4)
		varG := box(sq, x, y, h4) - s4*s4/N
		if varG < bfMinSpread*bfMinSpread*N {
			return -2
		}
		return ((s2 - s1) + (s4 - s3) - s4*nt/N) / math.Sqrt(varG*(nt-nt*nt/N))
	}
	var cands []finderCand
	for m := bfMinModule; m <= bfMaxModule; m *= bfScaleStep {
		h1 := max(1, int(math.Round(1.5*m-0.5)))
		h2 := max(h1+1, int(math.Round(2.5*m-0.5)))
		h3 := max(h2+1, int(math.Round(3.5*m-0.5)))
		h4 := max(h3+1, int(math.Round(4.5*m-0.5)))
		a := func(h int) float64 { return float64((2*h + 1) * (2*h + 1)) }
		N := a(h4)
		nt := a(h2) - a(h1) + a(h4) - a(h3) // light rings
		varT := nt - nt*nt/N
		step := max(1, int(m/3))
		gw := (g.w - 2*h4 + step - 1) / step
		gh := (g.h - 2*h4 + step - 1) / step
		if gw < 3 || gh < 3 {
			break
		}
		corr := make([]float64, gw*gh)
		for j := 0; j < gh; j++ {
			y := h4 + j*step
			for i := 0; i < gw; i++ {
				x := h4 + i*step
				s1, s2, s3, s4 := box(sum, x, y, h1), box(sum, x, y, h2), box(sum, x, y, h3), box(sum, x, y, h4)
				varG := box(sq, x, y, h4) - s4*s4/N
				if varG < bfMinSpread*bfMinSpread*N {
					continue
				}
				cov := (s2 - s1) + (s4 - s3) - s4*nt/N
				corr[j*gw+i] = cov / math.Sqrt(varG*varT)
			}
		}
		for j := 1; j+1 < gh; j++ {
			for i := 1; i+1 < gw; i++ {
				c := corr[j*gw+i]
				if c < bfMinCorr {
					continue
				}
				peak := true
				for dj := -1; dj <= 1 && peak; dj++ {
					for di := -1; di <= 1; di++ {
						if (di != 0 || dj != 0) && corr[(j+dj)*gw+i+di] > c {
							peak = false
							break
						}
					}
				}
				if peak {
					cands = append(cands, finderCand{pt{float64(h4+i*step) + 0.5, float64(h4+j*step) + 0.5}, m, c})
				}
			}
		}
	}
	sort.Slice(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	// One candidate per pattern: the best of those within two modules.
	var out []finderCand
	for _, c := range cands {
		dup := false
		for _, o := range out {
			if dist(c.p, o.p) < 2*math.Max(c.ms, o.ms) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, c)
			if len(out) == bfCands {
				break
			}
		}
	}
	// To the pixel, then beyond: the search went in steps of a third
	// of a module, and a grid through centres a sixth of a module off
	// misplaces the far modules by more than blur lets pass.
	for n := range out {
		c := &out[n]
		x, y := int(c.p.x), int(c.p.y)
		best := at(x, y, c.ms)
		for moved, k := true, 0; moved && k < 8; k++ {
			moved = false
			for _, d := range [8][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {1, -1}, {-1, 1}, {1, 1}} {
				if v := at(x+d[0], y+d[1], c.ms); v > best {
					best, x, y, moved = v, x+d[0], y+d[1], true
				}
			}
		}
		vertex := func(lo, mid, hi float64) float64 {
			den := lo - 2*mid + hi
			if lo < -1 || hi < -1 || den >= 0 {
				return 0
			}
			return math.Max(-0.5, math.Min(0.5, (lo-hi)/(2*den)))
		}
		dx := vertex(at(x-1, y, c.ms), best, at(x+1, y, c.ms))
		dy := vertex(at(x, y-1, c.ms), best, at(x, y+1, c.ms))
		c.p, c.score = pt{float64(x) + 0.5 + dx, float64(y) + 0.5 + dy}, best
	}
	return out
}

// finderTriples returns the triples of candidates placed as a QR
// symbol's three finder patterns (two sides of about equal length at
// about a right angle, module sizes alike, at least 14 modules apart),
// as top-left, top-right, bottom-left corners with their mean module
// size, best scoring first, at most bfTriples.
func finderTriples(cs []finderCand) (out [][3]pt, ms []float64) {
	type triple struct {
		c     [3]pt
		ms    float64
		score float64
	}
	var ts []triple
	for i := 0; i < len(cs); i++ {
		for j := i + 1; j < len(cs); j++ {
			for k := j + 1; k < len(cs); k++ {
				p := [3]finderCand{cs[i], cs[j], cs[k]}
				lo, hi := p[0].ms, p[0].ms
				for _, c := range p[1:] {
					lo, hi = math.Min(lo, c.ms), math.Max(hi, c.ms)
				}
				if hi > 1.5*lo {
					continue
				}
				m := (p[0].ms + p[1].ms + p[2].ms) / 3
				// The corner opposite the longest side is the top-left.
				d := [3]float64{dist(p[1].p, p[2].p), dist(p[0].p, p[2].p), dist(p[0].p, p[1].p)}
				tl := 0
				for n := 1; n < 3; n++ {
					if d[n] > d[tl] {
						tl = n
					}
				}
				b, a, c := p[tl].p, p[(tl+1)%3].p, p[(tl+2)%3].p
				la, lc := dist(a, b), dist(c, b)
				if la < 14*m || lc < 14*m || la > 1.3*lc || lc > 1.3*la {
					continue
				}
				cos := ((a.x-b.x)*(c.x-b.x) + (a.y-b.y)*(c.y-b.y)) / (la * lc)
				if math.Abs(cos) > 0.35 {
					continue
				}
				// gozxing's order: with the top-left at b, a turn from
				// the top-right to the bottom-left is clockwise.
				if (c.x-b.x)*(a.y-b.y)-(c.y-b.y)*(a.x-b.x) < 0 {
					a, c = c, a
				}
				// A symbol's finders lie at right angles, at equal distances, with
				// modules of one size; perspective bends each a little.
				score := p[0].score + p[1].score + p[2].score - 2*math.Abs(cos) - math.Abs(math.Log(la/lc)) - math.Log(hi/lo)
				ts = append(ts, triple{[3]pt{b, c, a}, m, score})
			}
		}
	}
	sort.Slice(ts, func(a, b int) bool { return ts[a].score > ts[b].score })
	for n, t := range ts {
		if n == bfTriples {
			break
		}
		out, ms = append(out, t.c), append(ms, t.ms)
	}
	return out, ms
}

// qrReadBlurred reads a QR symbol in the grey window g, square to its
// module grid, whose finder patterns blurFinders finds; img is g
// binarized (for the alignment patterns). It stops when ctx ends.
func qrReadBlurred(ctx context.Context, img *gozxing.BitMatrix, dec *qrdec.Decoder, hints map[gozxing.DecodeHintType]any, g *plane) (*gozxing.Result, error) {
	corners, ms := finderTriples(blurFinders(*g))
	var lastErr error = gozxing.NewNotFoundException("no finder patterns")
	for i, c := range corners {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		dim := qrEstDim(c, ms[i])
		if dim > eqMaxDim+4 {
			// Finders that far apart are texture, not one symbol's.
			continue
		}
		res, err := qrReadCorners(img, dec, hints, c, ms[i], qrDims(dim), g)
		if err == nil {
			return res, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// qrAlignCorr is the least correlation of the greys at an alignment
// pattern's 25 module centres with its template for matchAlignmentGrey.
const qrAlignCorr = 0.45

// matchAlignmentGrey is matchAlignment on the grey plane g: the greys at
// the 25 module centres (bilinear) are correlated with the pattern's
// template, so a pattern whose rings blur into mid-greys is still found
// by the order of its levels.
func matchAlignmentGrey(g *plane, h homography, m pt) (pt, bool) {
	var tmpl [25]float64
	var tm float64
	for j := -2; j <= 2; j++ {
		for i := -2; i <= 2; i++ {
			if max(abs(i), abs(j)) == 1 {
				tmpl[(j+2)*5+i+2] = 1 // light ring
			}
			tm += tmpl[(j+2)*5+i+2]
		}
	}
	tm /= 25
	var tv float64
	for _, t := range tmpl {
		tv += (t - tm) * (t - tm)
	}
	best, bx, by := -1.0, 0.0, 0.0
	const q = qrMatchSteps
	var v [25]float64
	for sy := -qrMatchSearch * q; sy <= qrMatchSearch*q; sy++ {
		for sx := -qrMatchSearch * q; sx <= qrMatchSearch*q; sx++ {
			dx, dy := float64(sx)/q, float64(sy)/q
			var mean float64
			for j := -2; j <= 2; j++ {
				for i := -2; i <= 2; i++ {
					p := h.apply(pt{m.x + dx + float64(i), m.y + dy + float64(j)})
					v[(j+2)*5+i+2] = g.bilinear(p.x, p.y)
					mean += v[(j+2)*5+i+2]
				}
			}
			mean /= 25
			var cov, vv float64
			for k := range v {
				cov += (v[k] - mean) * (tmpl[k] - tm)
				vv += (v[k] - mean) * (v[k] - mean)
			}
			if vv == 0 {
				continue
			}
			c := cov / math.Sqrt(vv*tv)
			if c > best || c == best && math.Hypot(dx, dy) < math.Hypot(bx, by) {
				best, bx, by = c, dx, dy
			}
		}
	}
	if best < qrAlignCorr {
		return pt{}, false
	}
	return h.apply(pt{m.x + bx, m.y + by}), true
}

// bilinear returns the grey of p at (x, y) (pixel centres at +0.5),
// interpolated, clamped to the plane.
func (p plane) bilinear(x, y float64) float64 {
	x, y = x-0.5, y-0.5
	x = math.Max(0, math.Min(float64(p.w-1), x))
	y = math.Max(0, math.Min(float64(p.h-1), y))
	x0, y0 := int(x), int(y)
	x1, y1 := min(p.w-1, x0+1), min(p.h-1, y0+1)
	fx, fy := x-float64(x0), y-float64(y0)
	a, b := float64(p.pix[y0*p.stride+x0]), float64(p.pix[y0*p.stride+x1])
	c, d := float64(p.pix[y1*p.stride+x0]), float64(p.pix[y1*p.stride+x1])
	return (a*(1-fx)+b*fx)*(1-fy) + (c*(1-fx)+d*fx)*fy
}
