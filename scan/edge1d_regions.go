package scan

import "math"

// mergeGap is how far apart (working-plane pixels, along the bars'
// normal) two pieces of one 1D region may lie to be joined: blur flattens
// stretches of narrow bars below the localiser's energy threshold and
// splits a code into pieces that no single region holds whole.
const mergeGap = 6 * cellSize

// mergeCollinear joins 1D regions that lie end to end on one line with one
// bar direction into one region covering them all.
func mergeCollinear(regions []region) []region {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(regions) && !merged; i++ {
			for j := i + 1; j < len(regions); j++ {
				if r, ok := joinRegions(regions[i], regions[j]); ok {
					regions[i] = r
					regions = append(regions[:j], regions[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return regions
}

// joinRegions returns the region covering a and b when they are pieces of
// one row of bars.
func joinRegions(a, b region) (region, bool) {
	if !a.bars || !b.bars || angleDiff(a.angle, b.angle) > maxAngleDiff {
		return region{}, false
	}
	if b.cells > a.cells {
		a, b = b, a
	}
	cos, sin := math.Cos(a.angle), math.Sin(a.angle)
	dx, dy := b.cx-a.cx, b.cy-a.cy
	du, dv := dx*cos+dy*sin, -dx*sin+dy*cos
	// The pieces share one band across the bars: most of the shorter
	// piece's height lies within the taller one's (stacked codes, one
	// above the other, share none of it).
	overlap := math.Min(a.lenV/2, dv+b.lenV/2) - math.Max(-a.lenV/2, dv-b.lenV/2)
	if overlap < 0.6*math.Min(a.lenV, b.lenV) {
		return region{}, false
	}
	if math.Abs(du)-(a.lenU+b.lenU)/2 > mergeGap {
		return region{}, false
	}
	u0 := math.Min(-a.lenU/2, du-b.lenU/2)
	u1 := math.Max(a.lenU/2, du+b.lenU/2)
	v0 := math.Min(-a.lenV/2, dv-b.lenV/2)
	v1 := math.Max(a.lenV/2, dv+b.lenV/2)
	mu, mv := (u0+u1)/2, (v0+v1)/2
	r := a
	r.cx, r.cy = a.cx+mu*cos-mv*sin, a.cy+mu*sin+mv*cos
	r.lenU, r.lenV = u1-u0, v1-v0
	r.cells = a.cells + b.cells
	return r, true
}
