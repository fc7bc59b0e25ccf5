package scan

import (
	"context"
	"errors"
	"fmt"
	"image"
	"testing"
	"time"

	"posid/scan/scantest"
)

// hostileImages are files whose headers ask a decoder or the scan
// session for more memory than the image is worth; each must be refused
// before any pixel is decoded.
func hostileImages() []struct {
	name string
	data func() []byte
	want error
} {
	return []struct {
		name string
		data func() []byte
		want error
	}{
		{"png gray 2x19999999", func() []byte { return scantest.PNG(2, 19_999_999, scantest.Gray, 8) }, ErrImageShape},
		{"png gray 1x39999999", func() []byte { return scantest.PNG(1, 39_999_999, scantest.Gray, 8) }, ErrImageShape},
		{"png gray 39999999x1", func() []byte { return scantest.PNG(39_999_999, 1, scantest.Gray, 8) }, ErrImageShape},
		{"png rgba16 6300x6300", func() []byte { return scantest.PNG(6300, 6300, scantest.RGBA, 16) }, ErrImageTooLarge},
		{"jpeg progressive 4:4:4 6000x6000", func() []byte { return scantest.JPEGHeader(6000, 6000, true, 0x11) }, ErrImageTooLarge},
		{"webp lossless 6300x6300", func() []byte { return scantest.VP8LHeader(6300, 6300) }, ErrImageTooLarge},
	}
}

// TestHostileImages scans each hostile image: it is refused with its
// error, before decoding, instead of crashing the process (2×19,999,999
// made the scan session allocate 44 TB) or taking hundreds of MB.
func TestHostileImages(t *testing.T) {
	s := New(Options{})
	for _, tc := range hostileImages() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Scan(context.Background(), tc.data())
			if !errors.Is(err, tc.want) {
				t.Fatalf("Scan: %v, want %v", err, tc.want)
			}
		})
	}
}

// TestOrdinaryImagesAdmitted checks that the budget admits what phones
// and label printers produce, from the headers alone.
func TestOrdinaryImagesAdmitted(t *testing.T) {
	const w, h = 4032, 3024 // 12 MP
	tests := []struct {
		name string
		data []byte
	}{
		{"jpeg baseline 4:2:0", scantest.JPEGHeader(w, h, false, 0x22)},
		{"jpeg baseline 4:4:4", scantest.JPEGHeader(w, h, false, 0x11)},
		{"jpeg progressive 4:2:0", scantest.JPEGHeader(w, h, true, 0x22)},
		{"jpeg progressive 4:4:4", scantest.JPEGHeader(w, h, true, 0x11)},
		{"png rgb 8-bit", scantest.PNG(w, h, scantest.RGB, 8)},
		{"png rgba 8-bit", scantest.PNG(w, h, scantest.RGBA, 8)},
		{"png rgba 16-bit", scantest.PNG(w, h, scantest.RGBA, 16)},
		{"png gray 16-bit", scantest.PNG(w, h, scantest.Gray, 16)},
		{"webp lossless", scantest.VP8LHeader(w, h)},
		{"png rgba 8-bit 6000x4000", scantest.PNG(6000, 4000, scantest.RGBA, 8)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hd, err := inspect(tc.data, DefaultMaxPixels, DefaultMaxBytes, DefaultMaxImageMemory)
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			t.Logf("%s: %d MiB", tc.name, mib(hd.cost))
		})
	}
}

// TestShapeLimits pins the shape rule at its edges.
func TestShapeLimits(t *testing.T) {
	tests := []struct {
		w, h int
		want error
	}{
		{MinSide, MinSide, nil},
		{MinSide - 1, 100, ErrImageShape},
		{640, 10, nil},
		{64 * 20, 20, nil},
		{64*20 + 1, 20, ErrImageShape},
		{20, 64*20 + 1, ErrImageShape},
		{0, 10, ErrCorruptImage},
	}
	for _, tc := range tests {
		if err := checkShape(tc.w, tc.h); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
			t.Errorf("checkShape(%d, %d) = %v, want %v", tc.w, tc.h, err, tc.want)
		}
	}
}

// TestSessionDegenerateShapes runs the scan session on planes that
// bypass intake's shape rule: it must not size a working plane of zero
// width or a rotation buffer from the unchecked diagonal (a 3×1,000,000
// plane asked for a 250 GB turn).
func TestSessionDegenerateShapes(t *testing.T) {
	s := New(Options{Timeout: 2 * time.Second})
	for _, sz := range [][2]int{{3, 1_000_000}, {1_000_000, 3}, {1, 100}, {100, 1}, {1, 1}} {
		p := newPlane(sz[0], sz[1])
		for i := range p.pix {
			p.pix[i] = byte(i * 37)
		}
		_, err := s.scanPlane(context.Background(), p)
		if err != nil && !errors.Is(err, ErrNoBarcode) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%dx%d: %v", sz[0], sz[1], err)
		}
	}
}

