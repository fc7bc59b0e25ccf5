package scan

import (
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	dmdec "github.com/makiuchi-d/gozxing/datamatrix/decoder"
)

// Data Matrix edge detection limits.
const (
	// dmBlocks is about how many blocks span the shorter side of a bitmap
	// when the symbol's outline is first found on a coarse grid.
	dmBlocks = 80
	// dmEdgeSamples is how many scan lines cross each side of the symbol
	// when its edge lines are fitted.
	dmEdgeSamples = 32
	// dmMinBorder is the least share of the symbol's border modules (L
	// and clock track) that must match before a size is decoded.
	dmMinBorder = 0.8
	// dmTries is how many of the best-matching sizes and orientations are
	// decoded.
	dmTries = 3
)

// dmSizes lists the Data Matrix ECC 200 sizes, rows × columns.
var dmSizes = [][2]int{
	{10, 10}, {12, 12}, {14, 14}, {16, 16}, {18, 18}, {20, 20}, {22, 22}, {24, 24}, {26, 26},
	{32, 32}, {36, 36}, {40, 40}, {44, 44}, {48, 48}, {52, 52}, {64, 64}, {72, 72}, {80, 80},
	{88, 88}, {96, 96}, {104, 104}, {120, 120}, {132, 132}, {144, 144},
	{8, 18}, {8, 32}, {12, 26}, {12, 36}, {16, 36}, {16, 48},
}

// dmRead finds the Data Matrix symbol nearest the centre of img by its
// outline rather than by gozxing's white-rectangle search: the dark blob
// at the centre gives a rough quadrilateral, each side is refitted as the
// line through the outermost dark pixels (the solid L and the black
// modules of the clock track lie on it), and the corners are where the
// lines meet. Every size and orientation is scored by how well the
// sampled border matches the L and the clock track; the best are decoded,
// each checked by Reed–Solomon.
func dmRead(img *gozxing.BitMatrix, dec *dmdec.Decoder) (*gozxing.Result, error) {
	rough, ok := dmOutline(img)
	if !ok {
		return nil, gozxing.NewNotFoundException("no outline")
	}
	var lines [4]line
	for i := range rough {
		l, ok := dmEdge(img, rough[i], rough[(i+1)%4], rough)
		if !ok {
			return nil, gozxing.NewNotFoundException("no edge")
		}
		lines[i] = l
	}
	var quad [4]pt
	for i := range quad {
		p, ok := lines[(i+3)%4].meet(lines[i])
		if !ok || dist(p, rough[i]) > 0.25*(dist(rough[0], rough[2])+dist(rough[1], rough[3])) {
			return nil, gozxing.NewNotFoundException("corners")
		}
		quad[i] = p
	}
	type fit struct {
		rows, cols, rot int
		score           float64
		h               homography
	}
	var fits []fit
	for _, sz := range dmSizes {
		for rot := 0; rot < 4; rot++ {
			h, ok := dmTransform(quad, sz[0], sz[1], rot)
			if !ok {
				continue
			}
			if s := dmBorderScore(img, h, sz[0], sz[1]); s >= dmMinBorder {
				fits = append(fits, fit{sz[0], sz[1], rot, s, h})
			}
		}
	}
	sort.Slice(fits, func(a, b int) bool { return fits[a].score > fits[b].score })
	var lastErr error = gozxing.NewNotFoundException("no size fits the border")
	for k := 0; k < len(fits) && k < dmTries; k++ {
		f := fits[k]
		bits, err := gozxing.NewBitMatrix(f.cols, f.rows)
		if err != nil {
			return nil, err
		}
		for y := 0; y < f.rows; y++ {
			for x := 0; x < f.cols; x++ {
				if dmBlack(img, f.h, x, y) {
					bits.Set(x, y)
				}
			}
		}
		var dr interface {
			GetText() string
			GetRawBytes() []byte
		}
		err = safely(func() error {
			r, err := dec.Decode(bits)
			if err == nil {
				dr = r
			}
			return err
		})
		if err != nil {
			lastErr = err
			continue
		}
		// Corners in gozxing's order: top-left, bottom-left,
		// bottom-right, top-right of the upright symbol.
		var pts []gozxing.ResultPoint
		for _, m := range []pt{{0, 0}, {0, float64(f.rows)}, {float64(f.cols), float64(f.rows)}, {float64(f.cols), 0}} {
			p := f.h.apply(m)
			pts = append(pts, gozxing.NewResultPoint(p.x, p.y))
		}
		return gozxing.NewResult(dr.GetText(), dr.GetRawBytes(), pts, gozxing.BarcodeFormat_DATA_MATRIX), nil
	}
	return nil, lastErr
}

