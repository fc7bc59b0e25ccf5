package scan

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"

	"posid/scan/scantest"
)

// FuzzScan feeds arbitrary bytes through intake and decoding: Scan must
// not panic, must return within its time limit, and must reject what it
// cannot read with one of its errors.
func FuzzScan(f *testing.F) {
	qr := symbol(f, QRCode, "https://posid.example/v/42")
	f.Add(encodePNG(f, qr))
	f.Add(encodeJPEG(f, qr, 80))
	f.Add(encodeGIF(f, symbol(f, Code128, "FZ123456")))
	f.Add(withOrientation(encodeJPEG(f, image.NewGray(image.Rect(0, 0, 16, 16)), 50), 6, true))
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8 "))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x08, 'E', 'x', 'i', 'f', 0, 0})
	f.Add([]byte("not an image"))
	f.Add(scantest.PNG(2, 20_000, scantest.Gray, 8))
	f.Add(scantest.JPEGHeader(6000, 6000, true, 0x11))
	f.Add(scantest.VP8LHeader(6300, 6300))
	// Small limits keep each run fast and memory bounded.
	s := New(Options{MaxPixels: 1 << 18, MaxBytes: 1 << 20, Timeout: 300 * time.Millisecond})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		res, err := s.Scan(context.Background(), data)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Scan took %v", d)
		}
		if err != nil {
			for _, e := range []error{ErrUnsupportedImage, ErrCorruptImage, ErrImageTooLarge, ErrImageShape, ErrNoBarcode, context.DeadlineExceeded} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("untyped error %v", err)
		}
		for _, c := range res.Codes {
			if c.Text == "" || c.Format == "" {
				t.Fatalf("empty code %+v", c)
			}
		}
	})
}

// FuzzIntakeBudget feeds arbitrary bytes through intake: whatever the
// headers declare, an image that intake admits must not make its decoder
// allocate more than the estimate it was admitted with (budgetSlack over
// it at most). Seeded with every decoder layout and with hostile headers.
func FuzzIntakeBudget(f *testing.F) {
	for _, data := range budgetSeeds(f) {
		f.Add(data)
	}
	for _, data := range [][]byte{
		scantest.JPEGHeader(6000, 6000, true, 0x11),
		scantest.JPEGHeader(4032, 3024, false, 0x22),
		scantest.VP8LHeader(6300, 6300),
		scantest.PNG(2, 20_000, scantest.Gray, 8),
		scantest.PNG(40, 3000, scantest.RGBA, 16)[:64], // header, IDAT cut short
	} {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// 1 MP keeps each input's decode small and fast.
		checkDecodeBudget(t, data, 1<<20)
	})
}
