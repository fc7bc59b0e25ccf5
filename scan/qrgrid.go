package scan

import (
	"math"
	"sort"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/common"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
	qrdet "github.com/makiuchi-d/gozxing/qrcode/detector"
)

// QR grid sampling limits.
const (
	// qrAlignSearch is the radius (modules) around its predicted place in
	// which an alignment pattern is looked for.
	qrAlignSearch = 4
	// qrDimSpread is how far (in steps of four modules, one version) the
	// dimensions tried reach beyond the two estimates: under strong
	// perspective the module size near the finders misjudges the
	// distance between them.
	qrDimSpread = 1
	// qrPairCands is how many of the strongest finder candidates are
	// paired when one finder pattern is taken to be damaged.
	qrPairCands = 5
	// qrMatchSearch is the radius (modules) around its predicted place in
	// which matchAlignment matches an alignment pattern, and qrMatchSteps
	// how many shifts per module it tries.
	qrMatchSearch = 2
	qrMatchSteps  = 3
	// qrGreyRadius is the radius (modules) of the square of modules whose
	// mean grey thresholds a module sampled from a grey plane.
	qrGreyRadius = 4
	// qrAlignMatch is how many of the 25 modules of an alignment pattern
	// must agree with the template for matchAlignment to accept it.
	qrAlignMatch = 24
)

// qrRead finds three finder patterns in img and reads the symbol they
// frame, sampling its modules cell by cell between the finder patterns
// and every alignment pattern found, so that perspective the three
// finders cannot describe, and gentle curvature, are followed. When that
// fails it assumes one finder pattern is damaged and infers it from each
// pair of the others. Every read is checked by the Reed–Solomon decoder.
// A NotFoundException means no three finder patterns were found. With
// grey, the plane img was binarized from (a symbol blurred over about half
// a module, see readDenoised), it also tries the dimension from the module
// size measured across a turned symbol (qrTurnedDim), matches alignment
// patterns gozxing's finder misses against their template
// (matchAlignment) and takes the modules from grey (sampleCells).
func qrRead(img *gozxing.BitMatrix, dec *qrdec.Decoder, hints map[gozxing.DecodeHintType]any, grey *plane) (*gozxing.Result, error) {
	if n := qrFinderCandidates(img, hints, qrMaxCandidates); n > qrMaxCandidates {
		return nil, gozxing.NewNotFoundException("%d finder pattern candidates", n)
	}
	finder := qrdet.NewFinderPatternFinder(img, nil)
	var info *qrdet.FinderPatternInfo
	err := safely(func() (err error) {
		var nf gozxing.NotFoundException
		info, nf = finder.Find(hints)
		if nf != nil {
			return nf
		}
		return nil
	})
	if err == nil {
		res, err2 := qrReadTriple(img, dec, hints, info, grey)
		if err2 == nil {
			return res, nil
		}
		err = err2
	}
	if grey != nil {
		// A blurred symbol's texture yields many weak candidates; the
		// pairs of them cost more than they read.
		return nil, err
	}
	if res, ok := qrReadPairs(img, dec, hints, finder.GetPossibleCenters(), grey); ok {
		return res, nil
	}
	return nil, err
}

