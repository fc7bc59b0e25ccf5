package scan

import (
	"math"
	"slices"
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
// each checked by Reed–Solomon. With grey, the plane img was binarized
// from, a square symbol the bitmap cannot read is read again from the
// grey (dmReadGrey).
func dmRead(img *gozxing.BitMatrix, dec *dmdec.Decoder, grey *plane) (*gozxing.Result, error) {
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
		res, err := dmDecode(dec, bits, f.h)
		if err == nil {
			return res, nil
		}
		lastErr = err
	}
	if grey != nil {
		if res, err := dmReadGrey(grey, quad, dec); err == nil {
			return res, nil
		}
	}
	return nil, lastErr
}

// dmDecode decodes the modules bits of a symbol that h maps to the image.
func dmDecode(dec *dmdec.Decoder, bits *gozxing.BitMatrix, h homography) (*gozxing.Result, error) {
	var dr interface {
		GetText() string
		GetRawBytes() []byte
	}
	err := safely(func() error {
		r, err := dec.Decode(bits)
		if err == nil {
			dr = r
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Corners in gozxing's order: top-left, bottom-left, bottom-right,
	// top-right of the upright symbol.
	rows, cols := float64(bits.GetHeight()), float64(bits.GetWidth())
	var pts []gozxing.ResultPoint
	for _, m := range []pt{{0, 0}, {0, rows}, {cols, rows}, {cols, 0}} {
		p := h.apply(m)
		pts = append(pts, gozxing.NewResultPoint(p.x, p.y))
	}
	return gozxing.NewResult(dr.GetText(), dr.GetRawBytes(), pts, gozxing.BarcodeFormat_DATA_MATRIX), nil
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
// symbol, read through h, that match the finder (dmBorderMatch).
func dmBorderScore(img *gozxing.BitMatrix, h homography, rows, cols int) float64 {
	return dmBorderMatch(rows, cols, func(x, y int) bool { return dmBlack(img, h, x, y) })
}

// dmBorder reports whether module (x, y) of an upright rows×cols symbol
// lies on its finder, and whether the finder makes it dark: the left
// column and bottom row dark (the L), the top row and right column
// alternating (the clock track), dark at the L's ends.
func dmBorder(x, y, rows, cols int) (border, dark bool) {
	switch {
	case x == 0 || y == rows-1:
		return true, true
	case y == 0:
		return true, x%2 == 0
	case x == cols-1:
		return true, y%2 == 1
	}
	return false, false
}

// dmBorderMatch is the share of the border modules of an upright
// rows×cols symbol whose darkness, as black reads it, matches dmBorder.
func dmBorderMatch(rows, cols int, black func(x, y int) bool) float64 {
	good, n := 0, 0
	check := func(x, y int) {
		_, dark := dmBorder(x, y, rows, cols)
		n++
		if black(x, y) == dark {
			good++
		}
	}
	for y := 0; y < rows; y++ {
		check(0, y)
		check(cols-1, y)
	}
	for x := 1; x < cols-1; x++ {
		check(x, rows-1)
		check(x, 0)
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

// Limits of the grey reading of a Data Matrix symbol (dmReadGrey).
const (
	// dmGreyRefines is how many sizes and orientations, best first by the
	// contrast of their clock track, have their corners moved to fit, and
	// dmGreyTries how many of those, ranked again, are decoded.
	dmGreyRefines = 6
	dmGreyTries   = 3
	// dmMinModulePx is the least module size (pixels) a size is tried at.
	dmMinModulePx = 2.0
	// dmMinClock is the least contrast of the clock track, as a share of
	// the L's against the quiet zone, of a size and orientation tried:
	// blur of half a module leaves the alternating track about a third of
	// the contrast of the solid L, a wrong size or turn next to none.
	dmMinClock = 0.15
	// dmNominal is the size (modules a side) whose module the outline is
	// first moved by, before the size is known.
	dmNominal = 16
	// dmGreyMinSize is the smallest symbol read from the grey: a 10×10
	// symbol's five check codewords are too few against the many grids
	// a blurred window offers. dmMaxModulePx is the widest module: wider
	// ones are not blurred past the bitmap's reading.
	dmGreyMinSize = 12
	dmMaxModulePx = 12.0
	// dmMaxSkew bounds the ratio of the outline's longest side to its
	// shortest (a square symbol under perspective).
	dmMaxSkew = 1.5
	// dmGreyMinBorder is the least share of the border modules (L and
	// clock track), taken from the grey against their neighbours, that
	// must match before the symbol is decoded.
	dmGreyMinBorder = 0.8
)

// dmGreySigmas are the blur widths (σ, modules) the equaliser assumes for
// a symbol the plain threshold of its greys does not read.
var dmGreySigmas = []float64{0.35, 0.5, 0.65}

// dmReadGrey reads a square symbol whose outline in grey is quad, where a
// blur of about half a module and noise leave its bitmap too far off:
// each size and orientation is scored by the contrast of its clock track
// against that of its L (dmBorderContrast), sampled in grey. The best
// have their corners moved, a fraction of a module at a time, to where
// the contrast of the whole border is greatest (the outline from the
// bitmap sits up to half a module off under blur), and their modules
// taken from the grey against their neighbours (thresholdModules), then,
// if Reed–Solomon refuses them, decided against the blur (equalizeGrid,
// with the border fixed).
func dmReadGrey(grey *plane, quad [4]pt, dec *dmdec.Decoder) (*gozxing.Result, error) {
	sides := [4]float64{dist(quad[0], quad[1]), dist(quad[1], quad[2]), dist(quad[2], quad[3]), dist(quad[3], quad[0])}
	side := (sides[0] + sides[1] + sides[2] + sides[3]) / 4
	if slices.Max(sides[:]) > dmMaxSkew*slices.Min(sides[:]) {
		return nil, gozxing.NewNotFoundException("outline not square")
	}
	type fit struct {
		n, rot int
		score  float64
		q      [4]pt // the corners, once moved to fit
	}
	// The outline first moved onto the L and the quiet zone, which every
	// size shares, so that the clock track is sampled where it lies.
	quad = dmRefine(grey, quad, dmNominal, 0, true)
	var fits []fit
	for _, sz := range dmSizes {
		n := sz[0]
		if sz[1] != n || n < dmGreyMinSize || n > eqMaxDim || side/float64(n) < dmMinModulePx || side/float64(n) > dmMaxModulePx {
			continue
		}
		for rot := 0; rot < 4; rot++ {
			if c, e, _, ok := dmBorderContrast(grey, quad, n, rot); ok && e > 0 {
				fits = append(fits, fit{n: n, rot: rot, score: c / e})
			}
		}
	}
	sort.Slice(fits, func(a, b int) bool { return fits[a].score > fits[b].score })
	var lastErr error = gozxing.NewNotFoundException("no size fits the border in grey")
	// The likeliest, each with its corners moved to fit, ranked again by
	// their clock tracks.
	var cands []fit
	for _, f := range fits[:min(len(fits), dmGreyRefines)] {
		f.q = dmRefine(grey, quad, f.n, f.rot, false)
		if c, e, _, ok := dmBorderContrast(grey, f.q, f.n, f.rot); ok && e > 0 && c >= dmMinClock*e {
			f.score = c / e
			cands = append(cands, f)
		}
	}
	sort.Slice(cands, func(a, b int) bool { return cands[a].score > cands[b].score })
	for k := 0; k < len(cands) && k < dmGreyTries; k++ {
		n, rot, q := cands[k].n, cands[k].rot, cands[k].q
		h, ok := dmTransform(q, n, n, rot)
		if !ok {
			continue
		}
		vals := make([]float64, n*n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				vals[y*n+x] = greyModule(grey, h, x, y)
			}
		}
		bits, err := gozxing.NewSquareBitMatrix(n)
		if err != nil {
			return nil, err
		}
		thresholdModules(bits, vals, n)
		if dmBorderMatch(n, n, bits.Get) < dmGreyMinBorder {
			continue
		}
		start := cloneBits(bits)
		res, err := dmDecode(dec, bits, h)
		if err == nil {
			return res, nil
		}
		lastErr = err
		known, dark := dmBorderModules(n)
		for _, sigma := range dmGreySigmas {
			if eq := equalizeGrid(vals, n, known, dark, start, sigma); eq != nil {
				if res, err := dmDecode(dec, eq, h); err == nil {
					return res, nil
				}
			}
		}
	}
	return nil, lastErr
}

// dmBorderModules returns, for an n×n symbol, which modules the finder
// fixes and which of those are dark (dmBorder).
func dmBorderModules(n int) (known, dark []bool) {
	known, dark = make([]bool, n*n), make([]bool, n*n)
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			known[y*n+x], dark[y*n+x] = dmBorder(x, y, n, n)
		}
	}
	return known, dark
}

// dmBorderContrast returns the contrasts of the border of an n×n symbol
// at quad (corner rot first), sampled in grey: clock, the mean grey of the
// clock track's light modules less that of its dark ones (near zero at a
// wrong size or orientation); edge, the mean grey of the quiet zone's ring
// around the symbol less that of the L; and all, the mean grey of every
// border module that is light (the ring and the clock track's light ones)
// less that of every one that is dark. ok is false when the quad does not
// map or the ring leaves the plane.
func dmBorderContrast(grey *plane, quad [4]pt, n, rot int) (clock, edge, all float64, ok bool) {
	h, ok := dmTransform(quad, n, n, rot)
	if !ok {
		return 0, 0, 0, false
	}
	// The quiet zone's ring must lie in the plane: a symbol cut by the
	// window's edge (or an outline that is the window) is not read.
	for _, c := range [4]pt{{-1, -1}, {float64(n) + 1, -1}, {float64(n) + 1, float64(n) + 1}, {-1, float64(n) + 1}} {
		if p := h.apply(c); p.x < 0 || p.y < 0 || p.x >= float64(grey.w) || p.y >= float64(grey.h) {
			return 0, 0, 0, false
		}
	}
	var cd, cl, l, qz float64
	var ncd, ncl, nl, nq int
	clockAt := func(x, y int) {
		v := greyModule(grey, h, x, y)
		if _, dark := dmBorder(x, y, n, n); dark {
			cd, ncd = cd+v, ncd+1
		} else {
			cl, ncl = cl+v, ncl+1
		}
	}
	for y := 0; y < n; y++ {
		l, nl = l+greyModule(grey, h, 0, y), nl+1
		qz, nq = qz+greyModule(grey, h, -1, y)+greyModule(grey, h, n, y), nq+2
	}
	for x := 1; x < n; x++ {
		l, nl = l+greyModule(grey, h, x, n-1), nl+1
	}
	for x := -1; x <= n; x++ {
		qz, nq = qz+greyModule(grey, h, x, -1)+greyModule(grey, h, x, n), nq+2
	}
	for k := 1; k < n-1; k++ {
		clockAt(k, 0)
		clockAt(n-1, k)
	}
	clock = cl/float64(ncl) - cd/float64(ncd)
	edge = qz/float64(nq) - l/float64(nl)
	all = (cl+qz)/float64(ncl+nq) - (cd+l)/float64(ncd+nl)
	return clock, edge, all, true
}

// dmRefine moves the corners of quad, each in steps of half, a quarter
// and an eighth of a module, while the contrast of the whole border
// (dmBorderContrast's all), or of the L against the quiet zone alone with
// edge, grows.
func dmRefine(grey *plane, quad [4]pt, n, rot int, edge bool) [4]pt {
	score := func(q [4]pt) (float64, bool) {
		_, e, a, ok := dmBorderContrast(grey, q, n, rot)
		if edge {
			return e, ok
		}
		return a, ok
	}
	ms := (dist(quad[0], quad[1]) + dist(quad[1], quad[2])) / 2 / float64(n)
	best, _ := score(quad)
	for _, step := range []float64{0.5, 0.25, 0.125} {
		for moved, rounds := true, 0; moved && rounds < dmRefineRounds; rounds++ {
			moved = false
			for k := range quad {
				for _, d := range [4]pt{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
					q := quad
					q[k].x += d.x * step * ms
					q[k].y += d.y * step * ms
					if a, ok := score(q); ok && a > best {
						best, quad, moved = a, q, true
					}
				}
			}
		}
	}
	return quad
}

// dmRefineRounds bounds the rounds of corner moves at each step size.
const dmRefineRounds = 8
