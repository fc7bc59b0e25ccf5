package labels_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posid/internal/tooltest"
	"posid/labels"
	"posid/scan"
)

// TestSheetScan prints full A4 sheets of labels with distinct serial
// numbers, rasterizes them with pdftoppm at the printer resolutions and
// checks that one scan of the page finds every QR code and every Code 128,
// each placed inside the label cell that holds it.
func TestSheetScan(t *testing.T) {
	tool := tooltest.Pdftoppm(t)
	if testing.Short() {
		t.Skip("rasterizes and scans full A4 pages")
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	sg, err := labels.NewSigner(5, priv, "https://verify.posid.example")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		size string
		n    int // labels printed; 0 means a full sheet
		dpi  int
	}{
		{"a4", 0, labels.DPI203},
		{"a4", 0, labels.DPI300},
		{"a4x24", 0, labels.DPI203},
		{"a4x24", 0, labels.DPI300},
		{"a4", 12, labels.DPI203}, // a sheet printed in part
	} {
		size, dpi := tt.size, tt.dpi
		t.Run(fmt.Sprintf("%s/%d/%d", size, tt.n, dpi), func(t *testing.T) {
			sz, err := labels.ParseSize(size)
			if err != nil {
				t.Fatal(err)
			}
			n := sz.PerPage()
			if tt.n > 0 {
				n = tt.n
			}
			ls := make([]labels.Label, n)
			for i := range ls {
				// Distinct SNs of the same shape, so a code read in
				// the wrong cell cannot pass for the right one.
				ls[i] = labels.Label{SN: fmt.Sprintf("PX%02d%04d%06d", i, dpi, 377000+i*7919), Model: "A920", Supplier: "SUP-01", Date: day}
			}
			var pdf bytes.Buffer
			src := labels.Sealed(labels.SliceSource(ls), sg, time.Now)
			if _, err := labels.WritePDF(context.Background(), &pdf, src, labels.Options{Size: sz, DPI: dpi}); err != nil {
				t.Fatal(err)
			}
			in := filepath.Join(dir, fmt.Sprintf("%s-%d-%d.pdf", size, n, dpi))
			if err := os.WriteFile(in, pdf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			res := rasterScan(t, tool, in, dpi)
			checkSheet(t, sz, dpi, ls, res)
		})
	}
}

// rasterScan rasterizes the first page of a PDF at the printer resolution
// (203 dpi printers have 8 dots/mm, 203.2 dpi) and scans it.
func rasterScan(t *testing.T, tool, in string, dpi int) *scan.Result {
	t.Helper()
	res := "300"
	if dpi == labels.DPI203 {
		res = "203.2"
	}
	base := strings.TrimSuffix(in, ".pdf")
	if out, err := exec.Command(tool, "-r", res, "-gray", "-png", "-singlefile", in, base).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	img, err := os.ReadFile(base + ".png")
	if err != nil {
		t.Fatal(err)
	}
	r, err := scan.New(scan.Options{Timeout: time.Minute}).Scan(context.Background(), img)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if r.Partial {
		t.Errorf("scan ran out of time")
	}
	return r
}

// checkSheet compares the codes of a scanned sheet with the labels printed
// on it: the same set of (format, text), each inside its label's cell.
func checkSheet(t *testing.T, sz labels.Size, dpi int, ls []labels.Label, res *scan.Result) {
	t.Helper()
	pxPerMM := float64(res.Width) / sz.Sheet.PageWidth
	cell := map[string]int{} // "format\x00text" → label index
	for i, l := range ls {
		cell[string(scan.Code128)+"\x00"+l.SN] = i
	}
	for _, c := range res.Codes {
		if c.Format == scan.QRCode {
			if sn, ok := labels.SealSN(c.Text); ok {
				for i, l := range ls {
					if l.SN == sn {
						cell[string(scan.QRCode)+"\x00"+c.Text] = i
					}
				}
			}
		}
		key := string(c.Format) + "\x00" + c.Text
		i, ok := cell[key]
		if !ok {
			t.Errorf("unexpected %s %q", c.Format, c.Text)
			continue
		}
		col, row := i%sz.Sheet.Cols, i/sz.Sheet.Cols
		x0 := (sz.Sheet.Left + float64(col)*sz.Sheet.PitchX) * pxPerMM
		y0 := (sz.Sheet.Top + float64(row)*sz.Sheet.PitchY) * pxPerMM
		x1, y1 := x0+sz.Width*pxPerMM, y0+sz.Height*pxPerMM
		if len(c.Points) == 0 {
			t.Errorf("%s %q: no position", c.Format, c.Text)
		}
		for _, p := range c.Points {
			if p.X < x0 || p.X > x1 || p.Y < y0 || p.Y > y1 {
				t.Errorf("%s %q: point (%.0f, %.0f) outside label %d cell (%.0f, %.0f)-(%.0f, %.0f)", c.Format, c.Text, p.X, p.Y, i, x0, y0, x1, y1)
				break
			}
		}
	}
	count := map[scan.Format]int{}
	for _, c := range res.Codes {
		count[c.Format]++
	}
	if count[scan.QRCode] != len(ls) || count[scan.Code128] != len(ls) || len(res.Codes) != 2*len(ls) {
		t.Errorf("%d dpi: found %d QR and %d Code 128 of %d labels (%d codes in all)", dpi, count[scan.QRCode], count[scan.Code128], len(ls), len(res.Codes))
	}
	// Every label contributes its QR and its Code 128.
	for _, l := range ls {
		if !hasCode(res.Codes, scan.Code128, l.SN) {
			t.Errorf("Code 128 %q not found", l.SN)
		}
	}
}

// hasCode reports whether codes hold a code of format f with text s.
func hasCode(codes []scan.Code, f scan.Format, s string) bool {
	for _, c := range codes {
		if c.Format == f && c.Text == s {
			return true
		}
	}
	return false
}
