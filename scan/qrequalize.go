package scan

import (
	"math"

	"github.com/makiuchi-d/gozxing"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Limits of the blur-equalised reading of a QR symbol's modules.
const (
	// eqRadius is the reach (modules) of the blur kernel the equaliser
	// models: a module's grey is its own ink and that of the modules up
	// to eqRadius away, each weighted by how much of it the blur spreads
	// onto the module's centre.
	eqRadius = 2
	// eqMaxDim is the largest symbol (modules a side) the equaliser
	// decides: its passes cost in proportion to the modules, and a
	// terminal's URL or seal QR is version 10 (57) at most.
	eqMaxDim = 57
	// eqLandweber is how many steps the first, linear guess takes, and
	// eqStep their size (below 2, the largest stable for a kernel that
	// sums to 1).
	eqLandweber = 20
	eqStep      = 1.9
	// eqRounds is how many rounds of whole rows and columns follow it.
	eqRounds = 3
	// eqSweeps bounds the passes over single modules after those, which
	// set each one to the ink that best explains the greys around it.
	eqSweeps = 3
	// eqFits is how many of those passes start from paper and ink
	// levels fitted to the modules as they then stand.
	eqFits = 2
)

// eqSigmas are the blur widths (σ, in modules) among which
// estimateBlur chooses, and eqSpread the steps either side of its choice
// the equaliser also assumes: the Reed–Solomon check tells which
// assumption read the symbol.
var (
	eqSigmas = []float64{0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9}
	eqSpread = []float64{0, -0.1, 0.1}
)

// estimateBlur returns the blur width (σ, modules) among eqSigmas that best
// explains the greys vals of a dim×dim QR symbol's modules whose whole
// neighbourhood the standard fixes (the finder patterns' cores, the
// alignment patterns' centres), with paper and ink levels fitted to each
// width by least squares (planes across the symbol); ok is false when too
// few such modules exist.
func estimateBlur(vals []float64, dim int) (float64, bool) {
	known, dark, ok := qrFunctionModules(dim)
	if !ok || len(vals) != dim*dim {
		return 0, false
	}
	var sure []int
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			all := true
			for dy := -eqRadius; dy <= eqRadius && all; dy++ {
				for dx := -eqRadius; dx <= eqRadius && all; dx++ {
					u, v := x+dx, y+dy
					all = u < 0 || v < 0 || u >= dim || v >= dim || known[v*dim+u]
				}
			}
			if all {
				sure = append(sure, y*dim+x)
			}
		}
	}
	if len(sure) < 30 {
		return 0, false
	}
	s := make([]float64, dim*dim)
	for i := range s {
		if known[i] && dark[i] {
			s[i] = 1
		}
	}
	best, bestErr := 0.0, math.Inf(1)
	for _, sigma := range eqSigmas {
		B := blurredPattern(s, dim, eqKernel(sigma), sure)
		rows := make([][]float64, len(sure))
		for n, i := range sure {
			u := (float64(i%dim) - float64(dim-1)/2) / float64(dim)
			v := (float64(i/dim) - float64(dim-1)/2) / float64(dim)
			rows[n] = []float64{1, u, v, -B[n], -B[n] * u, -B[n] * v}
		}
		sol, ok := leastSquares(rows, func(n int) float64 { return vals[sure[n]] })
		if !ok {
			continue
		}
		e := 0.0
		for n, r := range rows {
			pred := 0.0
			for t, c := range r {
				pred += c * sol[t]
			}
			d := vals[sure[n]] - pred
			e += d * d
		}
		if e < bestErr {
			best, bestErr = sigma, e
		}
	}
	return best, bestErr < math.Inf(1)
}

// blurredPattern returns the kernel k applied to the pattern s (dim×dim,
// 1 dark) at each module of at.
func blurredPattern(s []float64, dim int, k []float64, at []int) []float64 {
	out := make([]float64, len(at))
	for o, i := range at {
		neighbours(k, dim, i%dim, i/dim, func(j int, w float64) { out[o] += w * s[j] })
	}
	return out
}

