package scan

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadReport tells, for each SN Code 128 of a folder of
// bench/photogen photos, whether the model reader reads it from a window
// placed by the truth (centre and axis of codes[].quad, 1.6 times its
// length, 0.9 times its height) and from the window refineBars places
// from the nearest bar region of the fast, soft and coarse localisers
// ("none": no placed window within half the code's height and 0.3 of its
// length). A code read from the truth's window and not from the scan's is
// one the localisers or the placement failed; one read from neither lies
// beyond the reader. It is a measurement, not a check: run it with
// POSID_READ_DIR=DIR and read the lines from the log.
func TestReadReport(t *testing.T) {
	jpgs, cs := reportSNCode128(t, "POSID_READ_DIR")
	nTruth, nPlaced, n := 0, 0, len(cs)
	for k, c := range cs {
		jpg := jpgs[k]
		full := luminance(decodeFile(t, jpg))
		cx, cy, ux, uy, vx, vy, L, H := quadAxes(c.Quad)
		angle := math.Atan2(uy, ux)
		tr := reportRead(full, cx, cy, angle, L*1.6, H*0.9, c.Text)
		// The first placed window near the code, of any localiser's
		// bar region.
		f := workFactor(full.w, full.h)
		fs, half := float64(f), float64(f-1)/2
		var rs []region
		rs = append(rs, locateWith(full, f, minCellEnergy, 1)...)
		rs = append(rs, locateWith(full, f, softCellEnergy, softSpan)...)
		rs = append(rs, locateWith(full, f, -faintTimes, coarseSpan)...)
		pl := "none"
		for _, r := range rs {
			if !r.bars {
				continue
			}
			rx, ry := r.cx*fs+half, r.cy*fs+half
			for k, bw := range refineBars(full, rx, ry, r.angle, r.lenU*fs, r.lenV*fs) {
				if k >= 3 {
					break
				}
				dx, dy := bw.cx-cx, bw.cy-cy
				if math.Abs(dx*vx+dy*vy)/H/H > 0.5 || math.Abs(dx*ux+dy*uy)/L/L > 0.3 {
					continue
				}
				pl = fmt.Sprintf("placed(×%.2f)=", bw.w/L) + reportRead(full, bw.cx, bw.cy, bw.angle, bw.w*refineLength, bw.h*refineHeight, c.Text)
				break
			}
			if pl != "none" {
				break
			}
		}
		if strings.HasPrefix(tr, "ok") {
			nTruth++
		}
		if strings.Contains(pl, "=ok(") {
			nPlaced++
		}
		t.Logf("%s truth=%s %s", filepath.Base(jpg), tr, pl)
	}
	t.Logf("codes %d, read from the truth's window %d, from a placed window %d", n, nTruth, nPlaced)
}

// reportSNCode128 returns the SN Code 128 of each photo of the
// bench/photogen folder that environment variable env names (a label has
// one), and the photo each is on.
func reportSNCode128(t *testing.T, env string) (jpgs []string, cs []reportCode) {
	t.Helper()
	all, codes := reportPhotos(t, env)
	for k, jpg := range all {
		for _, c := range codes[k] {
			if c.Format == string(Code128) && c.CarriesSN {
				jpgs, cs = append(jpgs, jpg), append(cs, c)
			}
		}
	}
	return jpgs, cs
}

// quadAxes returns the centre of a code's quad q and its mean axes: u
// along the code (from the first corner to the second), v across it
// (from the first to the fourth), and their lengths l and h.
func quadAxes(q [4][2]float64) (cx, cy, ux, uy, vx, vy, l, h float64) {
	cx, cy = (q[0][0]+q[1][0]+q[2][0]+q[3][0])/4, (q[0][1]+q[1][1]+q[2][1]+q[3][1])/4
	ux, uy = (q[1][0]-q[0][0]+q[2][0]-q[3][0])/2, (q[1][1]-q[0][1]+q[2][1]-q[3][1])/2
	vx, vy = (q[3][0]-q[0][0]+q[2][0]-q[1][0])/2, (q[3][1]-q[0][1]+q[2][1]-q[1][1])/2
	return cx, cy, ux, uy, vx, vy, math.Hypot(ux, uy), math.Hypot(vx, vy)
}

