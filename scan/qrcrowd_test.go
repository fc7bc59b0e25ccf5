package scan

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"

	"posid/scan/scantest"
)

// bitsOf binarizes a PNG for the finder candidate count.
func bitsOf(t *testing.T, data []byte) *gozxing.BitMatrix {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	bmp, err := bitmap(luminance(img), global)
	if err != nil {
		t.Fatal(err)
	}
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestQRFinderCandidates checks the count that keeps the QR readers off
// bitmaps crowded with finder look-alikes: a symbol has three, a grid of
// tiny finder patterns hundreds, and counting stops past the limit.
func TestQRFinderCandidates(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     []byte
		limit    int
		min, max int
	}{
		{"one QR symbol", encodePNG(t, symbol(t, QRCode, "https://posid.example/v/1")), qrMaxCandidates, 3, 3},
		{"grid of 144 finders, 2 px modules", scantest.FinderGrid(200, 2), qrMaxCandidates, qrMultiMaxCandidates + 1, qrMaxCandidates},
		{"grid of 625 finders, 1 px modules", scantest.FinderGrid(200, 1), qrMaxCandidates, qrMaxCandidates + 1, 625},
		// Counted a row at a time: one row of this grid holds 50.
		{"stops past the limit", scantest.FinderGrid(400, 1), 50, 51, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hard := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
			n := qrFinderCandidates(bitsOf(t, tc.data), hard, tc.limit)
			if n < tc.min || n > tc.max {
				t.Errorf("%d candidates, want %d–%d", n, tc.min, tc.max)
			}
		})
	}
}

// TestScanCrowdedFinders scans small PNGs tiled with QR finder patterns,
// each of which held a scan for minutes (the 200×200 one, 440 bytes, for
// 67 s against a 2 s limit): a scan must end within its limit, give or
// take one reader's call, and find nothing.
func TestScanCrowdedFinders(t *testing.T) {
	s := New(Options{Timeout: 2 * time.Second})
	for _, g := range []struct{ side, module int }{{200, 1}, {100, 1}, {200, 2}, {400, 1}} {
		start := time.Now()
		res, err := s.Scan(context.Background(), scantest.FinderGrid(g.side, g.module))
		el := time.Since(start)
		if el > 10*time.Second {
			t.Errorf("grid %d px, modules of %d: the scan took %v with a 2 s limit", g.side, g.module, el)
		}
		if !errors.Is(err, ErrNoBarcode) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("grid %d px, modules of %d: %+v, %v", g.side, g.module, res, err)
		}
		t.Logf("grid %d px, modules of %d: %v, %v", g.side, g.module, el, err)
	}
}
