package scan

import (
	"math"
	"slices"
	"sort"
)

// Localisation parameters, tuned on synthetic label photos.
const (
	// cellSize is the side of the square cells, in pixels of the working
	// plane, over which gradient statistics are gathered.
	cellSize = 8
	// minCellEnergy is the mean squared gradient a cell needs to count as
	// textured (a barcode edge of contrast 60 over 2 px gives ~ 900).
	minCellEnergy = 250
	// minCoherence is how strongly one gradient direction must dominate a
	// cell for it to look like bars (1 = all edges parallel).
	minCoherence = 0.75
	// strongCoherence is the coherence at which a cell counts as bars on
	// its own even when its pooled neighbourhood does not.
	strongCoherence = 0.95
	// maxAngleDiff is how far apart (radians) the bar directions of two
	// neighbouring cells may be to join one region.
	maxAngleDiff = 0.2
	// spanPaired is the span of locateWith that measures gradients with
	// cellTensorPaired.
	spanPaired = 0
	// minRegionCells is the smallest region worth reading (cells).
	minRegionCells = 4
	// maxRegions is how many regions, largest first, are always read at
	// full resolution.
	maxRegions = 12
	// sheetPeers is how many regions of one kind (bars, 2D), each at
	// least 1/peerShare the size of the largest of that kind, make a
	// photo look like a sheet of labels. Then up to maxSheetRegions of
	// that kind are read, largest first: an A4 sheet of 24 labels has 24
	// bars regions and 24 QR-and-text regions, and one budget of 12 went
	// to the larger QR regions alone, so no Code 128 was read. A photo of
	// one label keeps the budget of 12.
	sheetPeers      = 10
	peerShare       = 8
	maxSheetRegions = 32
	// maxMergeRegions bounds how many regions of each kind, largest
	// first, take part in joining the pieces of split barcodes (a
	// quadratic step).
	maxMergeRegions = 4 * maxSheetRegions
	// maxBarGap is the widest gap (working-plane pixels) between two
	// pieces of bars joined as one barcode: wider than the holes thin or
	// wide bars leave (three cells on an A4 sheet at 203 dpi). Two codes
	// side by side may join too; a region's rows read several codes.
	maxBarGap = 4 * cellSize
)

// region is an area of the working plane that looks like a barcode.
type region struct {
	bars   bool    // parallel bars (1D) rather than a 2D texture
	angle  float64 // gradient direction across the bars, radians
	cx, cy float64 // centre, working-plane pixels
	// Extent along the gradient (u) and along the bars (v), in pixels.
	lenU, lenV float64
	cells      int
}

// cellStat is the structure tensor of one cell.
type cellStat struct {
	energy, coherence, angle float64
}

// locate finds regions that look like barcodes, largest first, in the
// coordinates of p downscaled by f. Gradients are measured on p itself at
// every f-th pixel: downscaling first would alias fine bars into patterns
// of another direction.
func locate(p plane, f int) []region { return locateWith(p, f, minCellEnergy, 1) }

