package labels

import (
	"math/bits"
	"sync"

	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// This file holds the hot parts of EncodeQR, written for speed (a batch of
// 10,000 labels encodes 10,000 symbols): Reed–Solomon over GF(256) with log
// tables, and mask choice that builds the matrix once and scores the eight
// masks on a flat copy (ISO/IEC 18004 §7.8.3 penalty rules N1–N4).

// gf256 holds exp/log tables for GF(256) with the QR polynomial 0x11D.
var gf256 = func() (t struct {
	exp [512]byte
	log [256]byte
}) {
	x := 1
	for i := 0; i < 255; i++ {
		t.exp[i] = byte(x)
		t.log[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < 512; i++ {
		t.exp[i] = t.exp[i-255]
	}
	return t
}()

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gf256.exp[int(gf256.log[a])+int(gf256.log[b])]
}

// generators caches Reed–Solomon generator polynomials by degree, highest
// coefficient (always 1) dropped.
var generators sync.Map

func generator(degree int) []byte {
	if g, ok := generators.Load(degree); ok {
		return g.([]byte)
	}
	g := []byte{1} // highest degree first
	for i := 0; i < degree; i++ {
		next := make([]byte, len(g)+1)
		for j, c := range g {
			next[j] ^= c
			next[j+1] ^= gfMul(c, gf256.exp[i])
		}
		g = next
	}
	g = g[1:]
	generators.Store(degree, g)
	return g
}

// rsEncode returns the ec error correction bytes of data.
func rsEncode(data []byte, ec int) []byte {
	gen := generator(ec)
	rem := make([]byte, ec)
	for _, d := range data {
		f := d ^ rem[0]
		copy(rem, rem[1:])
		rem[ec-1] = 0
		if f != 0 {
			lf := int(gf256.log[f])
			for i, g := range gen {
				if g != 0 {
					rem[i] ^= gf256.exp[lf+int(gf256.log[g])]
				}
			}
		}
	}
	return rem
}

// maskBit reports whether mask pattern m flips the module at column x, row y.
func maskBit(m, x, y int) bool {
	switch m {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return (x*y)%2+(x*y)%3 == 0
	case 6:
		return ((x*y)%2+(x*y)%3)%2 == 0
	default:
		return ((x*y)%3+(x+y)%2)%2 == 0
	}
}

// functionModules marks the modules that hold no data: finder patterns and
// separators with the format information, timing patterns, alignment
// patterns and version information.
func functionModules(v *decoder.Version) []bool {
	n := v.GetDimensionForVersion()
	f := make([]bool, n*n)
	set := func(x0, y0, x1, y1 int) {
		for y := max(y0, 0); y < min(y1, n); y++ {
			for x := max(x0, 0); x < min(x1, n); x++ {
				f[y*n+x] = true
			}
		}
	}
	set(0, 0, 9, 9)
	set(n-8, 0, n, 9)
	set(0, n-8, 9, n)
	set(6, 0, 7, n)
	set(0, 6, n, 7)
	if v.GetVersionNumber() >= 7 {
		set(n-11, 0, n-8, 6)
		set(0, n-11, 6, n-8)
	}
	c := v.GetAlignmentPatternCenters()
	for i, cy := range c {
		for j, cx := range c {
			if i == 0 && j == 0 || i == 0 && j == len(c)-1 || i == len(c)-1 && j == 0 {
				continue // overlaps a finder pattern
			}
			set(cx-2, cy-2, cx+3, cy+3)
		}
	}
	return f
}

// maskFlips caches, per version, the data modules whose colour differs
// between mask 0 and each mask m (index m), as row and column bitsets
// (bit x of rows[m][y] is module x of row y; cols is the transpose).
var maskFlips sync.Map

type flipSet struct{ rows, cols [8][]uint64 }

func flipsFor(v *decoder.Version) *flipSet {
	if f, ok := maskFlips.Load(v.GetVersionNumber()); ok {
		return f.(*flipSet)
	}
	n := v.GetDimensionForVersion()
	fn := functionModules(v)
	fs := new(flipSet)
	for m := 0; m < 8; m++ {
		fs.rows[m], fs.cols[m] = make([]uint64, n), make([]uint64, n)
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				if !fn[y*n+x] && maskBit(0, x, y) != maskBit(m, x, y) {
					fs.rows[m][y] |= 1 << x
					fs.cols[m][x] |= 1 << y
				}
			}
		}
	}
	f, _ := maskFlips.LoadOrStore(v.GetVersionNumber(), fs)
	return f.(*flipSet)
}