// reportRead reads the w×h window of full centred on (cx, cy) along angle
// with the model reader (levels fixed, then free along each character;
// as taken, then warped) and tells how: "ok(trend=…)", "WRONG" (another
// text), "-" (nothing) or "x" (no rows of bars).
func reportRead(full plane, cx, cy, angle, w, h float64, want string) string {
	step := 1.0
	if w < fineModuleSpan {
		step = 0.5
	}
	step, iw, ih := window(step, w, h, escWindowPixels)
	p, _ := full.rotated(cx, cy, angle, step, iw, ih)
	prof, _, _, ok := barProfile(p)
	if !ok {
		return "x"
	}
	return reportModel(prof, step, want)
}

// reportModel reads prof, samples step image pixels apart, with the model
// reader (levels fixed, then free along each character; as taken, then
// warped) and tells how, as reportRead does.
func reportModel(prof []float64, step float64, want string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, trend := range []bool{false, true} {
		for _, rh := range [][]float64{nil, modelPitchRatios} {
			if r, ok := readPitches(ctx, prof, step, rh, trend); ok {
				if r.text != want {
					return "WRONG"
				}
				return fmt.Sprintf("ok(trend=%v)", trend)
			}
		}
	}
	return "-"
}

// TestLeanReport tells, for each SN Code 128 of a folder of
// bench/photogen photos, whether the model reader reads it from a window
// placed by the truth across its bars (along their mean normal, as a
// localiser sets it; 1.6 times the code's length, 0.9 times its height)
// with the lean barLean finds and with the lean of the truth (the slant
// of the quad's two ends), and prints both leans. It is a measurement,
// not a check: run it with POSID_LEAN_DIR=DIR and read the lines from the
// log.
func TestLeanReport(t *testing.T) {
	jpgs, cs := reportSNCode128(t, "POSID_LEAN_DIR")
	n, nFound, nTruth := len(cs), 0, 0
	for k, c := range cs {
		jpg := jpgs[k]
		full := luminance(decodeFile(t, jpg))
		cx, cy, ux, uy, vx, vy, L, H := quadAxes(c.Quad)
		// The window's rows run along the bars' mean normal, the
		// way the code reads.
		nx, ny := vy/H, -vx/H
		if nx*ux+ny*uy < 0 {
			nx, ny = -nx, -ny
		}
		angle := math.Atan2(ny, nx)
		// A bar's lean in the window: pixels across per row.
		co, si := math.Cos(angle), math.Sin(angle)
		slant := func(a, b [2]float64) float64 {
			dx, dy := b[0]-a[0], b[1]-a[1]
			return (dx*co + dy*si) / (-dx*si + dy*co)
		}
		q := c.Quad
		left, right := slant(q[0], q[3]), slant(q[1], q[2])
		// The code's ends lie at 0.5 ∓ 0.5/1.6 of the window's width.
		truth := lean{slope: (left + right) / 2, fan: (right - left) / (1 / 1.6)}
		step := 1.0
		if L*1.6 < fineModuleSpan {
			step = 0.5
		}
		step, iw, ih := window(step, L*1.6, H*0.9, escWindowPixels)
		p, _ := full.rotated(cx, cy, angle, step, iw, ih)
		found, tr := "x", "x"
		var got lean
		if p.h >= blindMinRows && p.w >= 40 {
			all := middleRows(p)
			got = barLean(p, all)
			if prof, _, _, ok := leanProfile(p, all, got); ok {
				found = reportModel(prof, step, c.Text)
			}
			if prof, _, _, ok := leanProfile(p, all, truth); ok {
				tr = reportModel(prof, step, c.Text)
			}
		}
		if strings.HasPrefix(found, "ok") {
			nFound++
		}
		if strings.HasPrefix(tr, "ok") {
			nTruth++
		}
		t.Logf("%s found=%s truth=%s lean found (%.2f, %.2f), truth (%.2f, %.2f)", filepath.Base(jpg), found, tr, got.slope, got.fan, truth.slope, truth.fan)
	}
	t.Logf("codes %d, read with the lean found %d, with the truth's %d", n, nFound, nTruth)
}