// locateWith is locate with cells of at least energy counted as textured
// (a negative energy -k: k times the median cell's, see adaptiveEnergy)
// and gradients measured over span pixels (see cellTensor), or paired
// (spanPaired, see cellTensorPaired).
func locateWith(p plane, f int, energy float64, span int) []region {
	cw, ch := p.w/f/cellSize, p.h/f/cellSize
	if cw < 2 || ch < 2 {
		return nil
	}
	raw := make([]tensor, cw*ch)
	for cy := 0; cy < ch; cy++ {
		for cx := 0; cx < cw; cx++ {
			switch {
			case span == spanPaired:
				raw[cy*cw+cx] = cellTensorPaired(p, f, cx*cellSize, cy*cellSize)
			case span > 1:
				raw[cy*cw+cx] = cellTensorSpan(p, f, cx*cellSize, cy*cellSize, span)
			default:
				raw[cy*cw+cx] = cellTensor(p, f, cx*cellSize, cy*cellSize)
			}
		}
	}
	// Pool each cell with its neighbours: wide bars and spaces leave
	// single cells without edges, which would split one barcode into
	// pieces.
	stats := make([]cellStat, cw*ch)
	for cy := 0; cy < ch; cy++ {
		for cx := 0; cx < cw; cx++ {
			var t tensor
			n := 0
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := cx+dx, cy+dy
					if x >= 0 && y >= 0 && x < cw && y < ch {
						r := raw[y*cw+x]
						t.xx, t.yy, t.xy = t.xx+r.xx, t.yy+r.yy, t.xy+r.xy
						n++
					}
				}
			}
			st := t.stat(n)
			if st.coherence < minCoherence {
				// Short bars between text and a QR code: the pool mixes
				// in their texture, the cell alone is clearly bars.
				if own := raw[cy*cw+cx].stat(1); own.coherence >= strongCoherence && own.energy >= minCellEnergy {
					st = own
				}
			}
			stats[cy*cw+cx] = st
		}
	}
	if energy < 0 {
		energy = adaptiveEnergy(stats, -energy)
	}
	label := make([]int, cw*ch)
	var regions []region
	next := 0
	for i := range stats {
		if label[i] != 0 || stats[i].energy < energy {
			continue
		}
		bars := stats[i].coherence >= minCoherence
		next++
		cells := flood(stats, label, cw, ch, i, next, bars, energy)
		if len(cells) < minRegionCells {
			continue
		}
		regions = append(regions, describe(stats, cells, cw, bars))
	}
	bySize := func() {
		sort.SliceStable(regions, func(a, b int) bool { return regions[a].cells > regions[b].cells })
	}
	bySize()
	regions = capRegions(regions, maxMergeRegions)
	if mergeBars(regions) {
		bySize()
	}
	return extendBars(p, f, keepRegions(regions))
}

// keepRegions keeps, from regions sorted largest first, the maxRegions
// largest and, for a kind with sheetPeers similar regions, up to
// maxSheetRegions of that kind; regions without cells go.
func keepRegions(regions []region) []region {
	largest, peers := map[bool]int{}, map[bool]int{}
	for _, r := range regions {
		largest[r.bars] = max(largest[r.bars], r.cells)
	}
	for _, r := range regions {
		if r.cells > 0 && r.cells*peerShare >= largest[r.bars] {
			peers[r.bars]++
		}
	}
	out := regions[:0]
	kept := map[bool]int{}
	for _, r := range regions {
		if r.cells == 0 || kept[r.bars] >= maxSheetRegions {
			continue
		}
		if len(out) < maxRegions || peers[r.bars] >= sheetPeers {
			kept[r.bars]++
			out = append(out, r)
		}
	}
	return out
}

// mergeBars joins bars regions that are pieces of one barcode: bars of the
// same direction, side by side along the gradient with a gap of at most
// maxBarGap and centred on one line. Thin bars sampled every f-th pixel
// lose edges, and short bars between text and a neighbour's QR code pool
// into incoherent cells, which splits a code into pieces too narrow to read.
// Merged-away regions get zero cells. It reports whether any merged.
func mergeBars(regions []region) bool {
	merged := false
	for again := true; again; {
		again = false
		for i := range regions {
			a := &regions[i]
			if !a.bars || a.cells == 0 {
				continue
			}
			cos, sin := math.Cos(a.angle), math.Sin(a.angle)
			for j := range regions {
				b := &regions[j]
				if j == i || !b.bars || b.cells == 0 || angleDiff(a.angle, b.angle) > maxAngleDiff {
					continue
				}
				dx, dy := b.cx-a.cx, b.cy-a.cy
				du, dv := dx*cos+dy*sin, -dx*sin+dy*cos
				if math.Abs(du)-(a.lenU+b.lenU)/2 > maxBarGap || math.Abs(dv) > math.Min(a.lenV, b.lenV)/2 {
					continue
				}
				u0, u1 := math.Min(-a.lenU/2, du-b.lenU/2), math.Max(a.lenU/2, du+b.lenU/2)
				v0, v1 := math.Min(-a.lenV/2, dv-b.lenV/2), math.Max(a.lenV/2, dv+b.lenV/2)
				mu, mv := (u0+u1)/2, (v0+v1)/2
				a.cx, a.cy = a.cx+mu*cos-mv*sin, a.cy+mu*sin+mv*cos
				a.lenU, a.lenV = u1-u0, v1-v0
				a.cells += b.cells
				b.cells = 0
				merged, again = true, true
			}
		}
	}
	return merged
}