// dmTransform maps module coordinates of an upright rows×cols symbol
// (L on the left and bottom) to the image, the symbol's corner (0, 0)
// landing on quad[rot].
func dmTransform(quad [4]pt, rows, cols, rot int) (homography, bool) {
	ms := []pt{{0, 0}, {float64(cols), 0}, {float64(cols), float64(rows)}, {0, float64(rows)}}
	var as []qrAnchor
	for i, m := range ms {
		as = append(as, qrAnchor{m: m, p: quad[(i+rot)%4]})
	}
	// The quad runs one way round the image; a mirrored symbol is not
	// valid Data Matrix, so the other way round is not tried.
	return fitHomography(as)
}

// dmBlack reads module (x, y) through h.
func dmBlack(img *gozxing.BitMatrix, h homography, x, y int) bool {
	p := h.apply(pt{float64(x) + 0.5, float64(y) + 0.5})
	xi, yi := int(math.Floor(p.x)), int(math.Floor(p.y))
	if xi < 0 || yi < 0 || xi >= img.GetWidth() || yi >= img.GetHeight() {
		return false
	}
	return img.Get(xi, yi)
}

// dmBorderScore is the share of border modules of an upright rows×cols
// symbol, read through h, that match the finder: the left column and
// bottom row black, the top row and right column alternating.
func dmBorderScore(img *gozxing.BitMatrix, h homography, rows, cols int) float64 {
	good, n := 0, 0
	check := func(x, y int, black bool) {
		n++
		if dmBlack(img, h, x, y) == black {
			good++
		}
	}
	for y := 0; y < rows; y++ {
		check(0, y, true)
		check(cols-1, y, y%2 == 1)
	}
	for x := 1; x < cols-1; x++ {
		check(x, rows-1, true)
		check(x, 0, x%2 == 0)
	}
	return float64(good) / float64(n)
}

// dmOutline returns a rough quadrilateral around the dark blob nearest the
// centre of img, corners in order round the blob, found on a coarse grid
// of blocks: a block is dark when it holds a black pixel, dark blocks are
// joined across one-block gaps, and the blob's corners are its extreme
// points along the diagonals of its smallest bounding rectangle.
func dmOutline(img *gozxing.BitMatrix) ([4]pt, bool) {
	var quad [4]pt
	w, h := img.GetWidth(), img.GetHeight()
	b := max(2, min(w, h)/dmBlocks)
	gw, gh := w/b, h/b
	if gw < 8 || gh < 8 {
		return quad, false
	}
	dark := make([]bool, gw*gh)
	for gy := 0; gy < gh; gy++ {
		for gx := 0; gx < gw; gx++ {
			// Every other pixel: modules are at least two pixels wide.
		block:
			for y := gy * b; y < (gy+1)*b; y += 2 {
				for x := gx * b; x < (gx+1)*b; x += 2 {
					if img.Get(x, y) {
						dark[gy*gw+gx] = true
						break block
					}
				}
			}
		}
	}
	// Dilate by one block so the gaps between modules close.
	grown := make([]bool, gw*gh)
	for gy := 0; gy < gh; gy++ {
		for gx := 0; gx < gw; gx++ {
			if !dark[gy*gw+gx] {
				continue
			}
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := gx+dx, gy+dy
					if x >= 0 && y >= 0 && x < gw && y < gh {
						grown[y*gw+x] = true
					}
				}
			}
		}
	}
	// Seed: the dark block nearest the centre.
	seed, best := -1, math.Inf(1)
	for i, d := range grown {
		if d {
			dd := math.Hypot(float64(i%gw-gw/2), float64(i/gw-gh/2))
			if dd < best {
				seed, best = i, dd
			}
		}
	}
	if seed < 0 || best > float64(min(gw, gh))/4 {
		return quad, false
	}
	in := make([]bool, gw*gh)
	in[seed] = true
	stack := []int{seed}
	var edge []pt
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		x, y := i%gw, i/gw
		border := false
		for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			nx, ny := x+d[0], y+d[1]
			if nx < 0 || ny < 0 || nx >= gw || ny >= gh {
				border = true
				continue
			}
			j := ny*gw + nx
			if !grown[j] {
				border = true
				continue
			}
			if !in[j] {
				in[j] = true
				stack = append(stack, j)
			}
		}
		if border {
			edge = append(edge, pt{(float64(x) + 0.5) * float64(b), (float64(y) + 0.5) * float64(b)})
		}
	}
	if len(edge) < 8 {
		return quad, false
	}
	// Smallest bounding rectangle over turns of one degree.
	bestA, bestArea := 0.0, math.Inf(1)
	for deg := 0; deg < 90; deg++ {
		a := float64(deg) * math.Pi / 180
		c, s := math.Cos(a), math.Sin(a)
		u0, u1, v0, v1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, p := range edge {
			u, v := p.x*c+p.y*s, -p.x*s+p.y*c
			u0, u1, v0, v1 = math.Min(u0, u), math.Max(u1, u), math.Min(v0, v), math.Max(v1, v)
		}
		if area := (u1 - u0) * (v1 - v0); area < bestArea {
			bestA, bestArea = a, area
		}
	}
	if bestArea < float64(64*b*b) {
		return quad, false
	}
	c, s := math.Cos(bestA), math.Sin(bestA)
	// Corner k is the extreme point along direction (±u ±v), in order
	// round the rectangle.
	dirs := [4][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}}
	for k, d := range dirs {
		best := math.Inf(-1)
		for _, p := range edge {
			u, v := p.x*c+p.y*s, -p.x*s+p.y*c
			if m := d[0]*u + d[1]*v; m > best {
				best, quad[k] = m, p
			}
		}
	}
	return quad, true
}

