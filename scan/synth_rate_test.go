package scan

import (
	"context"
	"testing"
	"time"
)

// TestSyntheticPhotos scans the "clean" synthetic set: label photos drawn
// by synth_test.go (2–12 MP, rotated, tilted, noisy, with glare, JPEG
// 70–90) and checks every code is found. These photos are easier than
// users' (large labels, box blur of at most one pixel, codes drawn with
// gozxing, the library the decoder builds on), so their rate (98.7 % of
// codes) is an upper bound, not the figure to quote: the honest yardstick
// is TestRealisticPhotos and bench/photos.sh (internal/photogen).
func TestSyntheticPhotos(t *testing.T) {
	n := 24
	if testing.Short() {
		n = 10
	}
	photos := makePhotos(t, 1, n, func(i int) float64 { return []float64{2, 5, 8, 12}[i%4] })
	s := New(Options{})
	var want, got, complete int
	var total time.Duration
	for _, ph := range photos {
		start := time.Now()
		res, err := s.Scan(context.Background(), ph.data)
		total += time.Since(start)
		texts := map[string]bool{}
		if err == nil {
			for _, c := range res.Codes {
				texts[c.Text] = true
			}
		}
		expect := append([]string(nil), ph.spec.Lines...)
		if ph.spec.QR != "" {
			expect = append(expect, ph.spec.QR)
		}
		miss := 0
		for _, e := range expect {
			want++
			if texts[e] {
				got++
			} else {
				miss++
			}
		}
		if miss == 0 {
			complete++
		} else {
			t.Logf("%s: missed %d of %d (err %v, found %v)", ph.name, miss, len(expect), err, texts)
		}
	}
	rate := float64(got) / float64(want)
	t.Logf("clean synthetic photos: %d/%d codes (%.1f%%), %d/%d photos complete, mean scan %v",
		got, want, 100*rate, complete, len(photos), total/time.Duration(len(photos)))
	if rate < 0.95 {
		t.Errorf("code decode rate %.1f%% < 95%%", 100*rate)
	}
}