// qrReadTriple reads the symbol framed by the finder patterns of info.
func qrReadTriple(img *gozxing.BitMatrix, dec *qrdec.Decoder, hints map[gozxing.DecodeHintType]any, info *qrdet.FinderPatternInfo, grey *plane) (*gozxing.Result, error) {
	tl, tr, bl := info.GetTopLeft(), info.GetTopRight(), info.GetBottomLeft()
	ms := (tl.GetEstimatedModuleSize() + tr.GetEstimatedModuleSize() + bl.GetEstimatedModuleSize()) / 3
	if ms < 1 {
		return nil, gozxing.NewNotFoundException("module size %v", ms)
	}
	corners := [3]pt{{tl.GetX(), tl.GetY()}, {tr.GetX(), tr.GetY()}, {bl.GetX(), bl.GetY()}}
	// gozxing's own sampling first: one transform through the finders
	// and the bottom-right alignment pattern.
	var gz *common.DetectorResult
	_ = safely(func() (err error) { gz, err = qrdet.NewDetector(img).ProcessFinderPatternInfo(info); return })
	gzDim := 0
	if gz != nil {
		gzDim = gz.GetBits().GetWidth()
		if res, err := qrDecode(dec, hints, gz.GetBits(), gz.GetPoints()); err == nil {
			return res, nil
		}
	}
	ests := []int{gzDim, qrEstDim(corners, ms)}
	if grey != nil {
		ests = append(ests, qrTurnedDim(corners, ms))
	}
	return qrReadCorners(img, dec, hints, corners, ms, qrDims(ests...), grey)
}

// qrEstDim is the dimension the finder centres at corners suggest for
// modules of ms pixels: 7 modules beyond the distance between the
// centres, rounded to the nearest 4k+1.
func qrEstDim(corners [3]pt, ms float64) int {
	across := (dist(corners[0], corners[1]) + dist(corners[0], corners[2])) / 2 / ms
	return 4*int(math.Round((across+7-21)/4)) + 21
}

// qrTurnedDim is qrEstDim with ms measured across the symbol rather than
// along the image's rows and columns: gozxing sizes a finder pattern from
// its horizontal and vertical runs, which a symbol turned by θ lengthens
// by 1/max(|cos θ|, |sin θ|) (up to √2 at 45°), so the estimate falls a
// version or two short.
func qrTurnedDim(corners [3]pt, ms float64) int {
	a := math.Atan2(corners[1].y-corners[0].y, corners[1].x-corners[0].x)
	return qrEstDim(corners, ms*math.Max(math.Abs(math.Cos(a)), math.Abs(math.Sin(a))))
}

// qrReadCorners samples and decodes the symbol with finder centres at
// corners (top-left, top-right, bottom-left) at each of dims. With grey,
// modules the threshold decides wrongly are decided again against the
// blur (equalizeModules, at the width estimateBlur gives and a step
// either side).
func qrReadCorners(img *gozxing.BitMatrix, dec *qrdec.Decoder, hints map[gozxing.DecodeHintType]any, corners [3]pt, ms float64, dims []int, grey *plane) (*gozxing.Result, error) {
	var lastErr error = gozxing.NewNotFoundException("no dimension")
	for _, dim := range dims {
		// A blob taken for an alignment pattern bends the grid more
		// than a missing one: the grid from the finders alone is tried
		// too.
		for _, align := range []bool{true, false} {
			bits, vals, err := qrSample(img, corners, ms, dim, align, grey)
			if err != nil {
				lastErr = err
				continue
			}
			var points []gozxing.ResultPoint
			for _, c := range []pt{corners[2], corners[0], corners[1]} {
				points = append(points, gozxing.NewResultPoint(c.x, c.y))
			}
			start := bits
			if vals != nil {
				start = cloneBits(bits)
			}
			res, err := qrDecode(dec, hints, bits, points)
			if err == nil {
				return res, nil
			}
			lastErr = err
			if vals == nil || start == nil || !align {
				// The grid from the finders alone is a fallback; the
				// equaliser needs the modules where they are.
				continue
			}
			// A symbol blurred over more than half a module: its modules
			// decided against the blur each assumed width spreads.
			sigma, ok := estimateBlur(vals, dim)
			for _, d := range eqSpread {
				if !ok {
					break
				}
				if eq := equalizeModules(vals, dim, start, sigma+d); eq != nil {
					if res, err := qrDecode(dec, hints, eq, points); err == nil {
						return res, nil
					}
				}
			}
		}
	}
	return nil, lastErr
}