// capRegions keeps the first n regions of each kind, in order, and drops
// regions without cells.
func capRegions(regions []region, n int) []region {
	out := regions[:0]
	var bars, twoD int
	for _, r := range regions {
		if r.cells == 0 {
			continue
		}
		k := &twoD
		if r.bars {
			k = &bars
		}
		if *k < n {
			*k++
			out = append(out, r)
		}
	}
	return out
}

// tensor is a structure tensor: sums of gx², gy² and gx·gy.
type tensor struct{ xx, yy, xy float64 }

// stat summarises a tensor pooled over n cells.
func (t tensor) stat(n int) cellStat {
	sum := t.xx + t.yy
	if sum == 0 {
		return cellStat{}
	}
	return cellStat{energy: sum / float64(n*cellSize*cellSize), coherence: t.coherence(), angle: 0.5 * math.Atan2(2*t.xy, t.xx-t.yy)}
}

// coherence is how strongly one gradient direction dominates t (see stat).
func (t tensor) coherence() float64 {
	sum := t.xx + t.yy
	if sum == 0 {
		return 0
	}
	return math.Sqrt((t.xx-t.yy)*(t.xx-t.yy)+4*t.xy*t.xy) / sum
}

// cellTensor computes gradient statistics over one cell of the grid
// downscaled by f, sampling p every f pixels; a gradient is the
// difference of neighbouring pixels.
func cellTensor(p plane, f, x0, y0 int) tensor {
	var jxx, jyy, jxy float64
	for yl := y0; yl < y0+cellSize; yl++ {
		y := yl*f + f/2
		if y+1 >= p.h {
			break
		}
		r, rn := p.pix[y*p.stride:], p.pix[(y+1)*p.stride:]
		for xl := x0; xl < x0+cellSize; xl++ {
			x := xl*f + f/2
			if x+1 >= p.w {
				break
			}
			gx := float64(int(r[x+1]) - int(r[x]))
			gy := float64(int(rn[x]) - int(r[x]))
			jxx += gx * gx
			jyy += gy * gy
			jxy += gx * gy
		}
	}
	return tensor{jxx, jyy, jxy}
}

// cellTensorPaired is cellTensor for sharp bars at any angle. The two
// differences of cellTensor, with the right and the lower neighbour, lie
// half a pixel apart: on sharp edges that fall from top left to bottom
// right (bars whose normal points between -90° and 0°) one sees an edge
// where the other does not, their correlation cancels, and the cell looks
// like 2D texture or bars turned by up to 90° (or slanted by 6° at -15°).
// Here the horizontal difference is also taken with the left neighbour,
// which mirrors the fault, and the cell keeps the more coherent of the
// two tensors.
func cellTensorPaired(p plane, f, x0, y0 int) tensor {
	var right, left tensor
	for yl := y0; yl < y0+cellSize; yl++ {
		y := yl*f + f/2
		if y+1 >= p.h {
			break
		}
		r, rn := p.pix[y*p.stride:], p.pix[(y+1)*p.stride:]
		for xl := x0; xl < x0+cellSize; xl++ {
			x := xl*f + f/2
			if x+1 >= p.w {
				break
			}
			a := int(r[x])
			gy := float64(int(rn[x]) - a)
			gx := float64(int(r[x+1]) - a)
			right.xx += gx * gx
			right.yy += gy * gy
			right.xy += gx * gy
			if x > 0 {
				gx = float64(a - int(r[x-1]))
			}
			left.xx += gx * gx
			left.yy += gy * gy
			left.xy += gx * gy
		}
	}
	if left.coherence() > right.coherence() {
		return left
	}
	return right
}

// softTensor returns the sum of the structure tensors (gradients over
// softSpan pixels) of the cells from (x0, y0) on, a cell apart, that lie
// within (x1, y1) (working-plane pixels, f image pixels to one), and how
// many cells it took.
func softTensor(p plane, f, x0, y0, x1, y1 int) (tensor, int) {
	return boxTensor(p, f, x0, y0, x1, y1, softCell)
}

// boxTensor is softTensor with the cells' tensors from cell.
func boxTensor(p plane, f, x0, y0, x1, y1 int, cell func(p plane, f, x, y int) tensor) (tensor, int) {
	var t tensor
	n := 0
	for y := y0; y+cellSize <= y1; y += cellSize {
		for x := x0; x+cellSize <= x1; x += cellSize {
			c := cell(p, f, x, y)
			t.xx, t.yy, t.xy = t.xx+c.xx, t.yy+c.yy, t.xy+c.xy
			n++
		}
	}
	return t, n
}

