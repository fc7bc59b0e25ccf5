package api

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	qrcode "github.com/skip2/go-qrcode"

	"posid/internal/browsertest"
	"posid/internal/risk"
)

// TestScanPageEndToEnd drives the mobile scan page in headless Chromium
// against the real server: auth, scanner, SN choice, seal check, registry,
// risk guard and complaint routes on one SQLite file.
func TestScanPageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newRiskEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.s.Serve(ln)
	t.Cleanup(func() { e.s.Shutdown(context.Background()) })
	base := "http://" + ln.Addr().String()
	photo := filepath.Join(t.TempDir(), "label.png")
	if err := os.WriteFile(photo, labelPhoto(t, e.sealURL(knownSN, "A920"), knownSN), 0o644); err != nil {
		t.Fatal(err)
	}

	b := browsertest.New(t)
	step, poll, text := b.Step, b.Poll, b.Text

	step("open page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("key")))
	step("save key", chromedp.SendKeys(chromedp.ID("key"), e.tokens["m1"]), chromedp.Click(chromedp.CSS("#key-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("key-saved")))
	step("upload photo", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	poll("result or error", `!document.querySelector("#result").hidden || document.querySelector("#status").classList.contains("error")`)
	if got := text("#fields dd.sn"); got != knownSN {
		t.Fatalf("page shows SN %q, want %s (status %q)", got, knownSN, text("#status"))
	}
	if got := text("#verdict"); got != "防伪验证通过" {
		t.Errorf("verdict badge %q, want 防伪验证通过", got)
	}
	if got := text("#fields"); !strings.Contains(got, "老王餐馆") {
		t.Errorf("own device's registration not shown: %q", got)
	}
	b.Screenshot("scan-page-api.png")

	step("type SN", chromedp.SendKeys(chromedp.ID("sn"), "NOPE-0001"), chromedp.Click(chromedp.CSS("#sn-form button")))
	poll("typed SN shown", `document.querySelector("#fields dd.sn").textContent === "NOPE-0001"`)
	step("complain", chromedp.Click(chromedp.ID("complain-open")), chromedp.WaitVisible(chromedp.ID("complaint")),
		chromedp.SendKeys(chromedp.ID("c-text"), "标签疑似翻印"),
		chromedp.Click(chromedp.CSS("#complaint-form button[type=submit]")))
	poll("complaint listed", `document.querySelectorAll("#complaints li").length > 0`)
	if got := text("#complaints li"); !strings.Contains(got, "NOPE-0001") || !strings.Contains(got, "待处理") {
		t.Errorf("complaint list shows %q", got)
	}

	cs, err := e.mon.Cases(context.Background(), risk.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[risk.Rule]int64{}
	for _, c := range cs {
		got[c.Rule] = c.ID
	}
	if got[risk.RuleUnknownSerial] == 0 || got[risk.RuleComplaint] == 0 || len(cs) != 2 {
		t.Fatalf("cases after the session: %+v; want unknown_serial and complaint only", cs)
	}
	c, err := e.mon.Case(context.Background(), got[risk.RuleUnknownSerial])
	if err != nil {
		t.Fatal(err)
	}
	if ev := c.Evidence[0]; ev.AppVersion != "web-1" || ev.MerchantNo != "M001" || ev.Kind != risk.KindLookup {
		t.Errorf("typed lookup recorded as %+v", ev)
	}
}

// labelPhoto draws a terminal label: the seal QR code and a Code 128 of sn
// on white.
func labelPhoto(t *testing.T, sealURL, sn string) []byte {
	t.Helper()
	qr, err := qrcode.New(sealURL, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	qrImg := qr.Image(420)
	bars, err := oned.NewCode128Writer().Encode(sn, gozxing.BarcodeFormat_CODE_128, 600, 140, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 1200, 800))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, qrImg.Bounds().Add(image.Pt(60, 190)), qrImg, image.Point{}, draw.Src)
	for y := 0; y < bars.GetHeight(); y++ {
		for x := 0; x < bars.GetWidth(); x++ {
			if bars.Get(x, y) {
				img.SetGray(540+x, 330+y, color.Gray{})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