// qrDecode decodes sampled modules; points are the finder (and alignment)
// centres to report.
func qrDecode(dec *qrdec.Decoder, hints map[gozxing.DecodeHintType]any, bits *gozxing.BitMatrix, points []gozxing.ResultPoint) (*gozxing.Result, error) {
	var res *gozxing.Result
	err := safely(func() error {
		dr, err := dec.Decode(bits, hints)
		if err != nil {
			return err
		}
		if md, ok := dr.GetOther().(*qrdec.QRCodeDecoderMetaData); ok {
			md.ApplyMirroredCorrection(points)
		}
		res = gozxing.NewResult(dr.GetText(), dr.GetRawBytes(), points, gozxing.BarcodeFormat_QR_CODE)
		return nil
	})
	return res, err
}

// qrReadPairs reads a symbol one of whose finder patterns is damaged:
// each pair of the strongest finder candidates is taken as two corners
// of the symbol (a side, either way round, or the diagonal), the third
// finder centre put where a square symbol has it, and the grid sampled
// with the alignment patterns correcting the perspective.
func qrReadPairs(img *gozxing.BitMatrix, dec *qrdec.Decoder, hints map[gozxing.DecodeHintType]any, cands []*qrdet.FinderPattern, grey *plane) (*gozxing.Result, bool) {
	var strong []*qrdet.FinderPattern
	for _, c := range cands {
		if c.GetCount() >= 2 {
			strong = append(strong, c)
		}
	}
	sort.SliceStable(strong, func(a, b int) bool { return strong[a].GetCount() > strong[b].GetCount() })
	if len(strong) > qrPairCands {
		strong = strong[:qrPairCands]
	}
	rot := func(v pt) pt { return pt{-v.y, v.x} } // a quarter turn, TL→TR onto TL→BL
	inside := func(p pt) bool {
		return p.x >= 0 && p.y >= 0 && p.x < float64(img.GetWidth()) && p.y < float64(img.GetHeight())
	}
	for i, a := range strong {
		for _, b := range strong[i+1:] {
			ma, mb := a.GetEstimatedModuleSize(), b.GetEstimatedModuleSize()
			if ma < 1 || mb < 1 || ma > 1.4*mb || mb > 1.4*ma {
				continue
			}
			ms := (ma + mb) / 2
			A, B := pt{a.GetX(), a.GetY()}, pt{b.GetX(), b.GetY()}
			if d := dist(A, B) / ms; d < 14 || d > 2*177 {
				continue
			}
			var hyps [][3]pt // top-left, top-right, bottom-left
			for _, p := range [2][2]pt{{A, B}, {B, A}} {
				P, Q := p[0], p[1]
				v := pt{Q.x - P.x, Q.y - P.y}
				r := rot(v)
				hyps = append(hyps,
					[3]pt{P, Q, {P.x + r.x, P.y + r.y}},                     // P top-left, Q top-right
					[3]pt{P, {P.x - r.x, P.y - r.y}, Q},                     // P top-left, Q bottom-left
					[3]pt{{(P.x+Q.x)/2 + r.x/2, (P.y+Q.y)/2 + r.y/2}, P, Q}, // diagonal
				)
			}
			for _, h := range hyps {
				if !inside(h[0]) || !inside(h[1]) || !inside(h[2]) {
					continue
				}
				ests := []int{qrEstDim(h, ms)}
				if grey != nil {
					ests = append(ests, qrTurnedDim(h, ms))
				}
				if res, err := qrReadCorners(img, dec, hints, h, ms, qrDims(ests...), grey); err == nil {
					return res, true
				}
			}
		}
	}
	return nil, false
}

