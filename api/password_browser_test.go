package api

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"posid/internal/auth"
	"posid/internal/browsertest"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/internal/users/userstest"
)

// TestConsoleChangePasswordBrowser drives the console's own-account page
// in headless Chromium on a phone's screen: a warehouse worker signs in,
// opens it from the header, is held back while the new password's two
// copies differ, then changes it (spaces at its ends kept) and stays
// signed in. The page passes axe-core and fits the screen.
func TestConsoleChangePasswordBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	const next = "  a new passphrase with spaces "
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "posid.db"), testSecretBox(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s := startSessionServer(t, sessionDB{db.Store(), db.Keys(), db.Users(), db.Audit(), db.Revocations()}, newTestClock())
	u, _ := addUser(t, s.db.users, "wes", auth.RoleWarehouse, "")
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	b := &consoleBrowser{Browser: browsertest.New(t), t: t, base: s.base, axe: string(axe)}
	stored := func(pw string) bool {
		c, err := s.db.users.Credentials(context.Background(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return users.CheckPassword(c.PasswordHash, pw)
	}

	b.Step("phone size", chromedp.EmulateViewport(consoleViewports[1].width, consoleViewports[1].height, chromedp.EmulateScale(1)))
	signInPage(t, b.Browser, s.base, "wes", "")
	b.open("/console/devices?lang=en")
	b.Step("open my account", chromedp.Click(chromedp.ID("account-link")), chromedp.WaitVisible(chromedp.ID("password-form")))
	b.checkAxe("account page")
	b.Step("type passwords that differ", chromedp.SendKeys(chromedp.ID("pw-current"), userstest.Password),
		chromedp.SendKeys(chromedp.ID("pw-new"), next), chromedp.SendKeys(chromedp.ID("pw-again"), next+"x"),
		chromedp.Click(chromedp.ID("change-password")))
	if !eval[bool](b, `document.querySelector("#pw-again").validity.customError && document.querySelector("#flash").hidden`) {
		t.Fatal("differing new passwords were not held back")
	}
	time.Sleep(300 * time.Millisecond)
	if !stored(userstest.Password) {
		t.Fatal("the form was sent with differing new passwords")
	}
	eval[bool](b, `(document.querySelector("#pw-again").value = "") === ""`)
	b.Step("type it again", chromedp.SendKeys(chromedp.ID("pw-again"), next),
		chromedp.Click(chromedp.ID("change-password")))
	b.waitFor("changed", `(document.querySelector("#flash") || {}).textContent === "Password changed; your other sessions have ended."`)
	if !stored(next) {
		t.Fatal("the stored password is not the one typed, spaces and all")
	}
	if !eval[bool](b, `!!document.querySelector("#password-form") && (document.querySelector("#who-name") || {}).textContent === "wes"`) {
		t.Fatal("the page that changed the password is no longer signed in")
	}
}
