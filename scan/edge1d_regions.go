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

// extendGap is how long a stretch without edges (pixels of the working
// plane) ends a row of bars when a region is extended: longer than the
// gaps blur leaves between a code's edges, shorter than its quiet zone
// at two or more pixels a module.
const extendGap = 1.5 * cellSize

// extendBars joins the pieces of 1D regions and extends each along its
// bars' normal for as long as the image shows edges there: blur flattens
// stretches of narrow bars below the localiser's energy threshold, and a
// region that misses a code's ends cannot be read.
func extendBars(p plane, f int, regions []region) []region {
	regions = mergeCollinear(regions)
	for i, r := range regions {
		if r.bars {
			regions[i] = extendBar(p, f, r)
		}
	}
	return mergeCollinear(regions)
}

// extendBar extends one 1D region of the working plane (p downscaled by
// f) along its bars' normal.
func extendBar(p plane, f int, r region) region {
	fs := float64(f)
	half := (fs - 1) / 2
	cx, cy := r.cx*fs+half, r.cy*fs+half
	cos, sin := math.Cos(r.angle), math.Sin(r.angle)
	reach := int(math.Hypot(float64(p.w), float64(p.h)))
	// Edge activity along three lines across the bars, summed.
	act := make([]float64, 2*reach+1)
	in := make([]bool, 2*reach+1)
	for _, off := range []float64{-0.25, 0, 0.25} {
		ox, oy := -sin*off*r.lenV*fs, cos*off*r.lenV*fs
		prev := -1.0
		for t := -reach; t <= reach; t++ {
			x, y := int(cx+ox+float64(t)*cos+0.5), int(cy+oy+float64(t)*sin+0.5)
			if x < 0 || y < 0 || x >= p.w || y >= p.h {
				prev = -1
				continue
			}
			v := float64(p.pix[y*p.stride+x])
			if prev >= 0 {
				act[t+reach] += math.Abs(v - prev)
				in[t+reach] = true
			}
			prev = v
		}
	}
	// Smooth over a few pixels, then compare with the region's own
	// activity.
	k := max(2, f)
	sm := make([]float64, len(act))
	for i := range act {
		s := 0.0
		for j := max(0, i-k); j <= min(len(act)-1, i+k); j++ {
			s += act[j]
		}
		sm[i] = s / float64(2*k+1)
	}
	a0, a1 := reach+int(-r.lenU/2*fs), reach+int(r.lenU/2*fs)
	a0, a1 = max(0, a0), min(len(sm)-1, a1)
	if a1 <= a0 {
		return r
	}
	mean := 0.0
	for i := a0; i <= a1; i++ {
		mean += sm[i]
	}
	mean /= float64(a1 - a0 + 1)
	limit := 0.25 * mean
	gap := int(extendGap * fs)
	end := func(from, dir int) int {
		last, quiet := from, 0
		for i := from; i >= 0 && i < len(sm) && in[i] && quiet < gap; i += dir {
			if sm[i] >= limit {
				last, quiet = i, 0
			} else {
				quiet++
			}
		}
		return last
	}
	lo, hi := float64(end(a0, -1)-reach)/fs, float64(end(a1, 1)-reach)/fs
	u0, u1 := math.Min(lo, -r.lenU/2), math.Max(hi, r.lenU/2)
	mu := (u0 + u1) / 2
	r.cx, r.cy = r.cx+mu*cos, r.cy+mu*sin
	r.lenU = u1 - u0
	return r
}
