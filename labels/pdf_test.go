package labels

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"posid/internal/tooltest"
)

// fixedSigner signs with a key derived from a fixed seed, so output is
// reproducible (Ed25519 signatures are deterministic).
func fixedSigner(t testing.TB) (*Signer, *KeySet) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	sg, err := NewSigner(1, priv, testBase)
	if err != nil {
		t.Fatal(err)
	}
	ks := &KeySet{Keys: map[KeyID]PublicKey{1: {Key: priv.Public().(ed25519.PublicKey), Status: KeyActive, ValidFrom: testDay.AddDate(-1, 0, 0)}}}
	return sg, ks
}

func testLabel(t testing.TB, sg *Signer) Label {
	t.Helper()
	l := Label{SN: "PX2611300000ABCD", Model: "A920", Supplier: "SUP-01", Manufacturer: "百富 PAX", Batch: "B-2026-11", Date: testDay}
	var err error
	l.SealURL, err = sg.Sign(Seal{Date: l.Date, SN: l.SN, Model: l.Model, Supplier: l.Supplier})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// rasterize renders page 1 of a PDF with pdftoppm at dpi.
func rasterize(t testing.TB, pdf []byte, dpi string) image.Image {
	t.Helper()
	tool := tooltest.Pdftoppm(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pdf")
	if err := os.WriteFile(in, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-r", dpi, "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", in, filepath.Join(dir, "out")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "out.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// decodeCode128 reads a Code 128 barcode from img with gozxing directly,
// a decoder independent of posid/scan (TestPDFScanRoundTrip uses scan).
func decodeCode128(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := oned.NewCode128Reader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode Code 128: %v", err)
	}
	return res.GetText()
}

// TestPDFRoundTrip renders a label to PDF, rasterizes it with pdftoppm at the
// printer resolutions, decodes both barcodes and verifies the seal.
func TestPDFRoundTrip(t *testing.T) {
	sg, ks := fixedSigner(t)
	l := testLabel(t, sg)
	for _, size := range []string{"50x30", "60x40", "70x50", "a4", "a4x24"} {
		for _, dpi := range []struct {
			opt    int
			raster string
		}{{DPI203, "203.2"}, {DPI300, "300"}, {DPI600, "600"}} {
			if dpi.opt == DPI600 && size[0] == 'a' {
				continue // 600 dpi is for thermal printers; an A4 page at 600 dpi is 35 megapixels
			}
			t.Run(fmt.Sprintf("%s/%d", size, dpi.opt), func(t *testing.T) {
				sz, err := ParseSize(size)
				if err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				n, err := WritePDF(context.Background(), &buf, SliceSource([]Label{l, l}), Options{Size: sz, DPI: dpi.opt})
				if err != nil || n != 2 {
					t.Fatalf("WritePDF = %d, %v", n, err)
				}
				img := rasterize(t, buf.Bytes(), dpi.raster)
				if sz.Sheet != nil { // crop the first label of the sheet
					k := float64(img.Bounds().Dx()) / sz.Sheet.PageWidth
					x0, y0 := sz.origin(0)
					img = img.(interface {
						SubImage(image.Rectangle) image.Image
					}).SubImage(image.Rect(int(x0*k), int(y0*k), int((x0+sz.Width)*k), int((y0+sz.Height)*k)))
				}
				text := scanQR(t, img)
				if v := ks.Verify(text); v.Verdict != Genuine {
					t.Fatalf("seal from PDF: %s (%s)", v.Verdict, v.Reason)
				}
				if sn := decodeCode128(t, img); sn != l.SN {
					t.Fatalf("Code 128 = %q, want %q", sn, l.SN)
				}
				lay, _ := NewLayout(l, Options{Size: sz, DPI: dpi.opt})
				t.Logf("%d bytes for 2 labels; QR v%d module %d dots, Code 128 module %d dots", buf.Len(), lay.QR.Version, lay.ModuleDots, lay.BarDots)
			})
		}
	}
}

func TestPDFFontEmbedded(t *testing.T) {
	sg, _ := fixedSigner(t)
	var buf bytes.Buffer
	if _, err := WritePDF(context.Background(), &buf, SliceSource([]Label{testLabel(t, sg)}), Options{}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 200<<10 {
		t.Errorf("one-label PDF is %d bytes; font not subset?", buf.Len())
	}
	cmd := exec.Command(tooltest.Path(t, "pdftotext", "poppler-utils"), "-", "-")
	cmd.Stdin = &buf
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"序列号 SN", "PX2611300000ABCD", "型号 Model A920", "供应商 Supplier SUP-01", "扫码验证真伪 Scan to verify", "百富"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("PDF text lacks %q:\n%s", want, out)
		}
	}
}