// neighbours calls f with the index and kernel weight (k, see eqKernel)
// of each module of a dim×dim symbol within eqRadius of module (x, y).
func neighbours(k []float64, dim, x, y int, f func(j int, w float64)) {
	n := 2*eqRadius + 1
	for dy := max(-eqRadius, -y); dy <= eqRadius && y+dy < dim; dy++ {
		for dx := max(-eqRadius, -x); dx <= eqRadius && x+dx < dim; dx++ {
			f((y+dy)*dim+x+dx, k[(dy+eqRadius)*n+dx+eqRadius])
		}
	}
}

// leastSquares solves the normal equations of rows·x ≈ b (at most 12
// unknowns); ok is false when they are singular.
func leastSquares(rows [][]float64, b func(n int) float64) ([]float64, bool) {
	if len(rows) == 0 {
		return nil, false
	}
	m := len(rows[0])
	var ata [12][12]float64
	var atb [12]float64
	for n, r := range rows {
		for a := 0; a < m; a++ {
			atb[a] += r[a] * b(n)
			for c := 0; c < m; c++ {
				ata[a][c] += r[a] * r[c]
			}
		}
	}
	// Pad the unused unknowns with an identity so the 12×12 solver
	// applies.
	for a := m; a < 12; a++ {
		ata[a][a] = 1
	}
	x, ok := solveLinear(ata, atb)
	return x[:m], ok
}

// qrFunctionModules returns, for a dim×dim QR symbol, which modules the
// standard fixes (known) and which of those are dark: the finder patterns
// and their separators, the timing patterns, the alignment patterns and
// the dark module. Format and version information are data to it.
func qrFunctionModules(dim int) (known, dark []bool, ok bool) {
	ver, err := qrdec.Version_GetProvisionalVersionForDimension(dim)
	if err != nil {
		return nil, nil, false
	}
	known, dark = make([]bool, dim*dim), make([]bool, dim*dim)
	set := func(x, y int, d bool) {
		if x >= 0 && y >= 0 && x < dim && y < dim {
			known[y*dim+x], dark[y*dim+x] = true, d
		}
	}
	// Finder patterns with their light separators: rings 0 and 1 from
	// the centre dark, ring 2 light, ring 3 dark, ring 4 (separator) light.
	for _, c := range [][2]int{{3, 3}, {dim - 4, 3}, {3, dim - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				r := max(abs(dx), abs(dy))
				set(c[0]+dx, c[1]+dy, r <= 1 || r == 3)
			}
		}
	}
	// Timing patterns: dark on even indexes.
	for i := 8; i < dim-8; i++ {
		set(i, 6, i%2 == 0)
		set(6, i, i%2 == 0)
	}
	// Alignment patterns, but where they would overlap a finder.
	cs := ver.GetAlignmentPatternCenters()
	for a, cy := range cs {
		for b, cx := range cs {
			last := len(cs) - 1
			if a == 0 && b == 0 || a == 0 && b == last || a == last && b == 0 {
				continue
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					r := max(abs(dx), abs(dy))
					set(cx+dx, cy+dy, r != 1)
				}
			}
		}
	}
	set(8, dim-8, true)
	return known, dark, true
}

// eqKernel returns the (2·eqRadius+1)² weights of a Gaussian blur of σ
// modules integrated over each module, centre first row-major: weight
// (dx, dy) is how much of the module dx, dy away lands on a module.
func eqKernel(sigma float64) []float64 {
	n := 2*eqRadius + 1
	g := make([]float64, n)
	phi := func(x float64) float64 { return 0.5 * (1 + math.Erf(x/(sigma*math.Sqrt2))) }
	for i := range g {
		d := float64(i - eqRadius)
		g[i] = phi(d+0.5) - phi(d-0.5)
	}
	k := make([]float64, n*n)
	for j := range g {
		for i := range g {
			k[j*n+i] = g[i] * g[j]
		}
	}
	return k
}

