package api

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"posid/internal/auth"
	"posid/internal/browsertest"
	"posid/internal/users"
	"posid/internal/users/userstest"
)

// phoneWidth is the viewport width of the sign-in walk, a common phone's.
const phoneWidth = 390

// TestScanPageSignIn drives the scan page in headless Chromium at a
// 390 px viewport: an admin signs in with a password and enrols TOTP
// (the test computes the code), sees the recovery codes, scans a label
// photo and signs out; a merchant signs in with a password only and sees
// its own device's registration. Screenshots go to $POSID_SCREENSHOTS.
func TestScanPageSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newRiskEnv(t)
	userstest.Create(t, e.users, "mia", auth.RoleMerchant, "M001")
	userstest.Create(t, e.users, "ada", auth.RoleAdmin, "")
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
	step("phone viewport", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	step("open page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("si-name")))
	b.Screenshot("signin-form.png")

	// The admin's first sign-in asks for TOTP enrolment.
	step("admin password", chromedp.SendKeys(chromedp.ID("si-name"), "ada"), chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
		chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("enrol-secret")))
	secret := text("#enrol-secret")
	if len(secret) < 16 {
		t.Fatalf("enrolment secret %q", secret)
	}
	b.Screenshot("signin-enrol-totp.png")
	code, err := users.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	step("admin code", chromedp.SendKeys(chromedp.ID("si-code"), code), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("recovery")))
	poll("signed in", `!document.querySelector("#who").hidden`)
	if got := text("#who-name"); got != "ada" {
		t.Fatalf("signed in as %q", got)
	}
	if n := strings.Count(text("#recovery-codes"), "-"); n != users.RecoveryCodes {
		t.Fatalf("%d recovery codes shown", n)
	}
	b.Screenshot("signin-recovery-codes.png")
	step("codes saved", chromedp.Click(chromedp.ID("recovery-done")))
	step("admin scans", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	poll("result or error", `!document.querySelector("#result").hidden || document.querySelector("#status").classList.contains("error")`)
	if got := text("#fields dd.sn"); got != knownSN {
		t.Fatalf("page shows SN %q, want %s (status %q)", got, knownSN, text("#status"))
	}
	b.Screenshot("signin-admin-scan.png")
	step("sign out", chromedp.Click(chromedp.ID("signout")))
	poll("signed out", `!document.querySelector("#signin-form").hidden && document.querySelector("#who").hidden`)

	// A merchant signs in with a password only and scans its own device.
	step("reload", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("si-name")))
	step("merchant password", chromedp.SendKeys(chromedp.ID("si-name"), "mia"), chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
		chromedp.Click(chromedp.ID("signin")))
	poll("merchant signed in", `!document.querySelector("#who").hidden`)
	step("reload keeps the session", chromedp.Navigate(base+"/"))
	poll("still signed in", `!document.querySelector("#who").hidden && document.querySelector("#who-name").textContent === "mia"`)
	step("merchant scans", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	poll("result or error", `!document.querySelector("#result").hidden || document.querySelector("#status").classList.contains("error")`)
	if got := text("#fields dd.sn"); got != knownSN {
		t.Fatalf("page shows SN %q, want %s (status %q)", got, knownSN, text("#status"))
	}
	if got := text("#fields"); !strings.Contains(got, "老王餐馆") {
		t.Errorf("own device's registration not shown to the signed-in merchant: %q", got)
	}
	if got := text("#verdict"); got != "防伪验证通过" {
		t.Errorf("verdict badge %q", got)
	}
	b.Screenshot("signin-merchant-scan.png")
	width, err := chromedp.Run(b.Context(), chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	if width > phoneWidth {
		t.Errorf("page is %d px wide at a %d px viewport (scrolls sideways)", width, phoneWidth)
	}
}
