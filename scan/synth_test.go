package scan

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// This file draws the "clean" synthetic label photos used by several scan
// tests (TestSyntheticPhotos, the scan benchmarks, EXIF and intake tests).
// They are easier than users' photos and drawn by the same library the
// decoder uses; realistic photos come from internal/photogen.

// labelSpec describes a synthetic device label.
type labelSpec struct {
	QR    string   // QR payload; empty for none
	Lines []string // Code 128 payloads, top to bottom
	Names []string // captions printed left of each line ("SN", "IMEI"...)
}

// module is the width of one barcode module on a rendered label, in pixels.
const module = 3

// randomSpec returns a label like those on POS terminals.
func randomSpec(rng *rand.Rand) labelSpec {
	digits := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		return string(b)
	}
	alnum := func(n int) string {
		const set = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
		b := make([]byte, n)
		for i := range b {
			b[i] = set[rng.IntN(len(set))]
		}
		return string(b)
	}
	sn := alnum(2) + digits(8)
	spec := labelSpec{Lines: []string{sn}, Names: []string{"SN"}}
	if rng.IntN(3) > 0 {
		spec.Lines = append(spec.Lines, digits(15))
		spec.Names = append(spec.Names, "IMEI")
	}
	if rng.IntN(2) == 0 {
		spec.Lines = append(spec.Lines, alnum(3)+digits(9))
		spec.Names = append(spec.Names, "TUSN")
	}
	if rng.IntN(5) > 0 {
		spec.QR = "https://posid.example/v/" + digits(14)
	}
	return spec
}

