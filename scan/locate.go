package scan

import (
	"math"
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
	// maxAngleDiff is how far apart (radians) the bar directions of two
	// neighbouring cells may be to join one region.
	maxAngleDiff = 0.2
	// minRegionCells is the smallest region worth reading (cells).
	minRegionCells = 4
	// maxRegions bounds how many regions are read at full resolution.
	maxRegions = 12
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
func locate(p plane, f int) []region {
	cw, ch := p.w/f/cellSize, p.h/f/cellSize
	if cw < 2 || ch < 2 {
		return nil
	}
	raw := make([]tensor, cw*ch)
	for cy := 0; cy < ch; cy++ {
		for cx := 0; cx < cw; cx++ {
			raw[cy*cw+cx] = cellTensor(p, f, cx*cellSize, cy*cellSize)
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
			stats[cy*cw+cx] = t.stat(n)
		}
	}
	label := make([]int, cw*ch)
	var regions []region
	next := 0
	for i := range stats {
		if label[i] != 0 || stats[i].energy < minCellEnergy {
			continue
		}
		bars := stats[i].coherence >= minCoherence
		next++
		cells := flood(stats, label, cw, ch, i, next, bars)
		if len(cells) < minRegionCells {
			continue
		}
		regions = append(regions, describe(stats, cells, cw, bars))
	}
	regions = extendBars(p, f, regions)
	sort.Slice(regions, func(a, b int) bool { return regions[a].cells > regions[b].cells })
	if len(regions) > maxRegions {
		regions = regions[:maxRegions]
	}
	return regions
}

// tensor is a structure tensor: sums of gx², gy² and gx·gy.
type tensor struct{ xx, yy, xy float64 }

// stat summarises a tensor pooled over n cells.
func (t tensor) stat(n int) cellStat {
	sum := t.xx + t.yy
	if sum == 0 {
		return cellStat{}
	}
	coh := math.Sqrt((t.xx-t.yy)*(t.xx-t.yy)+4*t.xy*t.xy) / sum
	return cellStat{energy: sum / float64(n*cellSize*cellSize), coherence: coh, angle: 0.5 * math.Atan2(2*t.xy, t.xx-t.yy)}
}

// cellTensor computes gradient statistics over one cell of the grid
// downscaled by f, sampling p every f pixels.
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

// flood labels the connected cells of one kind reachable from start.
func flood(stats []cellStat, label []int, cw, ch, start, id int, bars bool) []int {
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
				if label[j] != 0 || stats[j].energy < minCellEnergy || (stats[j].coherence >= minCoherence) != bars {
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