// equalizeModules decides the modules of a dim×dim QR symbol from their
// greys vals (sampled at module centres, row-major) under a blur of sigma
// modules, where a plain threshold (start) confuses a light module among
// dark ones with a dark one: the grey of every module is modelled as
// paper minus ink times the blurred pattern of dark modules, with paper
// and ink levels smooth (quadratic) across the symbol to follow glare and
// uneven light, fitted by least squares. The modules the standard does
// not fix are then solved in three steps: a linear first guess (the ink
// that best explains the greys, kept within [0, 1], rounded), whole rows
// and columns at a time (lineViterbi), and single modules, pass after
// pass, each set to whichever ink makes the model explain the greys
// within eqRadius of it best. Outside the symbol the quiet zone is light.
// It returns nil when the fit is degenerate.
func equalizeModules(vals []float64, dim int, start *gozxing.BitMatrix, sigma float64) *gozxing.BitMatrix {
	known, kdark, ok := qrFunctionModules(dim)
	if !ok {
		return nil
	}
	return equalizeGrid(vals, dim, known, kdark, start, sigma)
}

// equalizeGrid is equalizeModules for any square symbol whose fixed
// modules are known (dark: kdark).
func equalizeGrid(vals []float64, dim int, known, kdark []bool, start *gozxing.BitMatrix, sigma float64) *gozxing.BitMatrix {
	if dim > eqMaxDim || len(vals) != dim*dim || len(known) != dim*dim || len(kdark) != dim*dim {
		return nil
	}
	n := 2*eqRadius + 1
	k := eqKernel(sigma)
	s := make([]float64, dim*dim) // 1 dark, 0 light
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			i := y*dim + x
			switch {
			case known[i] && kdark[i]:
				s[i] = 1
			case !known[i] && start.Get(x, y):
				s[i] = 1
			}
		}
	}
	// blurred is the kernel applied to s around module (x, y).
	blurred := func(x, y int) float64 {
		b := 0.0
		neighbours(k, dim, x, y, func(j int, w float64) { b += w * s[j] })
		return b
	}
	// The paper and ink levels: grey = Σ p_i f_i − B Σ q_i f_i over the
	// six quadratic terms f of the module's place.
	terms := func(x, y int) [6]float64 {
		u := (float64(x) - float64(dim-1)/2) / float64(dim)
		v := (float64(y) - float64(dim-1)/2) / float64(dim)
		return [6]float64{1, u, v, u * u, u * v, v * v}
	}
	paper, ink := make([]float64, dim*dim), make([]float64, dim*dim)
	B := make([]float64, dim*dim)
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			B[y*dim+x] = blurred(x, y)
		}
	}
	fit := func() bool {
		var ata [12][12]float64
		var atb [12]float64
		for y := 0; y < dim; y++ {
			for x := 0; x < dim; x++ {
				i := y*dim + x
				f := terms(x, y)
				var row [12]float64
				for t := 0; t < 6; t++ {
					row[t], row[6+t] = f[t], -B[i]*f[t]
				}
				w := 1.0
				if known[i] {
					w = 4 // the fixed modules are sure
				}
				for a := 0; a < 12; a++ {
					atb[a] += w * row[a] * vals[i]
					for b := a; b < 12; b++ {
						ata[a][b] += w * row[a] * row[b]
					}
				}
			}
		}
		for a := 0; a < 12; a++ {
			for b := 0; b < a; b++ {
				ata[a][b] = ata[b][a]
			}
		}
		sol, ok := solveLinear(ata, atb)
		if !ok {
			return false
		}
		for y := 0; y < dim; y++ {
			for x := 0; x < dim; x++ {
				f := terms(x, y)
				p, q := 0.0, 0.0
				for t := 0; t < 6; t++ {
					p += sol[t] * f[t]
					q += sol[6+t] * f[t]
				}
				paper[y*dim+x], ink[y*dim+x] = p, q
			}
		}
		return true
	}
	// A first guess by linear deconvolution: the ink s that the fitted
	// levels and the kernel best explain, kept within [0, 1] (projected
	// gradient steps), then rounded; the passes below take it from there.
	if !fit() {
		return nil
	}
	want := make([]float64, dim*dim) // the blurred ink the greys ask for
	for i := range want {
		if ink[i] != 0 {
			want[i] = (paper[i] - vals[i]) / ink[i]
		}
	}
	// conv applies the kernel, separable as the product of its centre
	// row and column, to src: along rows into tmp, then along columns.
	g1 := k[eqRadius*n : eqRadius*n+n]
	norm := g1[eqRadius]
	tmp := make([]float64, dim*dim)
	conv := func(src, dst []float64) {
		for yy := 0; yy < dim; yy++ {
			row := src[yy*dim : (yy+1)*dim]
			for x := 0; x < dim; x++ {
				b := 0.0
				for d := max(-eqRadius, -x); d <= eqRadius && x+d < dim; d++ {
					b += g1[d+eqRadius] * row[x+d]
				}
				tmp[yy*dim+x] = b / norm
			}
		}
		for yy := 0; yy < dim; yy++ {
			for x := 0; x < dim; x++ {
				b := 0.0
				for d := max(-eqRadius, -yy); d <= eqRadius && yy+d < dim; d++ {
					b += g1[d+eqRadius] * tmp[(yy+d)*dim+x]
				}
				dst[yy*dim+x] = b
			}
		}
	}
	// Accelerated (FISTA) steps from the current guess s, at z.
	r, g := make([]float64, dim*dim), make([]float64, dim*dim)
	z, prev := append([]float64(nil), s...), make([]float64, dim*dim)
	tk := 1.0
	for it := 0; it < eqLandweber; it++ {
		conv(z, r)
		for i := range r {
			r[i] = want[i] - r[i]
		}
		conv(r, g) // the kernel is symmetric: Kᵀ = K
		copy(prev, s)
		for i := range s {
			if !known[i] {
				s[i] = math.Max(0, math.Min(1, z[i]+eqStep*g[i]))
			}
		}
		tn := (1 + math.Sqrt(1+4*tk*tk)) / 2
		for i := range z {
			z[i] = s[i] + (tk-1)/tn*(s[i]-prev[i])
		}
		tk = tn
	}
	for i := range s {
		if !known[i] {
			s[i] = math.Round(s[i])
		}
	}
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			B[y*dim+x] = blurred(x, y)
		}
	}
	// Whole lines at a time: each row, then each column, set to the
	// modules that best explain the greys of it and of the lines beside
	// it, the other lines held (lineViterbi), the levels fitted again
	// after each round.
	for round := 0; round < eqRounds; round++ {
		for _, cols := range []bool{false, true} {
			for l := 0; l < dim; l++ {
				lineViterbi(s, vals, paper, ink, B, known, k, dim, l, cols)
			}
		}
		if !fit() {
			return nil
		}
	}
	for sweep := 0; sweep < eqSweeps; sweep++ {
		// The levels settle with the first decisions; later passes
		// only update the blurred pattern. The first pass takes the
		// levels the last round fitted, to the modules as they stand.
		if sweep > 0 && sweep < eqFits && !fit() {
			return nil
		}
		flips := 0
		for y := 0; y < dim; y++ {
			for x := 0; x < dim; x++ {
				i := y*dim + x
				if known[i] {
					continue
				}
				// Turning module i dark (d = +1) or light (−1) changes
				// the model at each neighbour j by −ink_j·d·k(j−i).
				d := 1 - 2*s[i]
				gain := 0.0
				neighbours(k, dim, x, y, func(j int, w float64) {
					delta := -ink[j] * d * w
					r := vals[j] - (paper[j] - ink[j]*B[j])
					gain += r*r - (r-delta)*(r-delta)
				})
				if gain <= 0 {
					continue
				}
				s[i] += d
				flips++
				neighbours(k, dim, x, y, func(j int, w float64) { B[j] += d * w })
			}
		}
		if flips == 0 {
			break
		}
	}
	blockSweeps(s, vals, paper, ink, B, known, k, dim)
	bits, err := gozxing.NewSquareBitMatrix(dim)
	if err != nil {
		return nil
	}
	for i, v := range s {
		if v > 0.5 {
			bits.Set(i%dim, i/dim)
		}
	}
	return bits
}