// renderLabel draws spec on a white label.
func renderLabel(t testing.TB, spec labelSpec) *image.Gray {
	const width = 1100
	var bars []*gozxing.BitMatrix
	for _, l := range spec.Lines {
		m, err := oned.NewCode128Writer().Encode(l, gozxing.BarcodeFormat_CODE_128, 0, 1, nil)
		if err != nil {
			t.Fatalf("code128 %q: %v", l, err)
		}
		bars = append(bars, m)
	}
	qrSide := 0
	var qr *gozxing.BitMatrix
	if spec.QR != "" {
		m, err := qrcode.NewQRCodeWriter().Encode(spec.QR, gozxing.BarcodeFormat_QR_CODE, 0, 0, nil)
		if err != nil {
			t.Fatalf("qr: %v", err)
		}
		qr, qrSide = m, m.GetWidth()*4
	}
	lineH := 36 * module
	height := max(qrSide+40, 40+len(bars)*(lineH+60))
	img := image.NewGray(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	x := 20
	if qr != nil {
		for y := 0; y < qrSide; y++ {
			for xx := 0; xx < qrSide; xx++ {
				if qr.Get(xx/4, y/4) {
					img.SetGray(x+xx, 20+y, color.Gray{})
				}
			}
		}
		x += qrSide + 10
	}
	y := 30
	for i, m := range bars {
		drawText(img, x+8, y+4, spec.Names[i]+": "+spec.Lines[i])
		for row := 0; row < lineH; row++ {
			for col := 0; col < m.GetWidth()*module && x+col < width; col++ {
				if m.Get(col/module, 0) {
					img.SetGray(x+col, y+30+row, color.Gray{Y: 10})
				}
			}
		}
		y += lineH + 60
	}
	return img
}

// drawText prints s at 2× the basic font size.
func drawText(dst *image.Gray, x, y int, s string) {
	small := image.NewGray(image.Rect(0, 0, 7*len(s)+2, 14))
	draw.Draw(small, small.Bounds(), image.White, image.Point{}, draw.Src)
	d := font.Drawer{Dst: small, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(1, 11)}
	d.DrawString(s)
	for yy := 0; yy < 28; yy++ {
		for xx := 0; xx < small.Bounds().Dx()*2; xx++ {
			if px, py := x+xx, y+yy-14; image.Pt(px, py).In(dst.Bounds()) && small.GrayAt(xx/2, yy/2).Y < 128 {
				dst.SetGray(px, py, color.Gray{Y: 30})
			}
		}
	}
}

// photoSpec describes how a label is photographed.
type photoSpec struct {
	W, H    int
	Frac    float64 // label width / photo width
	Angle   float64 // radians
	Tilt    float64 // perspective strength
	Noise   float64 // Gaussian noise σ
	Glare   bool
	Blur    int // box blur radius in photo pixels
	Quality int // JPEG quality
}

// randomPhoto picks photo conditions for a label; mp is the size in MP.
func randomPhoto(rng *rand.Rand, mp float64) photoSpec {
	w := int(math.Sqrt(mp * 1e6 * 4 / 3))
	ps := photoSpec{W: w, H: w * 3 / 4, Frac: 0.45 + 0.3*rng.Float64(),
		Tilt: 0.15 * rng.Float64(), Noise: 2 + 5*rng.Float64(), Glare: rng.IntN(3) == 0,
		Blur: rng.IntN(2), Quality: 70 + rng.IntN(21)}
	if rng.IntN(10) < 7 {
		ps.Angle = (rng.Float64()*30 - 15) * math.Pi / 180
	} else {
		ps.Angle = rng.Float64() * 2 * math.Pi
	}
	if rng.IntN(2) == 0 {
		ps.W, ps.H = ps.H, ps.W
	}
	return ps
}

// photograph warps label into a photo and returns it JPEG-encoded.
func photograph(t testing.TB, rng *rand.Rand, label *image.Gray, ps photoSpec) []byte {
	lw, lh := float64(label.Bounds().Dx()), float64(label.Bounds().Dy())
	scale := ps.Frac * float64(ps.W) / lw
	cos, sin := math.Cos(ps.Angle), math.Sin(ps.Angle)
	cx, cy := float64(ps.W)/2+(rng.Float64()-0.5)*0.1*float64(ps.W), float64(ps.H)/2+(rng.Float64()-0.5)*0.1*float64(ps.H)
	kx, ky := (rng.Float64()-0.5)*ps.Tilt/lw, (rng.Float64()-0.5)*ps.Tilt/lh
	img := image.NewYCbCr(image.Rect(0, 0, ps.W, ps.H), image.YCbCrSubsampleRatio420)
	gx, gy := rng.Float64()*float64(ps.W), rng.Float64()*float64(ps.H)
	gr := float64(ps.W) * (0.1 + 0.2*rng.Float64())
	bgBase := 60 + rng.Float64()*80
	for y := 0; y < ps.H; y++ {
		row := img.Y[y*img.YStride:]
		for x := 0; x < ps.W; x++ {
			// Inverse map: photo → label, with a perspective term.
			dx, dy := float64(x)-cx, float64(y)-cy
			u, v := (cos*dx+sin*dy)/scale, (-sin*dx+cos*dy)/scale
			wgt := 1 + kx*u + ky*v
			u, v = u/wgt+lw/2, v/wgt+lh/2
			var l float64
			if u >= 0 && v >= 0 && u < lw-1 && v < lh-1 {
				l = sampleGray(label, u, v)*0.82 + 30
			} else {
				l = bgBase + 20*math.Sin(float64(x)/97)*math.Cos(float64(y)/131)
			}
			l *= 0.75 + 0.35*float64(x)/float64(ps.W) // uneven light
			if ps.Glare {
				d := math.Hypot(float64(x)-gx, float64(y)-gy) / gr
				l += 120 * math.Exp(-d*d)
			}
			l += rng.NormFloat64() * ps.Noise
			row[x] = byte(math.Max(0, math.Min(255, l)))
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 124, 133
	}
	if ps.Blur > 0 {
		boxBlur(img.Y, img.YStride, ps.W, ps.H, ps.Blur)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: ps.Quality}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sampleGray reads a label bilinearly.
func sampleGray(g *image.Gray, u, v float64) float64 {
	x0, y0 := int(u), int(v)
	fx, fy := u-float64(x0), v-float64(y0)
	p := func(x, y int) float64 { return float64(g.Pix[y*g.Stride+x]) }
	return (p(x0, y0)*(1-fx)+p(x0+1, y0)*fx)*(1-fy) + (p(x0, y0+1)*(1-fx)+p(x0+1, y0+1)*fx)*fy
}

// boxBlur blurs a plane in place, horizontally then vertically.
func boxBlur(pix []byte, stride, w, h, r int) {
	tmp := make([]byte, max(w, h))
	n := 2*r + 1
	for y := 0; y < h; y++ {
		row := pix[y*stride : y*stride+w]
		for x := range w {
			s := 0
			for k := -r; k <= r; k++ {
				s += int(row[min(w-1, max(0, x+k))])
			}
			tmp[x] = byte(s / n)
		}
		copy(row, tmp[:w])
	}
	for x := 0; x < w; x++ {
		for y := range h {
			s := 0
			for k := -r; k <= r; k++ {
				s += int(pix[min(h-1, max(0, y+k))*stride+x])
			}
			tmp[y] = byte(s / n)
		}
		for y := range h {
			pix[y*stride+x] = tmp[y]
		}
	}
}

// synthPhoto is one generated photo and what it shows.
type synthPhoto struct {
	name string
	spec labelSpec
	data []byte
}

// makePhotos generates n label photos of the given size (MP) from seed.
func makePhotos(t testing.TB, seed uint64, n int, mp func(i int) float64) []synthPhoto {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []synthPhoto
	for i := range n {
		spec := randomSpec(rng)
		ps := randomPhoto(rng, mp(i))
		out = append(out, synthPhoto{
			name: fmt.Sprintf("%02d_%dx%d_a%.0f", i, ps.W, ps.H, ps.Angle*180/math.Pi),
			spec: spec,
			data: photograph(t, rng, renderLabel(t, spec), ps),
		})
	}
	return out
}
