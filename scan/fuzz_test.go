package scan

import (
	"context"
	"errors"
	"image"
	"testing"
	"time"
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
	// Small limits keep each run fast and memory bounded.
	s := New(Options{MaxPixels: 1 << 18, MaxBytes: 1 << 20, Timeout: 300 * time.Millisecond})
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		res, err := s.Scan(context.Background(), data)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("Scan took %v", d)
		}
		if err != nil {
			for _, e := range []error{ErrUnsupportedImage, ErrCorruptImage, ErrImageTooLarge, ErrNoBarcode, context.DeadlineExceeded} {
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
