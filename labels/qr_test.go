package labels

import (
	"image"
	"image/color"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	qrcode "github.com/skip2/go-qrcode"
)

// qrImage draws q with a quiet zone at scale pixels per module.
func qrImage(q *QR, scale int) *image.Gray {
	n := (q.Size + 2*QuietZone) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			mx, my := x/scale-QuietZone, y/scale-QuietZone
			c := color.Gray{255}
			if mx >= 0 && my >= 0 && mx < q.Size && my < q.Size && q.Dark(mx, my) {
				c = color.Gray{0}
			}
			img.SetGray(x, y, c)
		}
	}
	return img
}

func decodeQR(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

func TestEncodeQR(t *testing.T) {
	_, sg, _ := newTestSigner(t)
	url, err := sg.Sign(testSeal())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		text       string
		maxVersion int
	}{
		{"seal URL, 16-char SN", url, 8},
		{"short text", "hello", 1},
		{"digits only", strings.Repeat("1234567890", 20), 6},
		{"no trailing digits", "https://verify.posid.example/about", 3},
		{"long SN and model", mustSign(t, sg, Seal{Date: testDay, SN: strings.Repeat("X", 40), Model: strings.Repeat("M", 40), Supplier: strings.Repeat("S", 16)}), 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := EncodeQR(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if q.Version > tt.maxVersion {
				t.Errorf("version %d, want ≤ %d", q.Version, tt.maxVersion)
			}
			if got := decodeQR(t, qrImage(q, 4)); got != tt.text {
				t.Fatalf("decoded %q, want %q", got, tt.text)
			}
			gq, _ := qrcode.New(tt.text, qrcode.Medium)
			t.Logf("%d chars: version %d (%d modules); go-qrcode version %d", len(tt.text), q.Version, q.Size, gq.VersionNumber)
		})
	}
}

func mustSign(t testing.TB, sg *Signer, s Seal) string {
	t.Helper()
	u, err := sg.Sign(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
