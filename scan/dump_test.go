package scan

import (
	"context"
	"image"
	"image/png"
	"os"
	"strconv"
	"testing"
)

func TestDebugDump(t *testing.T) {
	dir := os.Getenv("SYNTH_DUMP")
	if dir == "" {
		t.Skip()
	}
	seed, _ := strconv.Atoi(os.Getenv("SEED"))
	mp, _ := strconv.ParseFloat(os.Getenv("MP"), 64)
	photos := makePhotos(t, uint64(seed), 4, func(i int) float64 { return mp })
	for _, ph := range photos {
		os.WriteFile(dir+"/"+ph.name+".jpg", ph.data, 0o644)
		p, _, _, _ := decodeBytes(ph.data, DefaultMaxPixels, DefaultMaxBytes)
		f := max(1, p.w/800)
		q := p.downscaled(f)
		g := &image.Gray{Pix: q.pix, Stride: q.stride, Rect: image.Rect(0, 0, q.w, q.h)}
		fh, _ := os.Create(dir + "/" + ph.name + ".png")
		png.Encode(fh, g)
		fh.Close()
		res, _ := New(Options{}).Scan(context.Background(), ph.data)
		t.Log(ph.name, ph.spec, res)
	}
}