// qrDims returns the dimensions to try, most likely first: the estimates
// in order (gozxing's, from the module size of the black-white runs
// between the finder patterns, 0 if none; then those from the finders'
// own sizes), and one version either side of each.
func qrDims(ests ...int) []int {
	var dims []int
	add := func(d int) {
		if d < 21 || d > 177 || (d-21)%4 != 0 {
			return
		}
		for _, o := range dims {
			if o == d {
				return
			}
		}
		dims = append(dims, d)
	}
	for _, base := range ests {
		if base > 0 {
			add(base)
		}
	}
	for k := 1; k <= qrDimSpread; k++ {
		for _, base := range ests {
			if base > 0 {
				add(base + 4*k)
				add(base - 4*k)
			}
		}
	}
	return dims
}

// qrAnchor is a point of a QR symbol whose place is known both in module
// coordinates (m) and in the image (p): a finder or alignment pattern
// centre.
type qrAnchor struct {
	m, p  pt
	found bool
}

// qrSample samples a dim×dim QR symbol whose finder pattern centres are
// at corners (top-left, top-right, bottom-left); with grey it also returns
// the modules' greys (see sampleCells).
func qrSample(img *gozxing.BitMatrix, corners [3]pt, ms float64, dim int, align bool, grey *plane) (*gozxing.BitMatrix, []float64, error) {
	ver, err := qrdec.Version_GetProvisionalVersionForDimension(dim)
	if err != nil {
		return nil, nil, err
	}
	centers := ver.GetAlignmentPatternCenters()
	far := float64(dim) - 3.5
	finders := []qrAnchor{
		{m: pt{3.5, 3.5}, p: corners[0], found: true},
		{m: pt{far, 3.5}, p: corners[1], found: true},
		{m: pt{3.5, far}, p: corners[2], found: true},
	}
	if len(centers) == 0 {
		// Version 1: the fourth corner completes the parallelogram.
		br := pt{corners[1].x + corners[2].x - corners[0].x, corners[1].y + corners[2].y - corners[0].y}
		as := append(finders, qrAnchor{m: pt{far, far}, p: br, found: true})
		h, ok := fitHomography(as)
		if !ok {
			return nil, nil, gozxing.NewNotFoundException("degenerate")
		}
		return sampleCells(img, dim, []int{0, dim}, []int{0, dim}, func(i, j int) homography { return h }, grey)
	}
	n := len(centers)
	grid := make([]qrAnchor, n*n)
	at := func(i, j int) *qrAnchor { return &grid[j*n+i] }
	*at(0, 0), *at(n-1, 0), *at(0, n-1) = finders[0], finders[1], finders[2]
	type ij struct{ i, j int }
	var todo []ij
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			if !at(i, j).found {
				at(i, j).m = pt{float64(centers[i]) + 0.5, float64(centers[j]) + 0.5}
				todo = append(todo, ij{i, j})
			}
		}
	}
	// Nearest the known finders first, so each prediction leans on found
	// neighbours.
	sort.SliceStable(todo, func(a, b int) bool {
		da := todo[a].i + todo[a].j + abs(todo[a].i-todo[a].j)
		db := todo[b].i + todo[b].j + abs(todo[b].i-todo[b].j)
		return da < db
	})
	for _, c := range todo {
		a := at(c.i, c.j)
		var near []qrAnchor
		for r := 1; r < n && len(near) < 5; r++ {
			near = near[:0]
			for j := max(0, c.j-r); j <= min(n-1, c.j+r); j++ {
				for i := max(0, c.i-r); i <= min(n-1, c.i+r); i++ {
					if at(i, j).found {
						near = append(near, *at(i, j))
					}
				}
			}
		}
		if len(near) < 3 {
			near = finders
		}
		// Alignment patterns of a row or column lie on a line: a
		// perspective fit needs five anchors, else an affine one.
		fit := fitAffine
		if len(near) >= 5 {
			fit = fitHomography
		}
		h, ok := fit(near)
		if !ok {
			return nil, nil, gozxing.NewNotFoundException("degenerate")
		}
		a.p = h.apply(a.m)
		local := dist(a.p, h.apply(pt{a.m.x + 1, a.m.y + 1})) / math.Sqrt2
		if !(local >= 1) {
			local = ms
		}
		if !align {
			continue
		}
		if ap, ok := findAlignment(img, a.p, local); ok {
			a.p, a.found = ap, true
		} else if grey != nil {
			if ap, ok := matchAlignmentGrey(grey, h, a.m); ok {
				a.p, a.found = ap, true
			} else if ap, ok := matchAlignment(img, h, a.m); ok {
				a.p, a.found = ap, true
			}
		}

	}
	// Cell (i, j) lies between anchors i, i+1 and j, j+1: modules from
	// one alignment centre to the next, the outer cells to the edge.
	edges := append([]int{0}, centers[1:n-1]...)
	edges = append(edges, dim)
	cells := make([]homography, (n-1)*(n-1))
	for j := 0; j < n-1; j++ {
		for i := 0; i < n-1; i++ {
			h, ok := fitHomography([]qrAnchor{*at(i, j), *at(i+1, j), *at(i+1, j+1), *at(i, j+1)})
			if !ok {
				return nil, nil, gozxing.NewNotFoundException("degenerate cell")
			}
			cells[j*(n-1)+i] = h
		}
	}
	return sampleCells(img, dim, edges, edges, func(i, j int) homography { return cells[j*(n-1)+i] }, grey)
}

