package scan

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// benchPhotos are generated once per size: label photos like the ones
// merchants take, JPEG-encoded.
var (
	benchOnce   sync.Once
	benchPhotos map[string][]synthPhoto
)

// benchSizes are the photo sizes benchmarked, in megapixels.
var benchSizes = []struct {
	name string
	mp   float64
}{{"12MP", 12}, {"2MP", 2}}

// photosFor returns the benchmark photos of one size.
func photosFor(b *testing.B, name string) []synthPhoto {
	benchOnce.Do(func() {
		benchPhotos = map[string][]synthPhoto{}
		for i, sz := range benchSizes {
			benchPhotos[sz.name] = makePhotos(b, uint64(100+i), 4, func(int) float64 { return sz.mp })
		}
	})
	return benchPhotos[name]
}

// BenchmarkScan compares, per photo size, decoding the JPEG alone (the
// floor), posid's Scan (decode included) and raw gozxing (decode, a
// luminance source from image.Image, hybrid binarizer, QR reader and
// Code 128 reader with TRY_HARDER). Metrics: codes/op found, and for Scan
// x-decode, its time over the median JPEG decode time of the same photos.
func BenchmarkScan(b *testing.B) {
	for _, sz := range benchSizes {
		photos := photosFor(b, sz.name)
		b.Run(sz.name+"/jpeg-decode", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(photos[i%len(photos)].data)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(sz.name+"/posid", func(b *testing.B) {
			floor := medianDecode(b, photos)
			s := New(Options{})
			codes, i := 0, 0
			start := time.Now()
			for b.Loop() {
				res, _ := s.Scan(context.Background(), photos[i%len(photos)].data)
				if res != nil {
					codes += len(res.Codes)
				}
				i++
			}
			per := time.Since(start) / time.Duration(i)
			b.ReportMetric(float64(codes)/float64(i), "codes/op")
			b.ReportMetric(float64(per)/float64(floor), "x-decode")
		})
		b.Run(sz.name+"/gozxing", func(b *testing.B) {
			codes, i := 0, 0
			for b.Loop() {
				codes += rawGozxing(b, photos[i%len(photos)].data)
				i++
			}
			b.ReportMetric(float64(codes)/float64(i), "codes/op")
		})
	}
}

// BenchmarkScanPaired times, per iteration and on the same photo, the
// JPEG decode, Scan and raw gozxing back to back, so that load from other
// processes hits all three alike. It reports medians in milliseconds and
// the median per-photo ratios posid/decode and gozxing/posid.
func BenchmarkScanPaired(b *testing.B) {
	for _, sz := range benchSizes {
		photos := photosFor(b, sz.name)
		b.Run(sz.name, func(b *testing.B) {
			s := New(Options{})
			var dec, pos, raw, rDec, rRaw []float64
			codesPosid, codesRaw, i := 0, 0, 0
			for b.Loop() {
				data := photos[i%len(photos)].data
				i++
				t0 := time.Now()
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				res, _ := s.Scan(context.Background(), data)
				t2 := time.Now()
				codesRaw += rawGozxing(b, data)
				t3 := time.Now()
				if res != nil {
					codesPosid += len(res.Codes)
				}
				d, p, r := t1.Sub(t0).Seconds()*1e3, t2.Sub(t1).Seconds()*1e3, t3.Sub(t2).Seconds()*1e3
				dec, pos, raw = append(dec, d), append(pos, p), append(raw, r)
				rDec, rRaw = append(rDec, p/d), append(rRaw, r/p)
			}
			b.ReportMetric(median(dec), "decode-ms")
			b.ReportMetric(median(pos), "posid-ms")
			b.ReportMetric(median(raw), "gozxing-ms")
			b.ReportMetric(median(rDec), "posid/decode")
			b.ReportMetric(median(rRaw), "gozxing/posid")
			b.ReportMetric(float64(codesPosid)/float64(i), "posid-codes/op")
			b.ReportMetric(float64(codesRaw)/float64(i), "gozxing-codes/op")
		})
	}
}

// median returns the median of xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	ys := append([]float64(nil), xs...)
	sort.Float64s(ys)
	if len(ys)%2 == 1 {
		return ys[len(ys)/2]
	}
	return (ys[len(ys)/2-1] + ys[len(ys)/2]) / 2
}

// medianDecode returns the median time of decoding each photo's JPEG.
func medianDecode(b *testing.B, photos []synthPhoto) time.Duration {
	var ts []time.Duration
	for range 3 {
		for _, p := range photos {
			start := time.Now()
			if _, err := jpeg.Decode(bytes.NewReader(p.data)); err != nil {
				b.Fatal(err)
			}
			ts = append(ts, time.Since(start))
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}

// rawGozxing decodes data the straightforward gozxing way and returns how
// many codes it found (at most one QR and one Code 128).
func rawGozxing(b *testing.B, data []byte) int {
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	return rawGozxingImage(img)
}

// rawGozxingImage is rawGozxing on a decoded image.
func rawGozxingImage(img image.Image) int {
	src := gozxing.NewLuminanceSourceFromImage(img)
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
	if err != nil {
		return 0
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
	n := 0
	if _, err := qrcode.NewQRCodeReader().Decode(bmp, hints); err == nil {
		n++
	}
	if _, err := oned.NewCode128Reader().Decode(bmp, hints); err == nil {
		n++
	}
	return n
}