// eqBlocks are the groups of modules (offsets from a module) that
// blockSweeps turns together: two or three in a row or a column, two
// diagonal neighbours, and a 2×2 square.
var eqBlocks = [][][2]int{
	{{0, 0}, {1, 0}},
	{{0, 0}, {0, 1}},
	{{0, 0}, {1, 1}},
	{{1, 0}, {0, 1}},
	{{0, 0}, {1, 0}, {2, 0}},
	{{0, 0}, {0, 1}, {0, 2}},
	{{0, 0}, {1, 0}, {0, 1}, {1, 1}},
}

// eqPairOffsets are the offsets between two modules of one group of
// eqBlocks, each pair once (the second module below the first, or right
// of it on its row), and the module itself first.
var eqPairOffsets = [][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}, {-1, 1}, {2, 0}, {0, 2}}

// blockSweeps turns groups of modules (eqBlocks) of s at once, each group
// to whichever inks make the model explain the greys around it best, until
// a pass turns none or eqSweeps passes have run. Blur over more than half
// a module makes two to four neighbouring modules read wrongly together:
// turning any one of them alone explains the greys worse, and the
// single-module passes leave them. B is kept the blurred pattern of s.
//
// The model's error falls, when modules i turn by d_i (+1 dark, −1
// light), by Σ d_i·G_i − Σ d_i·d_i'·Q_ii': G_i = −2 Σ_j r_j·ink_j·w_ij
// (r the residual greys, w the kernel) and Q_ii' = Σ_j ink_j²·w_ij·w_i'j.
// Q depends on the levels only, so it is tabulated once; G changes near
// each turn.
func blockSweeps(s, vals, paper, ink, B []float64, known []bool, k []float64, dim int) {
	n := 2*eqRadius + 1
	w := func(dx, dy int) float64 {
		if dx < -eqRadius || dx > eqRadius || dy < -eqRadius || dy > eqRadius {
			return 0
		}
		return k[(dy+eqRadius)*n+dx+eqRadius]
	}
	r := make([]float64, dim*dim)
	for j := range r {
		r[j] = vals[j] - (paper[j] - ink[j]*B[j])
	}
	G := make([]float64, dim*dim)
	for i := range G {
		neighbours(k, dim, i%dim, i/dim, func(j int, wt float64) { G[i] -= 2 * r[j] * ink[j] * wt })
	}
	Q := make([][]float64, len(eqPairOffsets))
	for o, off := range eqPairOffsets {
		Q[o] = make([]float64, dim*dim)
		for y := 0; y < dim; y++ {
			for x := 0; x < dim; x++ {
				if known[y*dim+x] {
					continue // never turned
				}
				sum := 0.0
				for dy := max(-eqRadius, -y, off[1]-eqRadius); dy <= eqRadius && y+dy < dim && dy-off[1] <= eqRadius; dy++ {
					for dx := max(-eqRadius, -x, off[0]-eqRadius); dx <= eqRadius && x+dx < dim && dx-off[0] <= eqRadius; dx++ {
						j := (y+dy)*dim + x + dx
						sum += ink[j] * ink[j] * k[(dy+eqRadius)*n+dx+eqRadius] * k[(dy-off[1]+eqRadius)*n+dx-off[0]+eqRadius]
					}
				}
				Q[o][y*dim+x] = sum
			}
		}
	}
	// q is Q between modules a and b of a group (offsets from its place).
	q := func(i int, a, b [2]int) float64 {
		d := [2]int{b[0] - a[0], b[1] - a[1]}
		if d[1] < 0 || d[1] == 0 && d[0] < 0 {
			d, a = [2]int{-d[0], -d[1]}, b
		}
		for o, off := range eqPairOffsets {
			if off == d {
				return Q[o][i+a[1]*dim+a[0]]
			}
		}
		return 0
	}
	for sweep := 0; sweep < eqSweeps; sweep++ {
		flips := 0
		for y := 0; y < dim; y++ {
			for x := 0; x < dim; x++ {
				i := y*dim + x
			group:
				for _, g := range eqBlocks {
					var d [4]float64
					gain := 0.0
					for a, o := range g {
						xx, yy := x+o[0], y+o[1]
						if xx >= dim || yy >= dim || known[yy*dim+xx] {
							continue group
						}
						d[a] = 1 - 2*s[yy*dim+xx]
						gain += d[a]*G[yy*dim+xx] - Q[0][yy*dim+xx]
						for b := 0; b < a; b++ {
							gain -= 2 * d[a] * d[b] * q(i, g[b], o)
						}
					}
					if gain <= 1e-9 {
						continue
					}
					flips++
					// The model changes by δ_j = −ink_j·Σ d_a·w around
					// the group; the residuals by −δ, G beside them.
					for a, o := range g {
						s[i+o[1]*dim+o[0]] += d[a]
					}
					for jy := max(0, y-eqRadius); jy <= min(dim-1, y+2+eqRadius); jy++ {
						for jx := max(0, x-eqRadius); jx <= min(dim-1, x+2+eqRadius); jx++ {
							j := jy*dim + jx
							b := 0.0
							for a, o := range g {
								b += d[a] * w(jx-x-o[0], jy-y-o[1])
							}
							if b == 0 {
								continue
							}
							B[j] += b
							delta := -ink[j] * b
							r[j] -= delta
							neighbours(k, dim, jx, jy, func(i2 int, wt float64) { G[i2] += 2 * delta * ink[j] * wt })
						}
					}
				}
			}
		}
		if flips == 0 {
			return
		}
	}
}

