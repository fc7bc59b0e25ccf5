package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"
	qrcode "github.com/skip2/go-qrcode"

	"posid/internal/browsertest"

	"posid/api/web"
	"posid/internal/registry"
	"posid/internal/registry/registrytest"
	"posid/internal/risk"
	"posid/internal/secret"
	"posid/internal/sqlite"
	"posid/labels"
	"posid/scan"
)

// Test identities of the page's stand-in API.
const (
	testToken    = "posid_0123456789ab_testsecret"
	testMerchant = "M001" // registrytest.Device registers devices to M001
	testSN       = "PAX-A920-0001"
)

func TestFS(t *testing.T) {
	for _, name := range []string{"index.html", "app.js", "style.css"} {
		b, err := fs.ReadFile(web.FS, name)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: %d bytes, %v", name, len(b), err)
		}
	}
	idx, _ := fs.ReadFile(web.FS, "index.html")
	for _, want := range []string{`accept="image/*"`, `capture="environment"`, `src="app.js"`} {
		if !bytes.Contains(idx, []byte(want)) {
			t.Errorf("index.html lacks %s", want)
		}
	}
}

func TestScanPageInBrowser(t *testing.T) {
	srv, b, photo := startPage(t)
	step, poll, text := b.Step, b.Poll, b.Text

	step("open page", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(chromedp.ID("key")))
	step("save key", chromedp.SendKeys(chromedp.ID("key"), testToken), chromedp.Click(chromedp.CSS("#key-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("key-saved")))
	step("upload photo", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}), chromedp.WaitVisible(chromedp.ID("result")))
	if got := text("#fields dd.sn"); got != testSN {
		t.Fatalf("page shows SN %q, want %q (status: %q)", got, testSN, text("#status"))
	}
	if got := text("#verdict"); got != "防伪验证通过" {
		t.Errorf("verdict badge %q, want 防伪验证通过 (genuine, Chinese)", got)
	}
	b.Screenshot("scan-page.png")

	up := srv.lastUpload()
	if up.contentType != "image/jpeg" || up.width == 0 || up.width > 2000 || up.height > 2000 {
		t.Errorf("upload %+v: want a JPEG at most 2000 px on a side", up)
	}
	if up.auth != "Bearer "+testToken {
		t.Errorf("upload Authorization %q", up.auth)
	}

	// Switch to English and look up a typed SN the registry does not know.
	step("english", chromedp.Click(chromedp.ID("lang")))
	if got := text("#verdict"); got != "Seal genuine" {
		t.Errorf("verdict in English %q", got)
	}
	step("type SN", chromedp.SendKeys(chromedp.ID("sn"), "NOPE-0001"), chromedp.Click(chromedp.CSS("#sn-form button")))
	poll("typed SN shown", `document.querySelector("#fields dd.sn").textContent === "NOPE-0001"`)
	if got := text("#device-status"); got != "This terminal is not in the registry" {
		t.Errorf("unknown device badge %q", got)
	}

	// File a complaint from the result card, then list it.
	step("complain", chromedp.Click(chromedp.ID("complain-open")), chromedp.WaitVisible(chromedp.ID("complaint")),
		chromedp.SendKeys(chromedp.ID("c-text"), "label looks reprinted"),
		chromedp.Click(chromedp.CSS("#complaint-form button[type=submit]")))
	poll("complaint listed", `document.querySelectorAll("#complaints li").length > 0`)
	if got := text("#complaints li"); !strings.Contains(got, "NOPE-0001") || !strings.Contains(got, "Open") {
		t.Errorf("complaint list shows %q", got)
	}
	ctxb := context.Background()
	cs, err := srv.mon.Cases(ctxb, risk.CaseFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var rules []risk.Rule
	for _, c := range cs {
		rules = append(rules, c.Rule)
	}
	if !containsAll(rules, risk.RuleUnknownSerial, risk.RuleComplaint) {
		t.Errorf("cases after the session: %v; want unknown_serial and complaint", rules)
	}
}

// phoneWidth and phoneHeight are the CSS viewport of the phone the page
// is checked on (an iPhone 12-15 class screen).
const phoneWidth, phoneHeight = 390, 844

// TestScanPageTypedAfterPhoto scans a photo, then types another SN, on a
// phone-sized screen: the typed result must not keep the old photo, and its
// seal badge must say the seal was not checked (neutral), not that the
// label has none.
func TestScanPageTypedAfterPhoto(t *testing.T) {
	srv, b, photo := startPage(t)
	step, poll, text := b.Step, b.Poll, b.Text
	eval := func(expr string) bool {
		t.Helper()
		ok, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return ok
	}
	const previewShown = `(() => { const r = document.querySelector("#preview").getBoundingClientRect(); return r.width > 0 && r.height > 0; })()`
	fits := "document.documentElement.scrollWidth <= " + strconv.Itoa(phoneWidth)

	step("phone viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	step("open page", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(chromedp.ID("key")))
	step("save key", chromedp.SendKeys(chromedp.ID("key"), testToken), chromedp.Click(chromedp.CSS("#key-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("key-saved")))
	step("upload photo", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}), chromedp.WaitVisible(chromedp.ID("result")))
	poll("photo preview shown", previewShown)
	if got := text("#verdict"); got != "防伪验证通过" {
		t.Fatalf("verdict after the photo %q, want 防伪验证通过 (status %q)", got, text("#status"))
	}
	b.Screenshot("scan-photo-390.png")

	step("type SN", chromedp.SendKeys(chromedp.ID("sn"), "NOPE-0001"), chromedp.Click(chromedp.CSS("#sn-form button")))
	poll("typed SN shown", `document.querySelector("#fields dd.sn").textContent === "NOPE-0001"`)
	if eval(previewShown) {
		t.Error("the photo of the earlier scan is still shown above the typed SN's result")
	}
	if got := text("#verdict"); got != "未扫描防伪码" {
		t.Errorf("seal badge of a typed SN %q, want 未扫描防伪码 (seal not checked)", got)
	}
	if eval(`/\b(bad|warn)\b/.test(document.querySelector("#verdict").className)`) {
		t.Errorf("seal badge of a typed SN is styled as a warning: %q", text("#verdict"))
	}
	if !eval(fits) {
		t.Error("the page is wider than a 390 px screen")
	}
	b.Screenshot("scan-typed-390.png")

	step("english", chromedp.Click(chromedp.ID("lang")))
	if got := text("#verdict"); got != "Seal not checked" {
		t.Errorf("seal badge of a typed SN in English %q, want Seal not checked", got)
	}
}

// startPage skips in -short mode or without Chromium; else it starts the
// page's stand-in API and a browser, and writes a photo of testSN's label.
func startPage(t *testing.T) (*pageServer, *browsertest.Browser, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	srv := newPageServer(t)
	photo := filepath.Join(t.TempDir(), "label.png")
	if err := os.WriteFile(photo, srv.labelPNG(t, testSN), 0o644); err != nil {
		t.Fatal(err)
	}
	return srv, browsertest.New(t), photo
}

func containsAll(have []risk.Rule, want ...risk.Rule) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// pageServer stands in for the API: it serves web.FS and the scan and
// complaint endpoints the page calls, backed by the real scanner, a real
// SQLite registry and the risk monitor.
type pageServer struct {
	url    string
	reg    registry.Store
	mon    *risk.Monitor
	keys   *labels.KeySet
	signer *labels.Signer
	scan   *scan.Scanner
	up     chan upload
}

// upload is what the scan endpoint received.
type upload struct {
	contentType   string
	width, height int
	auth          string
}

func newPageServer(t *testing.T) *pageServer {
	t.Helper()
	ctx := context.Background()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "posid.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Store().CreateDevice(ctx, "test", registrytest.Device(testSN)); err != nil {
		t.Fatal(err)
	}
	ks := labels.OpenKeyStore(t.TempDir())
	if _, err := ks.NewKey(ctx); err != nil {
		t.Fatal(err)
	}
	signer, err := ks.Signer(ctx, "https://verify.posid.example")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ks.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := &pageServer{reg: db.Store(), mon: risk.NewMonitor(db.RiskStore(), risk.Config{}, nil), keys: keys, signer: signer,
		scan: scan.New(scan.Options{}), up: make(chan upload, 16)}

	app := fiber.New(fiber.Config{DisableStartupMessage: true, BodyLimit: 16 << 20})
	v1 := app.Group("/api/v1", s.auth)
	v1.Post("/scans", s.postScan)
	v1.Post("/complaints", s.postComplaint)
	v1.Get("/complaints", s.getComplaints)
	app.Use("/", filesystem.New(filesystem.Config{Root: http.FS(web.FS), Index: "index.html"}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() { app.Shutdown() })
	s.url = "http://" + ln.Addr().String()
	return s
}

func (s *pageServer) auth(c *fiber.Ctx) error {
	if c.Get(fiber.HeaderAuthorization) != "Bearer "+testToken {
		return c.Status(http.StatusUnauthorized).JSON(fiber.Map{"title": "Unauthorized", "status": 401})
	}
	return c.Next()
}

func (s *pageServer) lastUpload() upload {
	select {
	case u := <-s.up:
		return u
	default:
		return upload{}
	}
}

// postScan reads the SN from an uploaded photo (multipart "image") or a
// JSON {"sn"}, verifies the seal, looks the device up and records the event.
func (s *pageServer) postScan(c *fiber.Ctx) error {
	ctx := c.UserContext()
	ev := risk.Event{Actor: "0123456789ab", MerchantNo: testMerchant, IP: c.IP(), AppVersion: c.Get("X-App-Version"), Kind: risk.KindLookup}
	out := fiber.Map{}
	if fh, err := c.FormFile("image"); err == nil {
		data, err := readForm(fh.Open)
		if err != nil {
			return err
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
		s.up <- upload{contentType: "image/" + format, width: cfg.Width, height: cfg.Height, auth: c.Get(fiber.HeaderAuthorization)}
		if err != nil {
			return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{"detail": err.Error()})
		}
		res, err := s.scan.Scan(ctx, data)
		if err != nil {
			return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{"detail": err.Error()})
		}
		ev.Kind, ev.Codes = risk.KindScan, len(res.Codes)
		out["codes"] = res.Codes
		for _, code := range res.Codes {
			ev.Formats = append(ev.Formats, string(code.Format))
			if sn, ok := labels.SealSN(code.Text); ok {
				v := s.keys.Verify(code.Text)
				out["seal"] = v
				ev.Verdict, ev.SealModel, ev.SN = string(v.Verdict), v.Seal.Model, sn
			} else if sn, err := registry.NormalizeSN(code.Text); err == nil && ev.SN == "" {
				ev.SN = sn
			}
		}
	} else {
		var body struct {
			SN string `json:"sn"`
		}
		if err := json.Unmarshal(c.Body(), &body); err != nil {
			return c.Status(http.StatusBadRequest).JSON(fiber.Map{"detail": err.Error()})
		}
		ev.SN = body.SN
	}
	sn, err := registry.NormalizeSN(ev.SN)
	if err != nil {
		return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{"detail": err.Error()})
	}
	ev.SN, out["sn"] = sn, sn
	d, err := s.reg.GetDevice(ctx, sn, registry.ReadOptions{})
	switch {
	case err == nil:
		ev.SetDevice(&d)
		out["device"] = d
	case errors.Is(err, registry.ErrNotFound):
		ev.SetDevice(nil)
	default:
		return err
	}
	flags, err := s.mon.Record(ctx, ev)
	if err != nil {
		return err
	}
	out["flags"] = flags
	return c.JSON(out)
}

func (s *pageServer) postComplaint(c *fiber.Ctx) error {
	cat, _ := risk.ParseCategory(c.FormValue("category"))
	in := risk.Complaint{Actor: "0123456789ab", MerchantNo: testMerchant, SN: c.FormValue("sn"), Category: cat, Text: c.FormValue("text")}
	var photo *risk.Photo
	if fh, err := c.FormFile("photo"); err == nil {
		data, err := readForm(fh.Open)
		if err != nil {
			return err
		}
		photo = &risk.Photo{Type: http.DetectContentType(data), Data: data}
	}
	out, err := s.mon.FileComplaint(c.UserContext(), in, photo, nil)
	if err != nil {
		return c.Status(http.StatusUnprocessableEntity).JSON(fiber.Map{"detail": err.Error()})
	}
	return c.Status(http.StatusCreated).JSON(out)
}

func (s *pageServer) getComplaints(c *fiber.Ctx) error {
	cs, err := s.mon.Complaints(c.UserContext(), testMerchant)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"complaints": cs})
}

func readForm[F io.ReadCloser](open func() (F, error)) ([]byte, error) {
	f, err := open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// labelPNG draws a terminal label: a signed seal QR code and a Code 128
// barcode of sn on white, as a phone photo of a flat label would show.
func (s *pageServer) labelPNG(t *testing.T, sn string) []byte {
	t.Helper()
	url, err := s.signer.Sign(labels.Seal{Date: time.Now().UTC(), SN: sn, Model: "A920", Supplier: "SUP1"})
	if err != nil {
		t.Fatal(err)
	}
	qr, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	qrImg := qr.Image(420)
	bars, err := oned.NewCode128Writer().Encode(sn, gozxing.BarcodeFormat_CODE_128, 640, 140, nil)
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewGray(image.Rect(0, 0, 1200, 800))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(img, qrImg.Bounds().Add(image.Pt(60, 190)), qrImg, image.Point{}, draw.Src)
	for y := 0; y < bars.GetHeight(); y++ {
		for x := 0; x < bars.GetWidth(); x++ {
			if bars.Get(x, y) {
				img.SetGray(520+x, 330+y, color.Gray{})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