// TestWorkFactor keeps the working copy at least one pixel wide and high.
func TestWorkFactor(t *testing.T) {
	for _, sz := range [][2]int{{2, 19_999_999}, {19_999_999, 2}, {1, 40_000_000}, {4032, 3024}, {7, 7}} {
		f := workFactor(sz[0], sz[1])
		if sz[0]/f < 1 || sz[1]/f < 1 {
			t.Errorf("workFactor(%d, %d) = %d: empty working plane", sz[0], sz[1], f)
		}
		if min(sz[0], sz[1]) > 1000 && int64(sz[0]/f)*int64(sz[1]/f) > workPixels {
			t.Errorf("workFactor(%d, %d) = %d: working plane above %d pixels", sz[0], sz[1], f, workPixels)
		}
	}
}

// TestGovernor bounds the sum of acquisitions and refuses what cannot fit.
func TestGovernor(t *testing.T) {
	ctx := context.Background()
	g := NewGovernor(100)
	if _, err := g.Acquire(ctx, 101, time.Millisecond); !errors.Is(err, ErrImageTooLarge) {
		t.Fatalf("acquire over size: %v", err)
	}
	rel, err := g.Acquire(ctx, 60, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Acquire(ctx, 60, 10*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("acquire past the budget: %v", err)
	}
	rel()
	rel2, err := g.Acquire(ctx, 60, time.Millisecond)
	if err != nil {
		t.Fatalf("acquire after release: %v", err)
	}
	rel2()
}

// TestScanBusy: a Scan whose memory the Governor cannot grant within
// MemoryWait fails with ErrBusy, not a decode.
func TestScanBusy(t *testing.T) {
	g := NewGovernor(DefaultDecodeMemory)
	hold, err := g.Acquire(context.Background(), g.Size(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	s := New(Options{Governor: g, MemoryWait: 10 * time.Millisecond})
	if _, err := s.Scan(context.Background(), encodePNG(t, symbol(t, QRCode, "busy"))); !errors.Is(err, ErrBusy) {
		t.Fatalf("Scan with the budget taken: %v", err)
	}
}

// TestDecodeBudget: Decode, for callers that keep the image, refuses the
// hostile images as Scan does (with 64 MiB of the caller's work instead of
// a scan's), takes nothing from the Governor for them, counts the caller's
// extra bytes against MaxMemory, and waits for the Governor like Scan.
func TestDecodeBudget(t *testing.T) {
	ctx := context.Background()
	g := NewGovernor(DefaultDecodeMemory)
	s := New(Options{Governor: g, MemoryWait: 10 * time.Millisecond})
	used := false
	use := func(image.Image, string) error { used = true; return nil }
	for _, tc := range hostileImages() {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Decode(ctx, tc.data(), 64<<20, use); !errors.Is(err, tc.want) || used {
				t.Fatalf("Decode: %v (image used: %v), want %v", err, used, tc.want)
			}
			all, err := g.Acquire(ctx, g.Size(), time.Millisecond)
			if err != nil {
				t.Fatalf("Governor after a refused image: %v", err)
			}
			all()
		})
	}
	small := scantest.PNG(64, 48, scantest.Gray, 8)
	var got string
	if err := s.Decode(ctx, small, 1<<20, func(img image.Image, format string) error {
		got = fmt.Sprintf("%s %dx%d", format, img.Bounds().Dx(), img.Bounds().Dy())
		return nil
	}); err != nil || got != "png 64x48" {
		t.Fatalf("Decode of a small PNG: %q, %v", got, err)
	}
	if err := s.Decode(ctx, small, DefaultMaxImageMemory, use); !errors.Is(err, ErrImageTooLarge) || used {
		t.Fatalf("Decode with extra past MaxMemory: %v (image used: %v)", err, used)
	}
	hold, err := g.Acquire(ctx, g.Size(), time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	if err := s.Decode(ctx, small, 0, use); !errors.Is(err, ErrBusy) || used {
		t.Fatalf("Decode with the budget taken: %v (image used: %v)", err, used)
	}
}

func TestScannerOptionsDefaults(t *testing.T) {
	o := New(Options{MaxPixels: 1000}).Options()
	if o.MaxPixels != 1000 || o.MaxBytes != DefaultMaxBytes || o.MaxMemory != DefaultMaxImageMemory || o.Governor == nil || o.Governor.Size() != DefaultDecodeMemory {
		t.Fatalf("Options() = %+v", o)
	}
}