// solveLinear solves the 12×12 system a·x = b by Gaussian elimination with
// partial pivoting; ok is false when a is singular.
func solveLinear(a [12][12]float64, b [12]float64) (x [12]float64, ok bool) {
	const n = 12
	for col := 0; col < n; col++ {
		p := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if math.Abs(a[p][col]) < 1e-9 {
			return x, false
		}
		a[col], a[p] = a[p], a[col]
		b[col], b[p] = b[p], b[col]
		for r := col + 1; r < n; r++ {
			f := a[r][col] / a[col][col]
			for c := col; c < n; c++ {
				a[r][c] -= f * a[col][c]
			}
			b[r] -= f * b[col]
		}
	}
	for r := n - 1; r >= 0; r-- {
		s := b[r]
		for c := r + 1; c < n; c++ {
			s -= a[r][c] * x[c]
		}
		x[r] = s / a[r][r]
	}
	return x, true
}

// cloneBits returns a copy of the matrix b: gozxing's QR decoder unmasks
// (and may mirror) the matrix it is given in place.
func cloneBits(b *gozxing.BitMatrix) *gozxing.BitMatrix {
	c, err := gozxing.NewBitMatrix(b.GetWidth(), b.GetHeight())
	if err != nil {
		return nil
	}
	for y := 0; y < b.GetHeight(); y++ {
		for x := 0; x < b.GetWidth(); x++ {
			if b.Get(x, y) {
				c.Set(x, y)
			}
		}
	}
	return c
}

