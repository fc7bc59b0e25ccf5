package scan

import (
	"context"
	"math"
	"testing"
)

// TestReadDenoised reads QR codes cropped from tuning photos, modules of
// about 4.5 px blurred by σ ≈ 1.8 px under sensor noise, that the plain,
// rescue and sharpened reads miss: one turned by 39° in perspective, one
// under glare.
func TestReadDenoised(t *testing.T) {
	for _, name := range []string{"url-qr-turned", "url-qr-glare"} {
		t.Run(name, func(t *testing.T) {
			p, r, want := blurredCrop(t, name)
			side := float64(min(p.w, p.h))
			cx, cy := r.cx, r.cy
			old := newSession(newFormatSet(nil))
			old.readMatrix(p, r, cx, cy, 1, false)
			old.readSharpened(p, cx, cy, side)
			if hasText(old.codes(), want) {
				t.Fatal("the plain and sharpened reads already decode this crop; it tests nothing")
			}
			ses := newSession(newFormatSet(nil))
			if n := ses.readDenoised(context.Background(), p, cx, cy, side, 1); n == 0 || !hasText(ses.codes(), want) {
				t.Errorf("readDenoised read %v, want %q", ses.codes(), want)
			}
		})
	}
}

// TestGridAngleFaint measures the module grid's angle of a QR code under
// a strong glare (cropped from a 12 MP photo; the label turned by −62.1°,
// so its grid by 27.9°). JPEG's blocks and the sensor noise once
// outweighed the symbol's faint edges and the angle came out as 0.3°:
// readDenoised then looked for the finder patterns by their rings
// (blurFinders) in a window that was not square to them.
func TestGridAngleFaint(t *testing.T) {
	p, _, _ := blurredCrop(t, "url-qr-12mp-glare-turned")
	if got := gridAngle(p) * 180 / math.Pi; math.Abs(got-27.9) > 2 {
		t.Errorf("gridAngle %.1f°, want 27.9° ± 2°", got)
	}
}

// TestTightMatrices reads a Data Matrix of 4.2 px modules at the corner
// of a label over a dark background (2 MP, blur σ 2 px, glare), located
// by the soft stage as a region of 144 px. In the square of 1.5 times
// that which matrix-sharpened reads, the background beside the symbol
// joins its outline; the matrix-tight square keeps it out.
func TestTightMatrices(t *testing.T) {
	p, _, want := blurredCrop(t, "dm-label-corner")
	// The crop's centre, 132.5, is the region's: f = 2 puts working
	// pixel 66 at image pixel 132.5.
	e := &escalation{ses: newSession(newFormatSet(nil)), full: p, f: 2,
		matrices: []region{{cx: 66, cy: 66, lenU: 72, lenV: 72, cells: 46}}}
	if e.sharpenedMatrices(context.Background()); hasText(e.ses.codes(), want) {
		t.Fatal("matrix-sharpened already reads the symbol; the case tests nothing")
	}
	if n := e.tightMatrices(context.Background()); n != 1 || !hasText(e.ses.codes(), want) {
		t.Errorf("matrix-tight tried %d, read %v, want %q", n, e.ses.codes(), want)
	}
}

// TestQRTurnedDim checks the dimension judged from finder centres and a
// module size measured along the image's rows, which a turned symbol
// lengthens by 1/max(|cos θ|, |sin θ|).
func TestQRTurnedDim(t *testing.T) {
	for _, c := range []struct {
		dim  int
		deg  float64
		ms   float64
		want int
	}{
		{29, 0, 4.5, 29},
		{29, 39, 4.5, 29},
		{33, 45, 4, 33},
		{25, -120, 6, 25},
	} {
		a := c.deg * math.Pi / 180
		d := float64(c.dim-7) * c.ms
		tl := pt{500, 500}
		corners := [3]pt{tl, {tl.x + d*math.Cos(a), tl.y + d*math.Sin(a)}, {tl.x - d*math.Sin(a), tl.y + d*math.Cos(a)}}
		runs := c.ms / math.Max(math.Abs(math.Cos(a)), math.Abs(math.Sin(a)))
		if got := qrTurnedDim(corners, runs); got != c.want {
			t.Errorf("dim %d turned %v°: qrTurnedDim %d, want %d (qrEstDim %d)", c.dim, c.deg, got, c.want, qrEstDim(corners, runs))
		}
	}
}