// line is the set of points p with n·p = d, n of unit length.
type line struct {
	n pt
	d float64
}

// meet returns the intersection of two lines.
func (l line) meet(o line) (pt, bool) {
	det := l.n.x*o.n.y - l.n.y*o.n.x
	if math.Abs(det) < 1e-6 {
		return pt{}, false
	}
	return pt{(l.d*o.n.y - o.d*l.n.y) / det, (l.n.x*o.d - o.n.x*l.d) / det}, true
}

// dmEdge fits the edge line of the side from a to b of the quadrilateral
// quad: scan lines come in from outside along the side's outer normal and
// stop at the first black pixel; the line is refitted to the outermost
// hits, since on the clock track half the hits lie a module deeper.
func dmEdge(img *gozxing.BitMatrix, a, b pt, quad [4]pt) (line, bool) {
	length := dist(a, b)
	if length < 8 {
		return line{}, false
	}
	tx, ty := (b.x-a.x)/length, (b.y-a.y)/length
	n := pt{ty, -tx}
	// Point the normal away from the quad's centre.
	var cx, cy float64
	for _, q := range quad {
		cx, cy = cx+q.x/4, cy+q.y/4
	}
	if n.x*(a.x-cx)+n.y*(a.y-cy) < 0 {
		n = pt{-n.x, -n.y}
	}
	out, depth := 0.1*length+4, 0.3*length
	var hits []pt
	for k := 0; k < dmEdgeSamples; k++ {
		t := 0.1 + 0.8*(float64(k)+0.5)/dmEdgeSamples
		p := pt{a.x + t*(b.x-a.x), a.y + t*(b.y-a.y)}
		first := true
		for s := out; s > -depth; s-- {
			x, y := int(math.Floor(p.x+s*n.x)), int(math.Floor(p.y+s*n.y))
			if x < 0 || y < 0 || x >= img.GetWidth() || y >= img.GetHeight() {
				continue
			}
			if img.Get(x, y) {
				if !first {
					hits = append(hits, pt{p.x + s*n.x, p.y + s*n.y})
				}
				break
			}
			first = false
		}
	}
	if len(hits) < dmEdgeSamples/4 {
		return line{}, false
	}
	l, ok := fitLine(hits)
	for iter := 0; ok && iter < 3; iter++ {
		if l.n.x*n.x+l.n.y*n.y < 0 {
			l = line{pt{-l.n.x, -l.n.y}, -l.d}
		}
		var outer []pt
		tol := []float64{0, -1, -1}[iter]
		for _, h := range hits {
			if l.n.x*h.x+l.n.y*h.y-l.d >= tol {
				outer = append(outer, h)
			}
		}
		if len(outer) < dmEdgeSamples/6 {
			break
		}
		l, ok = fitLine(outer)
	}
	return l, ok
}

// fitLine fits a line to ps by total least squares.
func fitLine(ps []pt) (line, bool) {
	if len(ps) < 2 {
		return line{}, false
	}
	var mx, my float64
	for _, p := range ps {
		mx, my = mx+p.x, my+p.y
	}
	mx, my = mx/float64(len(ps)), my/float64(len(ps))
	var sxx, syy, sxy float64
	for _, p := range ps {
		dx, dy := p.x-mx, p.y-my
		sxx, syy, sxy = sxx+dx*dx, syy+dy*dy, sxy+dx*dy
	}
	// Direction of largest spread; the normal is perpendicular to it.
	a := 0.5 * math.Atan2(2*sxy, sxx-syy)
	n := pt{-math.Sin(a), math.Cos(a)}
	return line{n, n.x*mx + n.y*my}, true
}
