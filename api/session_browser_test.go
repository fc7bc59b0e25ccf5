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
// 390 px viewport: a reviewer signs in with a password and enrols TOTP
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
	userstest.Create(t, e.users, "rita", auth.RoleReviewer, "")
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

	// The reviewer's first sign-in asks for TOTP enrolment.
	step("reviewer password", chromedp.SendKeys(chromedp.ID("si-name"), "rita"), chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
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
	step("reviewer code", chromedp.SendKeys(chromedp.ID("si-code"), code), chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("recovery")))
	poll("signed in", `!document.querySelector("#who").hidden`)
	if got := text("#who-name"); got != "rita" {
		t.Fatalf("signed in as %q", got)
	}
	if n := strings.Count(text("#recovery-codes"), "-"); n != users.RecoveryCodes {
		t.Fatalf("%d recovery codes shown", n)
	}
	b.Screenshot("signin-recovery-codes.png")
	step("codes saved", chromedp.Click(chromedp.ID("recovery-done")))
	step("reviewer scans", chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}))
	poll("result or error", `!document.querySelector("#result").hidden || document.querySelector("#status").classList.contains("error")`)
	if got := text("#fields dd.sn"); got != knownSN {
		t.Fatalf("page shows SN %q, want %s (status %q)", got, knownSN, text("#status"))
	}
	b.Screenshot("signin-reviewer-scan.png")
	step("sign out", chromedp.Click(chromedp.ID("signout")))
	poll("signed out", `!document.querySelector("#signin-form").hidden && document.querySelector("#who").hidden`)

	// A merchant signs in with a password only and scans its own device.
	step("reload", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("si-name")))
	step("wrong password", chromedp.SendKeys(chromedp.ID("si-name"), "mia"), chromedp.SendKeys(chromedp.ID("si-password"), "not the password"),
		chromedp.Click(chromedp.ID("signin")))
	poll("sign-in error shown", `document.querySelector("#signin-status").classList.contains("error")`)
	if got := text("#signin-status"); !strings.Contains(got, "登录失败") {
		t.Errorf("sign-in error reads %q", got)
	}
	b.Screenshot("signin-wrong-password.png")
	if _, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](`(document.querySelector("#si-password").value = "", true)`)); err != nil {
		t.Fatal(err)
	}
	step("merchant password", chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
		chromedp.Click(chromedp.ID("signin")))
	poll("merchant signed in", `!document.querySelector("#who").hidden`)
	step("reload keeps the session", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("who")))
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

// TestChangeRequestSignedIn is the change request flow with people signed
// in, in two Chromiums: the merchant (390 px phone) signs in on the scan
// page and files a change of terminal ID on its device page; the reviewer
// (1280 px desktop) signs in with password and TOTP and approves it; the
// merchant sees the new value and the history shows old → new.
func TestChangeRequestSignedIn(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	userstest.Create(t, e.db.Users(), "mia", auth.RoleMerchant, "M001")
	userstest.Create(t, e.db.Users(), "rita", auth.RoleReviewer, "")
	base := e.live(t)

	phone := browsertest.New(t)
	phone.Step("phone viewport", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	signInPage(t, phone, base, "mia", "")
	phone.Step("my devices", chromedp.Click(chromedp.ID("my-devices")), chromedp.WaitVisible(chromedp.CSS(`a[href="/my/devices/PAX0001"]`)))
	phone.Step("device page", chromedp.Click(chromedp.CSS(`a[href="/my/devices/PAX0001"]`)), chromedp.WaitVisible(chromedp.ID("change-form")))
	phone.Step("file change",
		chromedp.SetValue(chromedp.ID("field"), "terminal_id"),
		chromedp.SendKeys(chromedp.ID("value"), "T4242"),
		chromedp.SendKeys(chromedp.ID("reason"), "换了新终端"),
		chromedp.Click(chromedp.CSS("#change-form button[type=submit]")))
	pollAcross(t, phone, `!!document.querySelector("#requests") && document.querySelector("#requests").innerText.includes("T4242")`, "request listed")
	phone.Screenshot("change-merchant-filed-390.png")

	desk := browsertest.New(t)
	desk.Step("desktop viewport", chromedp.EmulateViewport(1280, 900))
	signInPage(t, desk, base, "rita", "enrol")
	desk.Step("review page", chromedp.Click(chromedp.ID("review-changes")), chromedp.WaitVisible(chromedp.CSS(`form[data-kind="decide"] button[type=submit]`)))
	desk.Screenshot("change-reviewer-queue-1280.png")
	desk.Step("approve", chromedp.Click(chromedp.CSS(`form[data-api$="/approve"] button[type=submit]`)))
	pollAcross(t, desk, `!document.querySelector('form[data-api$="/approve"]')`, "request decided")
	desk.Screenshot("change-reviewer-approved-1280.png")

	phone.Step("device page again", chromedp.Navigate(base+"/my/devices/PAX0001"), chromedp.WaitVisible(chromedp.ID("device")))
	if got := phone.Text("#device"); !strings.Contains(got, "T4242") {
		t.Fatalf("merchant does not see the new terminal ID: %q", got)
	}
	if got := phone.Text("#history"); !strings.Contains(got, "T001") || !strings.Contains(got, "→ T4242") {
		t.Fatalf("history does not show T001 → T4242: %q", got)
	}
	phone.Screenshot("change-merchant-approved-390.png")
}

// signInPage signs name in on the scan page; totp "enrol" completes a
// first-sign-in TOTP enrolment with a code the test computes.
func signInPage(t *testing.T, b *browsertest.Browser, base, name, totp string) {
	t.Helper()
	b.Step("open "+name, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("si-name")))
	b.Step("password "+name, chromedp.SendKeys(chromedp.ID("si-name"), name), chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
		chromedp.Click(chromedp.ID("signin")))
	if totp == "enrol" {
		b.Step("enrol "+name, chromedp.WaitVisible(chromedp.ID("enrol-secret")))
		code, err := users.TOTPCode(b.Text("#enrol-secret"), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b.Step("code "+name, chromedp.SendKeys(chromedp.ID("si-code"), code), chromedp.Click(chromedp.ID("signin")))
	}
	b.Poll(name+" signed in", `!document.querySelector("#who").hidden`)
}

// pollAcross waits up to 15 s for expr, across page reloads.
func pollAcross(t *testing.T, b *browsertest.Browser, expr, what string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if ok, _ := chromedp.Run(b.Context(), chromedp.Evaluate[bool](expr)); ok {
			return
		}
	}
	t.Fatalf("%s: not within 15 s", what)
}