// findAlignment looks for an alignment pattern within qrAlignSearch
// modules of p.
func findAlignment(img *gozxing.BitMatrix, p pt, ms float64) (pt, bool) {
	r := int(qrAlignSearch*ms + 0.5)
	x0, y0 := max(0, int(p.x)-r), max(0, int(p.y)-r)
	x1, y1 := min(img.GetWidth()-1, int(p.x)+r), min(img.GetHeight()-1, int(p.y)+r)
	if float64(x1-x0) < 3*ms || float64(y1-y0) < 3*ms {
		return p, false
	}
	var ap *qrdet.AlignmentPattern
	err := safely(func() error {
		var nf gozxing.NotFoundException
		ap, nf = qrdet.NewAlignmentPatternFinder(img, x0, y0, x1-x0, y1-y0, ms, nil).Find()
		if nf != nil {
			return nf
		}
		return nil
	})
	if err != nil || ap == nil {
		return p, false
	}
	q := pt{ap.GetX(), ap.GetY()}
	if dist(p, q) > float64(r) {
		return p, false
	}
	return q, true
}

// matchAlignment looks for the alignment pattern whose centre h, a map
// from module coordinates to the image fitted to the patterns found so
// far, puts at module point m: the 5×5-module template (dark centre, light
// ring, dark ring) is matched at module centres, shifted in steps of
// 1/qrMatchSteps module up to qrMatchSearch modules away, and the shift where most
// modules agree wins if at least qrAlignMatch of the 25 do. Under blur
// the pattern's rings no longer give the runs gozxing's finder looks for,
// but their modules, sampled at their centres, still do.
func matchAlignment(img *gozxing.BitMatrix, h homography, m pt) (pt, bool) {
	w, hgt := img.GetWidth(), img.GetHeight()
	best, bx, by := -1, 0.0, 0.0
	const q = qrMatchSteps
	for sy := -qrMatchSearch * q; sy <= qrMatchSearch*q; sy++ {
		for sx := -qrMatchSearch * q; sx <= qrMatchSearch*q; sx++ {
			dx, dy := float64(sx)/q, float64(sy)/q
			score := 0
			for j := -2; j <= 2; j++ {
				for i := -2; i <= 2; i++ {
					p := h.apply(pt{m.x + dx + float64(i), m.y + dy + float64(j)})
					xi, yi := int(math.Floor(p.x)), int(math.Floor(p.y))
					if xi < 0 || yi < 0 || xi >= w || yi >= hgt {
						continue
					}
					dark := max(abs(i), abs(j)) != 1
					if img.Get(xi, yi) == dark {
						score++
					}
				}
			}
			// Of equal scores the shift nearest the prediction wins.
			if score > best || score == best && math.Hypot(dx, dy) < math.Hypot(bx, by) {
				best, bx, by = score, dx, dy
			}
		}
	}
	if best < qrAlignMatch {
		return pt{}, false
	}
	return h.apply(pt{m.x + bx, m.y + by}), true
}