// bestMask takes the matrix built with mask 0 and returns the mask with the
// lowest penalty; format bits are scored as for mask 0. Symbols up to 64
// modules wide (version 11) are scored with bitsets, larger ones module by
// module.
func bestMask(m0 *encoder.ByteMatrix, v *decoder.Version) int {
	n := m0.GetWidth()
	if n > 64 {
		return bestMaskScalar(m0, v)
	}
	fs := flipsFor(v)
	base, baseT := make([]uint64, n), make([]uint64, n)
	for y, row := range m0.GetArray() {
		for x, c := range row {
			if c == 1 {
				base[y] |= 1 << x
				baseT[x] |= 1 << y
			}
		}
	}
	rows, cols := make([]uint64, n), make([]uint64, n)
	best, bestP := 0, -1
	for m := 0; m < 8; m++ {
		for i := range n {
			rows[i] = base[i] ^ fs.rows[m][i]
			cols[i] = baseT[i] ^ fs.cols[m][i]
		}
		if p := penaltyBits(rows, cols, n); bestP < 0 || p < bestP {
			best, bestP = m, p
		}
	}
	return best
}

// bestMaskScalar is bestMask for any size, on a flat byte matrix.
func bestMaskScalar(m0 *encoder.ByteMatrix, v *decoder.Version) int {
	n := m0.GetWidth()
	fn := functionModules(v)
	base := make([]byte, n*n)
	for y, row := range m0.GetArray() {
		for x, c := range row {
			base[y*n+x] = byte(c)
		}
	}
	cur := make([]byte, n*n)
	best, bestP := 0, -1
	for m := 0; m < 8; m++ {
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				i := y*n + x
				cur[i] = base[i]
				if !fn[i] && maskBit(0, x, y) != maskBit(m, x, y) {
					cur[i] ^= 1
				}
			}
		}
		if p := penalty(cur, n); bestP < 0 || p < bestP {
			best, bestP = m, p
		}
	}
	return best
}

// penaltyBits is penalty for a symbol of n ≤ 64 modules given as row and
// column bitsets.
func penaltyBits(rows, cols []uint64, n int) int {
	valid := func(k int) uint64 { // bits 0..k-1
		if k <= 0 {
			return 0
		}
		if k >= 64 {
			return ^uint64(0)
		}
		return 1<<k - 1
	}
	v1, v4, v6 := valid(n-1), valid(n-4), valid(n-6)
	p, dark := 0, 0
	for _, lines := range [2][]uint64{rows, cols} {
		for _, r := range lines {
			// N1: Q marks starts of five equal modules; a run of L ≥ 5 gives
			// L-4 marks and scores 3+(L-5) = (L-4)+2.
			e := ^(r ^ (r >> 1)) & v1
			q := e & (e >> 1) & (e >> 2) & (e >> 3) & v4
			p += bits.OnesCount64(q) + 2*bits.OnesCount64(q&^(q<<1))
			// N3: 1011101 at x with four light modules before or after
			// (outside the symbol is light).
			l := ^r
			f := r & (l >> 1) & (r >> 2) & (r >> 3) & (r >> 4) & (l >> 5) & (r >> 6) & v6
			before := ((l << 1) | 1) & ((l << 2) | 3) & ((l << 3) | 7) & ((l << 4) | 15)
			after := (l >> 7) & (l >> 8) & (l >> 9) & (l >> 10)
			p += 40 * bits.OnesCount64(f&(before|after))
		}
	}
	for y, r := range rows {
		dark += bits.OnesCount64(r)
		if y < n-1 {
			s := rows[y+1]
			p += 3 * bits.OnesCount64(^(r^(r>>1)) & ^(s^(s>>1)) & ^(r^s) & v1)
		}
	}
	dist := dark*2 - n*n
	if dist < 0 {
		dist = -dist
	}
	return p + dist*10/(n*n)*10
}

