package scan

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// testdataDir holds the fixture images of the scan tests.
const testdataDir = "../testdata/scan"

// symbol renders one barcode on a white canvas with a margin.
func symbol(t testing.TB, f Format, text string) *image.Gray {
	t.Helper()
	var w gozxing.Writer
	switch f {
	case QRCode:
		w = qrcode.NewQRCodeWriter()
	case DataMatrix:
		w = datamatrix.NewDataMatrixWriter()
	case Code128:
		w = oned.NewCode128Writer()
	case Code39:
		w = oned.NewCode39Writer()
	case EAN13:
		w = oned.NewEAN13Writer()
	case EAN8:
		w = oned.NewEAN8Writer()
	case UPCA:
		w = oned.NewUPCAWriter()
	case UPCE:
		w = oned.NewUPCEWriter()
	case ITF:
		w = oned.NewITFWriter()
	}
	m, err := w.Encode(text, gozxingFormat[f], 0, 0, nil)
	if err != nil {
		t.Fatalf("encode %s %q: %v", f, text, err)
	}
	scale, h := 3, m.GetHeight()*3
	if !is2D(f) {
		h = 120
	}
	img := image.NewGray(image.Rect(0, 0, m.GetWidth()*scale+60, h+60))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for y := 0; y < h; y++ {
		for x := 0; x < m.GetWidth()*scale; x++ {
			my := y / scale
			if !is2D(f) {
				my = 0
			}
			if m.Get(x/scale, my) {
				img.SetGray(x+30, y+30, color.Gray{})
			}
		}
	}
	return img
}

// encodePNG returns img as PNG bytes.
func encodePNG(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestScanFormats(t *testing.T) {
	tests := []struct {
		f    Format
		text string
	}{
		{QRCode, "https://posid.example/v/1234567890"},
		{DataMatrix, "SN:PX-00112233"},
		{Code128, "KR60323630"},
		{Code39, "POSID-39"},
		{EAN13, "4006381333931"},
		{EAN8, "96385074"},
		{UPCA, "036000291452"},
		{UPCE, "01234565"},
		{ITF, "00012345678905"},
	}
	s := New(Options{})
	for _, tt := range tests {
		t.Run(string(tt.f), func(t *testing.T) {
			res, err := s.Scan(context.Background(), encodePNG(t, symbol(t, tt.f, tt.text)))
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			found := false
			for _, c := range res.Codes {
				if c.Format == tt.f && c.Text == tt.text {
					found = true
					if len(c.Points) < 2 {
						t.Errorf("%s: %d points", c.Format, len(c.Points))
					}
				} else if c.Format != EAN13 && tt.f != UPCA { // UPC-A is EAN-13 with a 0
					t.Errorf("extra code %+v", c)
				}
			}
			if !found {
				t.Errorf("want %s %q, got %+v", tt.f, tt.text, res.Codes)
			}
		})
	}
}

func TestScanLabel(t *testing.T) {
	spec := labelSpec{
		QR:    "https://posid.example/v/40000000000001",
		Lines: []string{"AB12345678", "356938035643809", "TUS000123456"},
		Names: []string{"SN", "IMEI", "TUSN"},
	}
	label := renderLabel(t, spec)
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"png", encodePNG(t, label)},
		{"jpeg", encodeJPEG(t, label, 80)},
		{"gif", encodeGIF(t, label)},
		{"inverted", encodePNG(t, invert(label))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New(Options{}).Scan(context.Background(), tt.data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			want := append([]string{spec.QR}, spec.Lines...)
			if len(res.Codes) != len(want) {
				t.Fatalf("got %d codes %+v, want %d", len(res.Codes), res.Codes, len(want))
			}
			got := map[string]bool{}
			for _, c := range res.Codes {
				got[c.Text] = true
				for _, p := range c.Points {
					if p.X < -1 || p.Y < -1 || p.X > float64(res.Width) || p.Y > float64(res.Height) {
						t.Errorf("%s: point %v outside %dx%d", c.Text, p, res.Width, res.Height)
					}
				}
			}
			for _, w := range want {
				if !got[w] {
					t.Errorf("missing %q", w)
				}
			}
			sel, err := Selector{Rules: DefaultRules()}.Select(res.Codes)
			if err != nil || sel.SN != "AB12345678" {
				t.Errorf("Select = %+v, %v", sel, err)
			}
		})
	}
}

