package scan

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"testing"
)

// TestMatrixReport tells, for each QR code and Data Matrix that carries
// the SN in a folder of bench/photogen photos, which 2D reads decode it
// from a square placed by the truth (centre of codes[].quad, 1.3 and 1.8
// times its longer side): the sharpened read, the denoised read at full
// and at half resolution. A symbol none reads lies beyond the readers; one
// they read that the scan missed, the localisers or the boxes failed. It
// is a measurement, not a check: run it with POSID_MATRIX_DIR=DIR and
// read the lines from the log.
func TestMatrixReport(t *testing.T) {
	jpgs, codes := reportPhotos(t, "POSID_MATRIX_DIR")
	n, read := 0, 0
	for k, jpg := range jpgs {
		for _, c := range codes[k] {
			if c.Format != string(QRCode) && c.Format != string(DataMatrix) || !c.CarriesSN {
				continue
			}
			n++
			full := luminance(decodeFile(t, jpg))
			q := c.Quad
			cx, cy := (q[0][0]+q[1][0]+q[2][0]+q[3][0])/4, (q[0][1]+q[1][1]+q[2][1]+q[3][1])/4
			side := 0.0
			for i := range 4 {
				j := (i + 1) % 4
				side = math.Max(side, math.Hypot(q[j][0]-q[i][0], q[j][1]-q[i][1]))
			}
			line, any := "", false
			for _, grow := range []float64{1.3, 1.8} {
				s := side * grow
				tries := []struct {
					name string
					read func(ses *session) int
				}{
					{"sharpened", func(ses *session) int { return ses.readSharpened(full, cx, cy, s) }},
					{"denoised", func(ses *session) int { return ses.readDenoised(context.Background(), full, cx, cy, s, 1) }},
					{"halved", func(ses *session) int { return ses.readDenoised(context.Background(), full, cx, cy, s, 2) }},
				}
				for _, tr := range tries {
					ses := newSession(newFormatSet(nil))
					tr.read(ses)
					mark := "-"
					if hasText(ses.codes(), c.Text) {
						mark, any = "ok", true
					} else if len(ses.codes()) > 0 {
						mark = "other"
					}
					line += fmt.Sprintf(" %s×%.1f=%s", tr.name, grow, mark)
				}
			}
			if any {
				read++
			}
			t.Logf("%s %s side %.0f:%s", filepath.Base(jpg), c.Format, side, line)
		}
	}
	t.Logf("symbols %d, read from a truth square %d", n, read)
}
