package scan

import (
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/makiuchi-d/gozxing"
	dmdec "github.com/makiuchi-d/gozxing/datamatrix/decoder"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// TestRescuePhotos decodes corpus photos that only the harder 2D reads
// get: strong perspective (QR version 7, whose alignment patterns the
// cell-by-cell sampling follows), and a dense Data Matrix in dim light.
func TestRescuePhotos(t *testing.T) {
	s := New(Options{})
	for _, name := range []string{
		"qrcode-3/22.png", // perspective: 45 modules, one transform misreads
		"qrcode-3/23.png",
		"qrcode-2/12.png",     // picture QR: colour inside the modules
		"qrcode-4/14.png",     // printed on cloth, curved
		"datamatrix-2/18.png", // 40×40 Data Matrix, low contrast, tilted
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(corpusDirName, name)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(path[:len(path)-len(filepath.Ext(path))] + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Scan(context.Background(), data)
			if err != nil || !hasText(res.Codes, string(want)) {
				t.Fatalf("not decoded: %v %v", res, err)
			}
		})
	}
}

// distortion is a way a photo bends and lights a printed symbol.
type distortion struct {
	name string
	// tilt shrinks the right edge towards the middle (fraction of the
	// height): the symbol turned away from the camera.
	tilt float64
	// bulge bends straight lines outwards (radial coefficient).
	bulge float64
	// lo and hi are the grey levels black and white map to; shade darkens
	// the top-left corner by that fraction (uneven light).
	lo, hi, shade float64
}

// distort returns g as photographed under d, at the same size; pixels
// from outside g read as its edge.
func distort(g *image.Gray, d distortion) *image.Gray {
	w, h := g.Bounds().Dx(), g.Bounds().Dy()
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			// Normalised coordinates in [-1, 1].
			u, v := 2*float64(x)/float64(w)-1, 2*float64(y)/float64(h)-1
			r2 := u*u + v*v
			u, v = u*(1-d.bulge*r2), v*(1-d.bulge*r2)
			v /= 1 - d.tilt*(u+1)/2
			sx := math.Min(math.Max((u+1)/2*float64(w-1), 0), float64(w-2))
			sy := math.Min(math.Max((v+1)/2*float64(h-1), 0), float64(h-2))
			val := sampleGray(g, sx, sy) / 255
			light := 1 - d.shade*(1-(float64(x)/float64(w)+float64(y)/float64(h))/2)
			out.Pix[y*w+x] = uint8(math.Round((d.lo + (d.hi-d.lo)*val) * light))
		}
	}
	return out
}

// grayOf returns img as *image.Gray.
func grayOf(img image.Image) *image.Gray {
	b := img.Bounds()
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			g.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return g
}

// TestRescueDistorted decodes corpus photos made fainter, unevenly lit,
// tilted or bulged; the plain reads miss every one of them.
func TestRescueDistorted(t *testing.T) {
	faint := distortion{name: "faint", lo: 77, hi: 158}
	shaded := distortion{name: "shaded", hi: 255, shade: 0.75}
	tilted := distortion{name: "tilted", tilt: 0.3, hi: 255}
	bulged := distortion{name: "bulged", bulge: 0.12, hi: 255}
	cases := []struct {
		image string
		d     distortion
	}{
		{"qrcode-5/01.png", faint},
		{"qrcode-1/20.png", faint},
		{"datamatrix-2/11.png", faint},
		{"datamatrix-1/C40.png", faint},
		{"qrcode-1/13.png", shaded},
		{"datamatrix-2/15.png", shaded},
		{"qrcode-1/19.png", tilted},
		{"qrcode-3/20.png", tilted},
		{"qrcode-1/16.png", bulged},
		{"qrcode-3/05.png", bulged},
		{"datamatrix-1/abcd-26x12.png", bulged},
		{"datamatrix-1/reader-init.png", bulged},
		{"datamatrix-2/16.png", bulged},
	}
	s := New(Options{})
	for _, c := range cases {
		t.Run(c.image+"/"+c.d.name, func(t *testing.T) {
			path := filepath.Join(corpusDirName, c.image)
			img := decodeFile(t, path)
			want, err := os.ReadFile(path[:len(path)-len(filepath.Ext(path))] + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Scan(context.Background(), encodePNG(t, distort(grayOf(img), c.d)))
			if err != nil || !hasText(res.Codes, string(want)) {
				t.Fatalf("not decoded: %v %v", res, err)
			}
		})
	}
}

// TestFitHomography recovers a known perspective transform from four
// and from nine exact correspondences, and an affine one from three.
func TestFitHomography(t *testing.T) {
	want := homography{2.1, 0.3, 40, -0.2, 1.7, 25, 0.004, -0.002}
	affine := homography{2.1, 0.3, 40, -0.2, 1.7, 25, 0, 0}
	grid := func(n int, h homography) []qrAnchor {
		var as []qrAnchor
		for j := 0; j < n; j++ {
			for i := 0; i < n; i++ {
				m := pt{float64(i) * 20, float64(j) * 20}
				as = append(as, qrAnchor{m: m, p: h.apply(m)})
			}
		}
		return as
	}
	four := grid(2, want)
	cases := []struct {
		name string
		as   []qrAnchor
		fit  func([]qrAnchor) (homography, bool)
		want homography
	}{
		{"four", four, fitHomography, want},
		{"nine", grid(3, want), fitHomography, want},
		{"affine three", grid(2, affine)[:3], fitHomography, affine},
		{"affine least squares", grid(3, affine), fitAffine, affine},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, ok := c.fit(c.as)
			if !ok {
				t.Fatal("no fit")
			}
			for _, m := range []pt{{0, 0}, {7, 33}, {41, 12}} {
				if got, w := h.apply(m), c.want.apply(m); dist(got, w) > 1e-6 {
					t.Errorf("%v → %v, want %v", m, got, w)
				}
			}
		})
	}
	if _, ok := fitHomography(four[:2]); ok {
		t.Error("two points fitted")
	}
}

