package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// TestCLIScanURLSegment scans a photo holding only a vendor QR code whose
// URL carries the SN as a path segment: "posid scan" names the SN and the
// rule that chose it, in text and in JSON.
func TestCLIScanURLSegment(t *testing.T) {
	const url = "https://pos.example.cn/t/00037629424041438305?m=A920"
	m, err := qrcode.NewQRCodeWriter().Encode(url, gozxing.BarcodeFormat_QR_CODE, 300, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, m.GetWidth(), m.GetHeight()))
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			if !m.Get(x, y) {
				img.SetGray(x, y, color.Gray{Y: 255})
			}
		}
	}
	file := filepath.Join(t.TempDir(), "vendor.png")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()

	code, out, errOut := runCLI(t, nil, "scan", file)
	if code != 0 || !strings.Contains(out, "SN 00037629424041438305 (code 0, url_segment)") {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, nil, "scan", "--json", file)
	var rep struct {
		SN   string `json:"sn"`
		Rule string `json:"rule"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.SN != "00037629424041438305" || rep.Rule != "url_segment" {
		t.Fatalf("scan --json: exit %d, %v\n%s%s", code, err, out, errOut)
	}
}