// penalty scores a flat n×n module matrix (1 = dark) by rules N1–N4,
// scoring exactly as gozxing's MaskUtil (checked in tests).
func penalty(m []byte, n int) int {
	t := make([]byte, n*n) // transposed: columns as rows
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			t[x*n+y] = m[y*n+x]
		}
	}
	p := linePenalty(m, n) + linePenalty(t, n)
	dark := 0
	for y := 0; y < n; y++ {
		row := m[y*n : y*n+n]
		for _, c := range row {
			dark += int(c)
		}
		if y == n-1 {
			break
		}
		next := m[(y+1)*n : (y+1)*n+n]
		for x := 0; x < n-1; x++ {
			if c := row[x]; c == row[x+1] && c == next[x] && c == next[x+1] {
				p += 3 // N2: 2×2 block of one colour
			}
		}
	}
	dist := dark*2 - n*n
	if dist < 0 {
		dist = -dist
	}
	return p + dist*10/(n*n)*10 // N4
}

// linePenalty scores the rows of m: N1 (runs of five or more modules of one
// colour) and N3 (1:1:3:1:1 finder-like patterns with four light modules on
// either side; outside the symbol counts as light). A 15-module window
// slides over each row padded with four light modules at both ends.
func linePenalty(m []byte, n int) int {
	const finder, window = 0x5D, 0x7FFF // 1011101
	p := 0
	for y := 0; y < n; y++ {
		row := m[y*n : y*n+n]
		run, last := 0, byte(2)
		for _, c := range row {
			if c == last {
				run++
				if run == 5 {
					p += 3
				} else if run > 5 {
					p++
				}
			} else {
				last, run = c, 1
			}
		}
		w := 0
		for k := 0; k < n+8; k++ {
			c := 0
			if k >= 4 && k < n+4 {
				c = int(row[k-4])
			}
			w = (w<<1 | c) & window
			if k >= 14 && (w>>4)&0x7F == finder && (w>>11 == 0 || w&0xF == 0) {
				p += 40
			}
		}
	}
	return p
}

// typeInfoCoords are the first copy of the 15 format information bits,
// least significant first (ISO/IEC 18004 §7.9).
var typeInfoCoords = [15][2]int{{8, 0}, {8, 1}, {8, 2}, {8, 3}, {8, 4}, {8, 5}, {8, 7}, {8, 8}, {7, 8}, {5, 8}, {4, 8}, {3, 8}, {2, 8}, {1, 8}, {0, 8}}

// typeInfo returns the 15-bit format information for a level and mask:
// 5 data bits, a BCH(15,5) remainder, XOR 0x5412.
func typeInfo(ec decoder.ErrorCorrectionLevel, mask int) int {
	info := ec.GetBits()<<3 | mask
	v := info << 10
	for b := 14; b >= 10; b-- {
		if v&(1<<b) != 0 {
			v ^= 0x537 << (b - 10)
		}
	}
	return (info<<10 | v) ^ 0x5412
}

// remask turns a matrix built with mask 0 into the one for mask m (symbols
// up to 64 modules): flip the data modules where the masks differ and write
// the format information for m. It saves building the matrix twice.
func remask(mat *encoder.ByteMatrix, v *decoder.Version, ec decoder.ErrorCorrectionLevel, m int) {
	n := mat.GetWidth()
	fs := flipsFor(v)
	for y := 0; y < n; y++ {
		for f := fs.rows[m][y]; f != 0; f &= f - 1 {
			x := bits.TrailingZeros64(f)
			mat.Set(x, y, 1-mat.Get(x, y))
		}
	}
	ti := typeInfo(ec, m)
	for i, c := range typeInfoCoords {
		bit := ti>>i&1 == 1
		mat.SetBool(c[0], c[1], bit)
		if i < 8 {
			mat.SetBool(n-1-i, 8, bit)
		} else {
			mat.SetBool(8, n-7+(i-8), bit)
		}
	}
}