// TestGridReadersNoise feeds the grid samplers bitmaps with no symbol:
// blank, black, and random noise of several densities. They must find
// nothing, and not panic.
func TestGridReadersNoise(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 4))
	cases := []struct {
		name    string
		w, h    int
		density float64
	}{
		{"white", 200, 200, 0},
		{"black", 200, 200, 1},
		{"sparse", 300, 200, 0.1},
		{"even", 240, 240, 0.5},
		{"dense", 100, 300, 0.9},
		{"tiny", 21, 21, 0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k := 0; k < 5; k++ {
				bm, err := gozxing.NewBitMatrix(c.w, c.h)
				if err != nil {
					t.Fatal(err)
				}
				for y := 0; y < c.h; y++ {
					for x := 0; x < c.w; x++ {
						if rng.Float64() < c.density {
							bm.Set(x, y)
						}
					}
				}
				hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}
				if r, err := qrRead(bm, qrdec.NewDecoder(), hints, nil); r != nil || err == nil {
					t.Errorf("QR from noise: %v", r)
				}
				if r, err := dmRead(bm, dmdec.NewDecoder(), nil); r != nil || err == nil {
					t.Errorf("Data Matrix from noise: %v", r)
				}
				// The same noise as a grey plane, for the grey reading.
				g := newPlane(c.w, c.h)
				for y := 0; y < c.h; y++ {
					for x := 0; x < c.w; x++ {
						if !bm.Get(x, y) {
							g.pix[y*g.stride+x] = 255
						}
					}
				}
				if r, err := dmRead(bm, dmdec.NewDecoder(), &g); r != nil || err == nil {
					t.Errorf("Data Matrix from noise in grey: %v", r)
				}
			}
		})
	}
}

// TestReadSharpened reads 2D codes cropped from realistic label photos
// (internal/photogen, 12 MP) whose blur spreads over about half a module:
// a seal QR code of 3.3 px modules under blur σ 2.6 px, which only the
// unsharp mask brings back, and a Data Matrix of 4.5 px modules under σ
// 2.6 px, which gozxing's detector does not see (so the rescue reads never
// start) while posid's grid sampler reads it; and a Data Matrix of 4.8 px
// modules near the edge of a label over a background about as bright as
// the label's paper (3 MP), which only the global threshold keeps apart
// from the background. The reads of a located 2D region (readMatrix, with
// its rescue) miss all three.
func TestReadSharpened(t *testing.T) {
	for _, name := range []string{"seal-qr", "dm", "dm-label-edge"} {
		t.Run(name, func(t *testing.T) {
			p, r, want := blurredCrop(t, name)
			side := float64(min(p.w, p.h))
			cx, cy := r.cx, r.cy
			plain := newSession(newFormatSet(nil))
			plain.readMatrix(p, r, cx, cy, 4, false)
			if hasText(plain.codes(), want) {
				t.Fatal("the plain reads already decode this crop; it tests nothing")
			}
			ses := newSession(newFormatSet(nil))
			if n := ses.readSharpened(p, cx, cy, side); n == 0 || !hasText(ses.codes(), want) {
				t.Errorf("readSharpened read %v, want %.40q…", ses.codes(), want)
			}
		})
	}
}

// blurredCrop loads testdata/blurred2d/NAME.jpg, a crop of one 2D code, as
// a plane, with a region whose square (readMatrix) is the whole crop and
// the code's text from NAME.txt.
func blurredCrop(t *testing.T, name string) (plane, region, string) {
	t.Helper()
	path := filepath.Join("testdata", "blurred2d", name)
	want, err := os.ReadFile(path + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	p := luminance(decodeFile(t, path+".jpg"))
	side := float64(min(p.w, p.h))
	cx, cy := float64(p.w)/2, float64(p.h)/2
	return p, region{cx: cx, cy: cy, lenU: (side - 2*cellSize) / 1.5, lenV: (side - 2*cellSize) / 1.5, cells: 100}, string(want)
}

// decodeFile decodes the image file at path, failing t when it cannot.
func decodeFile(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