// softCell is a cell's tensor with gradients over softSpan pixels.
func softCell(p plane, f, x, y int) tensor { return cellTensorSpan(p, f, x, y, softSpan) }

// cellTensorSpan is cellTensor with gradients measured between pixels
// span apart, averaged over span rows (or columns) and divided by span²
// (gradients per pixel): noise averages out while edges blurred over
// several pixels keep their slope.
func cellTensorSpan(p plane, f, x0, y0, span int) tensor {
	var jxx, jyy, jxy float64
	norm := 1 / float64(span*span)
	for yl := y0; yl < y0+cellSize; yl++ {
		y := yl*f + f/2 - span/2
		if y < 0 || y+span >= p.h {
			continue
		}
		for xl := x0; xl < x0+cellSize; xl++ {
			x := xl*f + f/2 - span/2
			if x < 0 || x+span >= p.w {
				continue
			}
			var gx, gy int
			for k := 0; k < span; k++ {
				r := p.pix[(y+k)*p.stride+x:]
				gx += int(r[span]) - int(r[0])
				gy += int(p.pix[(y+span)*p.stride+x+k]) - int(p.pix[y*p.stride+x+k])
			}
			fx, fy := float64(gx)*norm, float64(gy)*norm
			jxx += fx * fx
			jyy += fy * fy
			jxy += fx * fy
		}
	}
	return tensor{jxx, jyy, jxy}
}

// flood labels the connected cells of one kind reachable from start.
func flood(stats []cellStat, label []int, cw, ch, start, id int, bars bool, energy float64) []int {
	stack := []int{start}
	label[start] = id
	var cells []int
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		cells = append(cells, i)
		x, y := i%cw, i/cw
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				nx, ny := x+dx, y+dy
				if nx < 0 || ny < 0 || nx >= cw || ny >= ch {
					continue
				}
				j := ny*cw + nx
				if label[j] != 0 || stats[j].energy < energy || (stats[j].coherence >= minCoherence) != bars {
					continue
				}
				if bars && angleDiff(stats[j].angle, stats[start].angle) > maxAngleDiff {
					continue
				}
				label[j] = id
				stack = append(stack, j)
			}
		}
	}
	return cells
}

// angleDiff is the difference of two line directions (mod π).
func angleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), math.Pi)
	return math.Min(d, math.Pi-d)
}

// describe summarises a set of cells as a region.
func describe(stats []cellStat, cells []int, cw int, bars bool) region {
	var sx, sy, ex, ey float64
	for _, i := range cells {
		s := stats[i]
		w := s.energy * s.coherence
		sx += w * math.Cos(2*s.angle)
		sy += w * math.Sin(2*s.angle)
		ex += float64(i%cw) + 0.5
		ey += float64(i/cw) + 0.5
	}
	n := float64(len(cells))
	r := region{bars: bars, cells: len(cells), cx: ex / n * cellSize, cy: ey / n * cellSize}
	if bars {
		r.angle = 0.5 * math.Atan2(sy, sx)
	}
	cos, sin := math.Cos(r.angle), math.Sin(r.angle)
	u0, u1, v0, v1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, i := range cells {
		dx := (float64(i%cw)+0.5)*cellSize - r.cx
		dy := (float64(i/cw)+0.5)*cellSize - r.cy
		u, v := dx*cos+dy*sin, -dx*sin+dy*cos
		u0, u1, v0, v1 = math.Min(u0, u), math.Max(u1, u), math.Min(v0, v), math.Max(v1, v)
	}
	// Re-centre on the box and count whole cells on both sides.
	du, dv := (u0+u1)/2, (v0+v1)/2
	r.cx += du*cos - dv*sin
	r.cy += du*sin + dv*cos
	r.lenU, r.lenV = u1-u0+cellSize, v1-v0+cellSize
	return r
}

// adaptiveEnergy returns the texture threshold of a faint label: times
// the median energy of the cells (the photo's background and its noise),
// at least faintCellEnergy.
func adaptiveEnergy(stats []cellStat, times float64) float64 {
	es := make([]float64, len(stats))
	for i, s := range stats {
		es[i] = s.energy
	}
	slices.Sort(es)
	return math.Max(faintCellEnergy, times*es[len(es)/2])
}
