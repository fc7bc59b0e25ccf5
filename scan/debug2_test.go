package scan

import (
	"fmt"
	"image"
	"math"
	"image/png"
	"os"
	"testing"
)

func TestDebugRegions(t *testing.T) {
	f := os.Getenv("SYNTH_FILE")
	if f == "" {
		t.Skip()
	}
	data, _ := os.ReadFile(f)
	p, _, _, _ := decodeBytes(data, DefaultMaxPixels, DefaultMaxBytes)
	k := 1
	for (p.w/k)*(p.h/k) > workPixels {
		k++
	}
	fs := float64(k)
	half := float64(k-1) / 2
	for i, r := range locate(p, k) {
		t.Logf("%+v", r)
		if !r.bars {
			cx, cy := r.cx*fs+half, r.cy*fs+half
			side := math.Max(r.lenU, r.lenV)*1.5*fs + 2*cellSize
			for _, st := range []float64{1, 0.5, 0.33} {
				for _, b := range []binarizer{hybrid, global} {
					q, mq := p.rotated(cx, cy, 0, st, int(side/st), int(side/st))
					ses := newSession(newFormatSet(nil))
					ses.decode2D(q, mq, b, true)
					t.Log("  2D->", st, b, ses.codes(), len(ses.order))
				}
			}
			q, _ := p.rotated(cx, cy, 0, 0.5, int(2*side), int(2*side))
			g := &image.Gray{Pix: q.pix, Stride: q.stride, Rect: image.Rect(0, 0, q.w, q.h)}
			fh, _ := os.Create(fmt.Sprintf("/tmp/synth/region%d.png", i))
			png.Encode(fh, g)
			fh.Close()
			continue
		}
		cx, cy := r.cx*fs+half, r.cy*fs+half
		w := int((r.lenU*(1+2*regionPad) + 4*cellSize) * fs)
		h := int((r.lenV + 2*cellSize) * fs)
		for _, st := range []float64{1, 0.5, 0.33} {
			q, mq := p.rotated(cx, cy, r.angle, st, int(float64(w)/st), int(float64(h)/st))
			ses := newSession(newFormatSet(nil))
			ses.decode1D(q, mq, max(1, h/24))
			t.Log("  ->", st, ses.codes(), len(ses.order))
		}
		q, _ := p.rotated(cx, cy, r.angle, 0.25, w*4, h*4)
		g := &image.Gray{Pix: q.pix, Stride: q.stride, Rect: image.Rect(0, 0, q.w, q.h)}
		fh, _ := os.Create(fmt.Sprintf("/tmp/synth/region%d.png", i))
		png.Encode(fh, g)
		fh.Close()
	}
}