// lineViterbi sets line l of the modules s (dim×dim, 1 dark; a row, or
// with cols a column) to the dark and light modules that best explain,
// in least squares, the greys vals of that line and of the lines either
// side of it, all other lines held, under the kernel k and the levels
// paper and ink: a Viterbi search whose state is the four modules before
// the one it decides (the kernel reaches two either way). Modules the
// standard fixes keep their value, and those beyond the symbol are
// light. B, the kernel applied to s, is kept up to date.
func lineViterbi(s, vals, paper, ink, B []float64, known []bool, k []float64, dim, l int, cols bool) {
	n := 2*eqRadius + 1
	idx := func(line, pos int) int {
		if cols {
			return pos*dim + line
		}
		return line*dim + pos
	}
	kw := func(along, across int) float64 { return k[(across+eqRadius)*n+along+eqRadius] }
	// fixed[a+1][p]: the blurred pattern at (l+a, p) without line l.
	var fixed [3][]float64
	for a := -1; a <= 1; a++ {
		if l+a < 0 || l+a >= dim {
			continue
		}
		f := make([]float64, dim)
		for p := 0; p < dim; p++ {
			b := B[idx(l+a, p)]
			for d := -eqRadius; d <= eqRadius; d++ {
				if q := p + d; q >= 0 && q < dim {
					b -= kw(d, a) * s[idx(l, q)]
				}
			}
			f[p] = b
		}
		fixed[a+1] = f
	}
	// forced returns the value module q of the line must take, if any.
	forced := func(q int) (int, bool) {
		if q < 0 || q >= dim {
			return 0, true
		}
		if i := idx(l, q); known[i] {
			return int(s[i] + 0.5), true
		}
		return 0, false
	}
	// wsum[a+1][w] is the kernel's weight on line l+a of the dark
	// modules of window w (bit i: module p−2+i).
	var wsum [3][32]float64
	for a := -1; a <= 1; a++ {
		for w := range 32 {
			for d := -eqRadius; d <= eqRadius; d++ {
				if w>>(d+eqRadius)&1 == 1 {
					wsum[a+1][w] += kw(d, a)
				}
			}
		}
	}
	// cost of the window w at position p.
	cost := func(p, w int) float64 {
		c := 0.0
		for a := -1; a <= 1; a++ {
			f := fixed[a+1]
			if f == nil {
				continue
			}
			j := idx(l+a, p)
			r := vals[j] - paper[j] + ink[j]*(f[p]+wsum[a+1][w])
			c += r * r
		}
		return c
	}
	inf := math.Inf(1)
	cur := make([]float64, 16)
	for st := range cur {
		cur[st] = inf
		// Bits 0, 1: modules −2, −1 (light); bits 2, 3: modules 0, 1.
		if st&3 != 0 {
			continue
		}
		ok := true
		for b := 2; b < 4; b++ {
			if v, f := forced(b - 2); f && v != st>>b&1 {
				ok = false
			}
		}
		if ok {
			cur[st] = 0
		}
	}
	back := make([][16]int8, dim)
	next := make([]float64, 16)
	for p := 0; p < dim; p++ {
		for i := range next {
			next[i] = inf
		}
		fv, isForced := forced(p + 2)
		for st, c := range cur {
			if c == inf {
				continue
			}
			for nb := 0; nb < 2; nb++ {
				if isForced && nb != fv {
					continue
				}
				w := st | nb<<4
				if t := c + cost(p, w); t < next[w>>1] {
					next[w>>1] = t
					back[p][w>>1] = int8(st)
				}
			}
		}
		cur, next = next, cur
	}
	best := 0
	for st, c := range cur {
		if c < cur[best] {
			best = st
		}
	}
	if cur[best] == inf {
		return
	}
	line := make([]float64, dim)
	st := best
	for p := dim - 1; p >= 0; p-- {
		if q := p + 2; q < dim {
			line[q] = float64(st >> 3 & 1)
		}
		st = int(back[p][st])
	}
	line[0], line[1] = float64(st>>2&1), float64(st>>3&1)
	// Write the line back and update B over the lines it reaches.
	for p := 0; p < dim; p++ {
		i := idx(l, p)
		d := line[p] - s[i]
		if d == 0 {
			continue
		}
		s[i] = line[p]
		for a := -eqRadius; a <= eqRadius; a++ {
			if l+a < 0 || l+a >= dim {
				continue
			}
			for e := -eqRadius; e <= eqRadius; e++ {
				if q := p + e; q >= 0 && q < dim {
					B[idx(l+a, q)] += d * kw(e, a)
				}
			}
		}
	}
}
