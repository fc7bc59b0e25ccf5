package api

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"posid/internal/browsertest"
)

// TestConsoleFindByPhoto: on the device search, a photo of a label (taken
// with the phone's camera, or picked on a laptop) opens the device whose
// SN the scan reads; a photo without one says so and stays on the search.
func TestConsoleFindByPhoto(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	dir := t.TempDir()
	label := filepath.Join(dir, "label.png")
	if err := os.WriteFile(label, labelPhoto(t, e.sealFor(t, "PAX0001"), "PAX0001"), 0o644); err != nil {
		t.Fatal(err)
	}
	blank := filepath.Join(dir, "blank.png")
	if err := os.WriteFile(blank, blankPNG(t), 0o644); err != nil {
		t.Fatal(err)
	}
	base := e.live(t)
	b := newConsoleBrowser(t, e, base, "warehouse", 390, 844)
	b.open("/console/devices")
	b.Step("photo without a code", chromedp.SetUploadFiles(chromedp.ID("f-photo"), []string{blank}))
	b.waitFor("no SN said", `location.pathname === "/console/devices" && !document.querySelector("#flash").hidden && document.querySelector("#flash").classList.contains("error")`)
	b.checkAxe("devices with a scan error")
	b.Step("photo of the label", chromedp.SetUploadFiles(chromedp.ID("f-photo"), []string{label}))
	b.waitFor("device opened", `location.pathname === "/console/devices/PAX0001" && !!document.querySelector("main h1")`)
	b.Screenshot("console-find-by-photo-phone.png")
}

// blankPNG is a grey 640×480 photo with no code on it.
func blankPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range img.Pix {
		img.Pix[i] = 180
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
