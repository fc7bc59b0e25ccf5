package printing_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"posid/internal/printing"
	"posid/internal/printing/printingtest"
	"posid/internal/tooltest"
	"posid/labels"
	"posid/scan"
)

// TestIPPToCUPS prints a label PDF to the cups-pdf queue over IPP, finds
// the PDF cups-pdf wrote, rasterizes it with pdftoppm and reads the SN
// back from the QR seal and the Code 128 with posid's scanner.
func TestIPPToCUPS(t *testing.T) {
	queue := printingtest.CUPS(t)
	tool := tooltest.Pdftoppm(t)
	ctx := context.Background()
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{4}, ed25519.SeedSize))
	sg, err := labels.NewSigner(2, priv, "https://verify.posid.example")
	if err != nil {
		t.Fatal(err)
	}
	const sn = "PX2612060000CAFE"
	var pdf bytes.Buffer
	src := labels.Sealed(labels.SliceSource([]labels.Label{{SN: sn, Model: "A920", Supplier: "SUP1"}}), sg, time.Now)
	if _, err := labels.WritePDF(ctx, &pdf, src, labels.Options{}); err != nil {
		t.Fatal(err)
	}
	tag := make([]byte, 6)
	rand.Read(tag)
	title := "posid-test-" + hex.EncodeToString(tag)
	p := printing.Printer{Name: "cups", Kind: printing.KindIPP, Address: queue}
	if p, err = p.Normalize(); err != nil {
		t.Fatal(err)
	}
	// A user without a home directory (and with characters a user name
	// may not have): cups-pdf writes to AnonDirName.
	sent, err := printing.Send(ctx, p, pdf.Bytes(), title, "apikey:ab12(warehouse 1)")
	if err != nil {
		t.Fatal(err)
	}
	if sent.JobID <= 0 {
		t.Errorf("job id %d", sent.JobID)
	}
	out := printingtest.CUPSOutput(t, title)
	base := filepath.Join(t.TempDir(), "page")
	if b, err := exec.Command(tool, "-r", "300", "-gray", "-png", "-f", "1", "-l", "1", "-singlefile", out, base).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm %s: %v\n%s", out, err, b)
	}
	img := cropToInk(t, base+".png")
	res, err := scan.New(scan.Options{}).Scan(ctx, img)
	if err != nil {
		t.Fatalf("scan the printed PDF: %v", err)
	}
	var seal, bar string
	for _, c := range res.Codes {
		switch c.Format {
		case scan.QRCode:
			seal = c.Text
		case scan.Code128:
			bar = c.Text
		}
	}
	if got, ok := labels.SealSN(seal); !ok || got != sn || bar != sn {
		t.Fatalf("printed PDF reads seal SN %q (%v), Code 128 %q; want %s", got, ok, bar, sn)
	}
}

// cropToInk reads the PNG at path and returns, as PNG, the part of it
// that holds ink and a margin: cups-pdf places the label on a full page,
// most of it blank.
func cropToInk(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	ink := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := img.At(x, y).RGBA(); r < 0x8000 {
				ink = ink.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if ink.Empty() {
		t.Fatalf("%s: a blank page", path)
	}
	ink = ink.Inset(-60).Intersect(b)
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		t.Fatalf("%T has no SubImage", img)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, sub.SubImage(ink)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