// sampleCells samples a dim-module grid cut into cells by the module
// edges ex (columns) and ey (rows); cell (i, j) maps module coordinates to
// the image through cell(i, j). A module outside the image fails. With
// grey, the plane img was binarized from, each module is instead the mean
// grey of five points (its centre and four a quarter module from it),
// dark when below the mean of the modules within qrGreyRadius of it: a
// module blurred over half its width keeps its centre on the right side of
// its neighbours' mean, where a binarized pixel has ragged edges and a
// grid a fraction of a module off puts centres on them; the greys are
// returned too, row-major.
func sampleCells(img *gozxing.BitMatrix, dim int, ex, ey []int, cell func(i, j int) homography, grey *plane) (*gozxing.BitMatrix, []float64, error) {
	bits, err := gozxing.NewSquareBitMatrix(dim)
	if err != nil {
		return nil, nil, err
	}
	w, h := img.GetWidth(), img.GetHeight()
	var vals []float64
	if grey != nil {
		vals = make([]float64, dim*dim)
	}
	for j := 0; j+1 < len(ey); j++ {
		for i := 0; i+1 < len(ex); i++ {
			hm := cell(i, j)
			for y := ey[j]; y < ey[j+1]; y++ {
				for x := ex[i]; x < ex[i+1]; x++ {
					q := hm.apply(pt{float64(x) + 0.5, float64(y) + 0.5})
					xi, yi := int(math.Floor(q.x)), int(math.Floor(q.y))
					if xi < 0 || yi < 0 || xi >= w || yi >= h {
						return nil, nil, gozxing.NewNotFoundException("module outside the image")
					}
					if grey != nil {
						vals[y*dim+x] = greyModule(grey, hm, x, y)
					} else if img.Get(xi, yi) {
						bits.Set(x, y)
					}
				}
			}
		}
	}
	if grey != nil {
		thresholdModules(bits, vals, dim)
	}
	return bits, vals, nil
}

// greyModule is the mean grey of module (x, y) under hm: its centre and
// four points a quarter module from it, each clamped to the plane.
func greyModule(p *plane, hm homography, x, y int) float64 {
	s := 0.0
	for _, d := range [5]pt{{0, 0}, {0.25, 0}, {-0.25, 0}, {0, 0.25}, {0, -0.25}} {
		q := hm.apply(pt{float64(x) + 0.5 + d.x, float64(y) + 0.5 + d.y})
		xi := min(p.w-1, max(0, int(math.Floor(q.x))))
		yi := min(p.h-1, max(0, int(math.Floor(q.y))))
		s += float64(p.pix[yi*p.stride+xi])
	}
	return s / 5
}

// thresholdModules sets the modules of bits whose grey in vals is below
// the mean of two means: of the modules next to it (blur pulls a module
// toward its neighbours) and of those within qrGreyRadius (light and
// paper vary across a symbol).
func thresholdModules(bits *gozxing.BitMatrix, vals []float64, dim int) {
	mean := func(x, y, r int) float64 {
		s, n := 0.0, 0
		for v := max(0, y-r); v <= min(dim-1, y+r); v++ {
			for u := max(0, x-r); u <= min(dim-1, x+r); u++ {
				s += vals[v*dim+u]
				n++
			}
		}
		return s / float64(n)
	}
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			if vals[y*dim+x] < (mean(x, y, 1)+mean(x, y, qrGreyRadius))/2 {
				bits.Set(x, y)
			}
		}
	}
}

// abs returns |a|.
func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}
