package labels_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"posid/internal/tooltest"
	"posid/labels"
	"posid/scan"
)

// TestPDFScanRoundTrip is the end-to-end proof over independent paths:
// sign a seal, render the label to PDF, rasterize it with pdftoppm at the
// printer resolutions, read it back with posid/scan, verify the seal and
// compare the Code 128 with the SN.
func TestPDFScanRoundTrip(t *testing.T) {
	tool := tooltest.Pdftoppm(t)
	day := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	sg, err := labels.NewSigner(3, priv, "https://verify.posid.example")
	if err != nil {
		t.Fatal(err)
	}
	ks := &labels.KeySet{Keys: map[labels.KeyID]labels.PublicKey{3: {Key: priv.Public().(ed25519.PublicKey), Status: labels.KeyRetired, ValidFrom: day.AddDate(-1, 0, 0), ValidTo: &day}}}
	src := labels.Sealed(labels.SliceSource([]labels.Label{{SN: "px2611300000abcd", Model: "A920", Supplier: "SUP-01", Date: day}}), sg, time.Now)
	var pdf bytes.Buffer
	if _, err := labels.WritePDF(context.Background(), &pdf, src, labels.Options{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "label.pdf")
	if err := os.WriteFile(in, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dpi := range []string{"203.2", "300"} {
		t.Run(dpi, func(t *testing.T) {
			base := filepath.Join(dir, "p"+dpi)
			if out, err := exec.Command(tool, "-r", dpi, "-gray", "-png", "-singlefile", in, base).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v\n%s", err, out)
			}
			img, err := os.ReadFile(base + ".png")
			if err != nil {
				t.Fatal(err)
			}
			res, err := scan.New(scan.Options{}).Scan(context.Background(), img)
			if err != nil {
				t.Fatalf("scan: %v", err)
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
			// Retired key, label dated on the retirement day: still genuine.
			if v := ks.Verify(seal); v.Verdict != labels.Genuine {
				t.Fatalf("seal %q: %s (%s); codes %s", seal, v.Verdict, v.Reason, fmt.Sprint(res.Codes))
			}
			if sn, ok := labels.SealSN(seal); !ok || sn != "PX2611300000ABCD" || bar != sn {
				t.Fatalf("SealSN = %q, %v; Code 128 = %q", sn, ok, bar)
			}
		})
	}
}
