package scan

import "math"

// pt is a point in plane or module coordinates.
type pt struct{ x, y float64 }

// dist is the distance between a and b.
func dist(a, b pt) float64 { return math.Hypot(a.x-b.x, a.y-b.y) }

// homography maps (x, y) to ((h0·x+h1·y+h2)/w, (h3·x+h4·y+h5)/w) with
// w = h6·x+h7·y+1: a perspective transform.
type homography [8]float64

// apply maps one point.
func (h homography) apply(p pt) pt {
	w := h[6]*p.x + h[7]*p.y + 1
	return pt{(h[0]*p.x + h[1]*p.y + h[2]) / w, (h[3]*p.x + h[4]*p.y + h[5]) / w}
}

// fitHomography fits the transform from module coordinates (m) to image
// points (p) of the anchors: least squares over four or more, an affine
// map through three. It reports false for fewer points or a degenerate
// set; four points of which three lie on a line are degenerate.
func fitHomography(as []qrAnchor) (homography, bool) {
	switch {
	case len(as) < 3:
		return homography{}, false
	case len(as) == 3:
		return fitAffine(as)
	}
	// Normalise both sides for conditioning: centre and unit spread.
	nm, _ := normaliser(as, func(a qrAnchor) pt { return a.m })
	np, npInv := normaliser(as, func(a qrAnchor) pt { return a.p })
	var ata [8][9]float64 // normal equations, augmented
	for _, a := range as {
		m, p := nm.apply(a.m), np.apply(a.p)
		rows := [2][9]float64{
			{m.x, m.y, 1, 0, 0, 0, -m.x * p.x, -m.y * p.x, p.x},
			{0, 0, 0, m.x, m.y, 1, -m.x * p.y, -m.y * p.y, p.y},
		}
		for _, r := range rows {
			for i := 0; i < 8; i++ {
				for j := 0; j < 9; j++ {
					ata[i][j] += r[i] * r[j]
				}
			}
		}
	}
	x, ok := solve8(ata)
	if !ok {
		return homography{}, false
	}
	h := homography(x)
	return compose(compose(nm, h), npInv), true
}

// fitAffine returns the least-squares affine map through three or more
// anchors.
func fitAffine(as []qrAnchor) (homography, bool) {
	nm, _ := normaliser(as, func(a qrAnchor) pt { return a.m })
	np, npInv := normaliser(as, func(a qrAnchor) pt { return a.p })
	var m [3][5]float64 // normal equations for both coordinates
	for _, a := range as {
		q, p := nm.apply(a.m), np.apply(a.p)
		r := [5]float64{q.x, q.y, 1, p.x, p.y}
		for i := 0; i < 3; i++ {
			for j := 0; j < 5; j++ {
				m[i][j] += r[i] * r[j]
			}
		}
	}
	for c := 0; c < 3; c++ {
		p := c
		for r := c + 1; r < 3; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-9 {
			return homography{}, false
		}
		m[c], m[p] = m[p], m[c]
		for r := 0; r < 3; r++ {
			if r != c {
				f := m[r][c] / m[c][c]
				for k := c; k < 5; k++ {
					m[r][k] -= f * m[c][k]
				}
			}
		}
	}
	h := homography{
		m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2],
		m[0][4] / m[0][0], m[1][4] / m[1][1], m[2][4] / m[2][2], 0, 0,
	}
	return compose(compose(nm, h), npInv), true
}

// normaliser returns the similarity that moves the points of as (read by
// get) to their centroid and mean distance √2, and its inverse.
func normaliser(as []qrAnchor, get func(qrAnchor) pt) (homography, homography) {
	var cx, cy float64
	for _, a := range as {
		p := get(a)
		cx, cy = cx+p.x, cy+p.y
	}
	n := float64(len(as))
	cx, cy = cx/n, cy/n
	var s float64
	for _, a := range as {
		s += dist(get(a), pt{cx, cy})
	}
	s /= n
	if s == 0 {
		s = 1
	}
	k := math.Sqrt2 / s
	return homography{k, 0, -k * cx, 0, k, -k * cy, 0, 0},
		homography{1 / k, 0, cx, 0, 1 / k, cy, 0, 0}
}

// compose returns the transform that applies a, then b.
func compose(a, b homography) homography {
	A := [9]float64{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], 1}
	B := [9]float64{b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], 1}
	var C [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				C[i*3+j] += B[i*3+k] * A[k*3+j]
			}
		}
	}
	if C[8] == 0 {
		return homography{}
	}
	var h homography
	for i := range h {
		h[i] = C[i] / C[8]
	}
	return h
}

// solve8 solves the 8×8 system m (augmented with its right-hand side) by
// Gaussian elimination with partial pivoting.
func solve8(m [8][9]float64) ([8]float64, bool) {
	var x [8]float64
	for c := 0; c < 8; c++ {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		if math.Abs(m[p][c]) < 1e-12 {
			return x, false
		}
		m[c], m[p] = m[p], m[c]
		for r := c + 1; r < 8; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k < 9; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	for r := 7; r >= 0; r-- {
		s := m[r][8]
		for k := r + 1; k < 8; k++ {
			s -= m[r][k] * x[k]
		}
		x[r] = s / m[r][r]
	}
	return x, true
}
