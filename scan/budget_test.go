package scan

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"posid/scan/scantest"
)

// budgetSlack is how far a decode's allocations may exceed the estimate
// (fraction): allocator rounding and the odd small buffer, not a whole
// image more.
const budgetSlack = 1.25

// allocated returns the bytes f allocates (runtime TotalAlloc delta).
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// checkDecodeBudget decodes data if intake admits it and fails when the
// decode (image decoder plus upright luminance plane) allocates more than
// its estimate allows.
func checkDecodeBudget(t *testing.T, data []byte, maxPixels int) {
	t.Helper()
	hd, err := inspect(data, maxPixels, DefaultMaxBytes, DefaultMaxImageMemory)
	if err != nil {
		return
	}
	// The decode's share of the estimate, plus the full plane the scan
	// part counts for luminance and EXIF orientation.
	limit := float64(hd.decode+int64(hd.w)*int64(hd.h)) * budgetSlack
	var derr error
	got := allocated(func() { _, _, derr = decodeBytes(data, hd) })
	if float64(got) > limit {
		t.Fatalf("%s %dx%d: decode allocated %d bytes, estimate %d (+%.0f%%), err %v",
			hd.format, hd.w, hd.h, got, hd.decode+int64(hd.w)*int64(hd.h), (budgetSlack-1)*100, derr)
	}
}

// budgetSeeds are the images the budget is checked on: every decoder
// layout the estimate distinguishes.
func budgetSeeds(t testing.TB) map[string][]byte {
	seeds := map[string][]byte{}
	files, _ := filepath.Glob(filepath.Join("testdata", "intake", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds[filepath.Base(f)] = data
	}
	r := image.Rect(0, 0, 601, 397)
	pal := image.NewPaletted(r, color.Palette{color.Black, color.White})
	for name, img := range map[string]image.Image{
		"gray8.png": image.NewGray(r), "gray16.png": image.NewGray16(r), "rgba8.png": image.NewRGBA(r),
		"nrgba8.png": image.NewNRGBA(r), "rgba16.png": image.NewRGBA64(r), "nrgba16.png": image.NewNRGBA64(r),
		"paletted.png": pal,
	} {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		seeds[name] = b.Bytes()
	}
	seeds["baseline420.jpg"] = encodeJPEG(t, symbol(t, QRCode, "budget"), 80)
	seeds["frame.gif"] = encodeGIF(t, symbol(t, Code128, "BUDGET1"))
	// Hostile headers, small enough to be admitted or cut short.
	seeds["prog444-hdr.jpg"] = scantest.JPEGHeader(400, 300, true, 0x11)
	seeds["vp8l-hdr.webp"] = scantest.VP8LHeader(300, 200)
	seeds["strip.png"] = scantest.PNG(12, 700, scantest.Gray, 8)
	seeds["rgba16-big.png"] = scantest.PNG(300, 300, scantest.RGBA, 16)
	return seeds
}

// TestDecodeWithinBudget checks the estimate against what each decoder
// really allocates, for every layout in the seeds.
func TestDecodeWithinBudget(t *testing.T) {
	for name, data := range budgetSeeds(t) {
		t.Run(name, func(t *testing.T) { checkDecodeBudget(t, data, DefaultMaxPixels) })
	}
}