func TestScanFixtures(t *testing.T) {
	tests := []struct {
		file  string
		codes int
	}{
		{"multi-qr4.png", 4},
		{"multi-ean8-qr.png", 2},
		{"label.webp", 2},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(testdataDir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			res, err := New(Options{}).Scan(context.Background(), data)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if len(res.Codes) != tt.codes {
				t.Errorf("got %d codes, want %d: %+v", len(res.Codes), tt.codes, res.Codes)
			}
		})
	}
}

func TestScanErrors(t *testing.T) {
	good := encodePNG(t, symbol(t, QRCode, "hello"))
	jpg := encodeJPEG(t, symbol(t, QRCode, "hello"), 90)
	tests := []struct {
		name string
		opts Options
		data []byte
		want error
	}{
		{"empty", Options{}, nil, ErrUnsupportedImage},
		{"junk", Options{}, []byte("this is not an image at all"), ErrUnsupportedImage},
		{"truncated png", Options{}, good[:len(good)/2], ErrCorruptImage},
		{"truncated jpeg", Options{}, jpg[:len(jpg)/2], ErrCorruptImage},
		{"png header only", Options{}, good[:40], ErrCorruptImage},
		{"too many pixels", Options{MaxPixels: 1000}, good, ErrImageTooLarge},
		{"too many bytes", Options{MaxBytes: 100}, good, ErrImageTooLarge},
		{"no barcode", Options{}, encodePNG(t, image.NewGray(image.Rect(0, 0, 50, 50))), ErrNoBarcode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts).Scan(context.Background(), tt.data)
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestScanContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{}).Scan(ctx, encodePNG(t, symbol(t, QRCode, "x")))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	// A short deadline bounds the time spent on an image without codes.
	noise := image.NewGray(image.Rect(0, 0, 3000, 2000))
	for i := range noise.Pix {
		noise.Pix[i] = byte(i * 7919 % 251)
	}
	start := time.Now()
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = New(Options{}).ScanImage(ctx, noise)
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("ScanImage took %v with a 50ms deadline", el)
	}
	if err == nil {
		t.Error("ScanImage found codes in noise")
	}
}

func TestScanConcurrent(t *testing.T) {
	s := New(Options{})
	data := encodePNG(t, renderLabel(t, labelSpec{QR: "https://posid.example/v/1", Lines: []string{"CC00112233"}, Names: []string{"SN"}}))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := s.Scan(context.Background(), data)
			if err != nil || len(res.Codes) != 2 {
				t.Errorf("Scan = %+v, %v", res, err)
			}
		}()
	}
	wg.Wait()
}

func TestFormatsOption(t *testing.T) {
	data := encodePNG(t, renderLabel(t, labelSpec{QR: "https://posid.example/v/1", Lines: []string{"CC00112233"}, Names: []string{"SN"}}))
	res, err := New(Options{Formats: []Format{QRCode}}).Scan(context.Background(), data)
	if err != nil || len(res.Codes) != 1 || res.Codes[0].Format != QRCode {
		t.Errorf("QR only: %+v, %v", res, err)
	}
	res, err = New(Options{Formats: []Format{Code128}}).Scan(context.Background(), data)
	if err != nil || len(res.Codes) != 1 || res.Codes[0].Format != Code128 {
		t.Errorf("Code 128 only: %+v, %v", res, err)
	}
}

// encodeJPEG returns img as JPEG bytes.
func encodeJPEG(t testing.TB, img image.Image, q int) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGIF returns img as GIF bytes.
func encodeGIF(t testing.TB, img image.Image) []byte {
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// invert returns a negative of g (light bars on a dark label).
func invert(g *image.Gray) *image.Gray {
	out := image.NewGray(g.Bounds())
	for i, v := range g.Pix {
		out.Pix[i] = 255 - v
	}
	return out
}
