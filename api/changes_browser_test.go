package api

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"posid/internal/browsertest"
)

// TestMerchantDevicePagePhone opens the merchant's device page in
// Chromium on a 390 px phone screen, through a proxy that adds the
// merchant's API key to every request (what a signed-in session does),
// files a change request with the page's form and sees it listed.
func TestMerchantDevicePagePhone(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	target, _ := url.Parse(e.live(t))
	proxy := httputil.NewSingleHostReverseProxy(target)
	direct := proxy.Director
	proxy.Director = func(r *http.Request) {
		direct(r)
		r.Header.Set("Authorization", "Bearer "+e.tokens["merchant"])
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)

	const width, height = 390, 844
	b := browsertest.New(t)
	b.Step("phone viewport", chromedp.EmulateViewport(width, height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	b.Step("open device page", chromedp.Navigate(front.URL+"/my/devices/PAX0001"), chromedp.WaitVisible(chromedp.ID("change-form")))
	if got := b.Text("#account"); got != "**** 1234" {
		t.Errorf("account shown as %q", got)
	}
	b.Step("fill form",
		chromedp.SetValue(chromedp.ID("field"), "terminal_id"),
		chromedp.SendKeys(chromedp.ID("value"), "T4242"),
		chromedp.SendKeys(chromedp.ID("reason"), "换了新终端"),
		chromedp.Click(chromedp.CSS("#change-form button[type=submit]")))
	// The page reloads once the API took the request: poll across it.
	listed := false
	for deadline := time.Now().Add(15 * time.Second); !listed && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		listed, _ = chromedp.Run(b.Context(), chromedp.Evaluate[bool](`!!document.querySelector("#requests") && document.querySelector("#requests").innerText.includes("T4242")`))
	}
	if !listed {
		t.Fatalf("the filed request is not listed; status %q", b.Text("#change-form .status"))
	}
	sw, err := chromedp.Run(b.Context(), chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil {
		t.Fatal(err)
	}
	if sw > width {
		t.Errorf("device page is %d px wide on a %d px screen", sw, width)
	}
	b.Screenshot("merchant-device-390.png")
}
