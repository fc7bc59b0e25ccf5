package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"posid/internal/auth"
	"posid/internal/browsertest"
	"posid/internal/registry"
	"posid/internal/users"
	"posid/internal/users/userstest"
	"posid/labels"
)

// newSignedOutBrowser is a console browser with no key: it signs in on
// the scan page like a person.
func newSignedOutBrowser(t *testing.T, base string, width, height int64) *consoleBrowser {
	t.Helper()
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	b := &consoleBrowser{Browser: browsertest.New(t), t: t, base: base, axe: string(axe)}
	b.Step("size", chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1)))
	return b
}

// signInFor opens path signed out, checks that it lands on the sign-in
// form with next=path, signs in as name (enrolling TOTP when the role
// needs it) and waits until the browser is back on path.
func (b *consoleBrowser) signInFor(path, name string, totp bool) {
	b.t.Helper()
	b.Step("open "+path+" signed out", chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.ID("si-name")))
	loc, err := url.Parse(eval[string](b, "location.href"))
	if err != nil || loc.Path != "/" || loc.Query().Get("next") != path {
		b.t.Fatalf("signed out, %s went to %s, want the sign-in form with next=%s", path, loc, path)
	}
	b.Step("password", chromedp.SendKeys(chromedp.ID("si-name"), name), chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
		chromedp.Click(chromedp.ID("signin")))
	if totp {
		b.Step("enrolment", chromedp.WaitVisible(chromedp.ID("enrol-secret")))
		code, err := users.TOTPCode(b.Text("#enrol-secret"), time.Now())
		if err != nil {
			b.t.Fatal(err)
		}
		b.Step("code", chromedp.SendKeys(chromedp.ID("si-code"), code), chromedp.Click(chromedp.ID("signin")), chromedp.WaitVisible(chromedp.ID("recovery")))
		b.Step("codes saved", chromedp.Click(chromedp.ID("recovery-done")))
	}
	// One expression, evaluated in whichever document is current: reading
	// the node separately could race a page that is still replacing itself.
	b.waitFor("back on "+path+" as "+name, `location.pathname + location.search === `+jsString(path)+
		` && !!document.querySelector("main h1") && (document.querySelector("#who-name") || {}).textContent === `+jsString(name))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// zplPrinter is a raw TCP 9100 label printer: it keeps every job it gets.
func zplPrinter(t *testing.T) (addr string, jobs <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			ch <- b
		}
	}()
	return ln.Addr().String(), ch
}

// TestConsoleWalkWarehouse: a warehouse worker signs in from the imports
// page, imports a CSV with a bad row, sees the row's error inline, fixes
// it, imports, then prints the batch on a ZPL printer (a TCP listener),
// which gets exactly the ZPL the labels API renders for those devices.
func TestConsoleWalkWarehouse(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	userstest.Create(t, e.db.Users(), "wang", auth.RoleWarehouse, "")
	addr, jobs := zplPrinter(t)
	e.addPrinter("dock", addr)
	base := e.live(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	good := filepath.Join(dir, "good.csv")
	if err := os.WriteFile(bad, []byte("Device No,model,manufacturer,supplier_code,batch\nWALK0001,A920,PAX,SUP1,W1\nWALK0002,,PAX,SUP1,W1\nWALK_3,A920,PAX,SUP1,W1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(good, []byte("sn,model,manufacturer,supplier_code,batch\nWALK0001,A920,PAX,SUP1,W1\nWALK0002,A920,PAX,SUP1,W1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, vp := range consoleViewports[1:] { // phone: the warehouse works on one
		b := newSignedOutBrowser(t, base, vp.width, vp.height)
		shot := func(name string) { b.Screenshot("walk-warehouse-" + name + "-" + vp.name + ".png") }
		b.signInFor("/console/imports", "wang", false)
		b.checkAxe("imports")
		shot("imports")

		// The bad file's SN column has a header posid does not know.
		b.Step("bad file", chromedp.SetUploadFiles(chromedp.ID("imp-file"), []string{bad}), chromedp.Click(chromedp.ID("imp-check")))
		b.waitFor("mapping step", `!document.querySelector("#imp-map").hidden && !!document.querySelector("#map-0")`)
		if got := b.Text(`label[for="map-0"]`); !strings.Contains(got, "Device No") {
			t.Fatalf("mapping asks about %q", got)
		}
		b.checkAxe("imports mapping")
		shot("import-map")
		eval[bool](b, `document.querySelector("#map-0").value = "sn"; true`)
		b.Step("check with the map", chromedp.Click(chromedp.ID("imp-recheck")))
		b.waitFor("row error", `document.querySelectorAll("#imp-errors tbody tr").length > 0`)
		row := eval[[]string](b, `Array.from(document.querySelectorAll("#imp-errors tbody tr")[0].cells).map(c => c.textContent)`)
		if len(row) != 4 || row[0] != "3" || row[1] != "WALK0002" || row[2] != "model" || !strings.Contains(row[3], "model") {
			t.Fatalf("row error %q, want line 3, WALK0002, column model", row)
		}
		// A column the file calls otherwise is named as the file does too.
		row = eval[[]string](b, `Array.from(document.querySelectorAll("#imp-errors tbody tr")[1].cells).map(c => c.textContent)`)
		if len(row) != 4 || row[0] != "4" || row[2] != "sn (Device No)" || !strings.Contains(row[3], "serial number") {
			t.Fatalf("row error %q, want line 4, column sn (Device No)", row)
		}
		if eval[bool](b, `!document.querySelector("#imp-commit").hidden`) {
			t.Fatal("a file with a bad row may be imported")
		}
		b.checkAxe("imports with row errors")
		shot("import-errors")
		if _, err := e.db.Store().GetDevice(context.Background(), "WALK0001", registry.ReadOptions{}); err == nil {
			t.Fatal("the dry run wrote WALK0001")
		}

		b.Step("fixed file", chromedp.SetUploadFiles(chromedp.ID("imp-file"), []string{good}), chromedp.Click(chromedp.ID("imp-check")))
		b.waitFor("preview", `!document.querySelector("#imp-commit").hidden`)
		b.Step("import", chromedp.Click(chromedp.ID("imp-commit")))
		b.waitFor("imported", `!document.querySelector("#imp-result").hidden`)
		b.checkAxe("imported")
		shot("imported")
		for _, sn := range []string{"WALK0001", "WALK0002"} {
			if d, err := e.db.Store().GetDevice(context.Background(), sn, registry.ReadOptions{}); err != nil || d.Batch != "W1" {
				t.Fatalf("%s after the import: %+v, %v", sn, d, err)
			}
		}

		b.Step("labels of the batch", chromedp.Click(chromedp.CSS(`#imp-result a[href="/console/labels"]`)), chromedp.WaitVisible(chromedp.ID("l-batch")))
		b.Step("pick batch", chromedp.SendKeys(chromedp.ID("l-batch"), "W1"), chromedp.Click(chromedp.ID("l-pick")))
		b.waitFor("picked", `document.querySelectorAll("#l-picked [data-sn]").length === 2`)
		b.Step("preview", chromedp.Click(chromedp.ID("l-preview")))
		b.waitFor("preview shown", `!!document.querySelector("#l-preview-img") && document.querySelector("#l-preview-img").naturalWidth > 0`)
		b.checkAxe("labels")
		shot("labels")
		b.Step("print", chromedp.Click(chromedp.ID("l-send")))
		var got []byte
		select {
		case got = <-jobs:
		case <-time.After(20 * time.Second):
			t.Fatal("the printer got no job")
		}
		b.waitFor("job shown", `document.querySelector("#l-job").textContent.includes("#")`)
		resp, want := e.do(t, "warehouse", jsonReq("POST", "/api/v1/labels", LabelRequest{Batch: "W1", Format: "zpl", Size: "60x40", DPI: 203}))
		if resp.StatusCode != 200 {
			t.Fatalf("labels: %d %s", resp.StatusCode, want)
		}
		if !bytes.Equal(got, want) || strings.Count(string(got), "^XA") != 2 {
			t.Fatalf("the printer got %d bytes, the labels API renders %d; equal %v", len(got), len(want), bytes.Equal(got, want))
		}

		b.open("/console/admin/printers")
		b.waitFor("job listed", `document.querySelectorAll("#jobs tbody tr").length === 1`)
		b.checkAxe("printers")
		shot("printers")
	}
}

// TestConsoleWalkReviewer: a reviewer signs in with TOTP from the review
// queue and resolves a case there.
func TestConsoleWalkReviewer(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{}, withRisk)
	userstest.Create(t, e.db.Users(), "rita", auth.RoleReviewer, "")
	for _, sn := range []string{"GHOST0001", "GHOST0002"} {
		if resp, _ := e.do(t, "merchant", req{method: "GET", path: "/api/v1/devices/" + sn}); resp.StatusCode != 404 {
			t.Fatalf("lookup %s: %d", sn, resp.StatusCode)
		}
	}
	base := e.live(t)
	b := newSignedOutBrowser(t, base, 1280, 900)
	b.signInFor("/console/cases", "rita", true)
	b.checkAxe("cases")
	b.Screenshot("walk-reviewer-cases-desktop.png")
	b.Step("open case", chromedp.Click(chromedp.CSS(`#cases tbody th a`)), chromedp.WaitVisible(chromedp.ID("resolve-form")))
	b.Step("note", chromedp.SendKeys(chromedp.ID("r-note"), "枚举扫描，已处理"), chromedp.Click(chromedp.ID("resolve")))
	b.waitFor("resolved", `document.querySelector("#case-status") && document.querySelector("#case-status").textContent === "已结案"`)
	b.checkAxe("resolved case")
	b.Screenshot("walk-reviewer-resolved-desktop.png")
	resp, body := e.do(t, "admin", get("/api/v1/audit?actor=user:rita")(e))
	if resp.StatusCode != 200 || !strings.Contains(string(body), "resolve") {
		t.Fatalf("the resolution is not audited as rita: %d %s", resp.StatusCode, body)
	}
	b.Step("sign out", chromedp.Click(chromedp.ID("signout")))
	b.waitFor("signed out", `location.pathname === "/" && !!document.querySelector("#si-name")`)
	b.Step("cases again", chromedp.Navigate(base+"/console/cases"), chromedp.WaitVisible(chromedp.ID("si-name")))
}

// TestConsoleWalkAdmin: an admin signs in with TOTP, rotates the label
// signing key in the console (new key, retire the old); a label signed
// with the old key still verifies as genuine and new labels use the new
// key. The users page passes axe too.
func TestConsoleWalkAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	userstest.Create(t, e.db.Users(), "ada", auth.RoleAdmin, "")
	old := e.sealFor(t, "PAX0001")
	base := e.live(t)
	b := newSignedOutBrowser(t, base, 390, 844)
	b.signInFor("/console/admin/labelkeys", "ada", true)
	b.checkAxe("label keys")
	eval[bool](b, "window.confirm = () => true; true")
	b.Step("new key", chromedp.Click(chromedp.ID("new-labelkey")))
	b.waitFor("k2 listed", `document.querySelectorAll("#labelkeys tbody tr").length === 2`)
	if got := b.Text("#labelkeys tbody tr:first-child th"); got != "k2" {
		t.Fatalf("newest key %q", got)
	}
	eval[bool](b, "window.confirm = () => true; true")
	b.Step("retire k1", chromedp.Click(chromedp.CSS(`button[data-post="/api/v1/labelkeys/k1/retire"]`)))
	b.waitFor("k1 retired", `!document.querySelector('button[data-post="/api/v1/labelkeys/k1/retire"]') && document.querySelectorAll("#labelkeys .lk-retired").length === 1`)
	b.checkAxe("label keys rotated")
	b.Screenshot("walk-admin-labelkeys-phone.png")

	verify := func(seal string) VerifyResult {
		resp, body := e.do(t, "", jsonReq("POST", "/api/v1/verify", ManualEntry{QR: seal}))
		var v VerifyResult
		if resp.StatusCode != 200 || json.Unmarshal(body, &v) != nil {
			t.Fatalf("verify: %d %s", resp.StatusCode, body)
		}
		return v
	}
	if v := verify(old); v.Verdict != labels.Genuine || v.KeyID != "k1" {
		t.Errorf("label of the old key: %+v", v)
	}
	fresh := e.sealFor(t, "PAX0001")
	if v := verify(fresh); v.Verdict != labels.Genuine || v.KeyID != "k2" {
		t.Errorf("new label: %+v", v)
	}

	b.open("/console/admin/users")
	b.checkAxe("users")
	eval[bool](b, `document.querySelector("#u-role").value = "warehouse"; true`)
	b.Step("add user", chromedp.SendKeys(chromedp.ID("u-name"), "lin"), chromedp.Click(chromedp.ID("create-user")))
	b.Poll("password shown", `!document.querySelector("#token-box").hidden`)
	if pw := eval[string](b, `document.querySelector("#token").value`); len(pw) < 12 {
		t.Errorf("generated password %q", pw)
	}
	b.checkAxe("users with password")
	b.Screenshot("walk-admin-users-phone.png")
}

// TestSignInOpenRedirect signs in on the scan page opened with a next
// that leads off the site: the page stays on the site.
func TestSignInOpenRedirect(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	userstest.Create(t, e.db.Users(), "wang", auth.RoleWarehouse, "")
	base := e.live(t)
	b := newSignedOutBrowser(t, base, 390, 844)
	for _, next := range []string{"//evil.example/console", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "/\r/evil.example", "/\t/evil.example", " //evil.example"} {
		b.Step("open", chromedp.Navigate(base+"/?next="+url.QueryEscape(next)), chromedp.WaitVisible(chromedp.ID("si-name")))
		b.Step("sign in", chromedp.SendKeys(chromedp.ID("si-name"), "wang"), chromedp.SendKeys(chromedp.ID("si-password"), userstest.Password),
			chromedp.Click(chromedp.ID("signin")))
		b.Poll("signed in", `!document.querySelector("#who").hidden`)
		time.Sleep(300 * time.Millisecond) // a redirect would start now
		if got := eval[string](b, "location.origin + location.pathname"); got != base+"/" {
			t.Errorf("next=%q: went to %s", next, got)
		}
		if !eval[bool](b, `!document.querySelector("#open-console").hidden`) {
			t.Errorf("no console link for the warehouse")
		}
		b.Step("sign out", chromedp.Click(chromedp.ID("signout")))
		b.Poll("signed out", `!document.querySelector("#signin-form").hidden`)
	}
}

// TestConsoleBrowserNewPages runs axe-core on the imports, labels,
// printers, users and review queue pages at desktop and phone sizes, in
// both languages, and checks that the label preview renders.
func TestConsoleBrowserNewPages(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{}, withRisk)
	e.addPrinter("dock", "127.0.0.1:1")
	e.plainUser("ulla")
	base := e.live(t)
	for _, vp := range consoleViewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newConsoleBrowser(t, e, base, "admin", vp.width, vp.height)
			for _, p := range []string{"/console/imports", "/console/labels", "/console/labels?batch=B1", "/console/admin/printers", "/console/admin/users",
				"/console/cases?rule=complaint", "/console/admin/labelkeys", "/console/devices?batch=B1&lang=en", "/console/imports?lang=en", "/console/admin/users?lang=en"} {
				b.open(p)
				b.checkAxe(p)
			}
			b.open("/console/labels?sns=PAX0001+PAX0002+PAX0003&lang=zh")
			b.Step("preview", chromedp.Click(chromedp.ID("l-preview")))
			b.waitFor("preview shown", `!!document.querySelector("#l-preview-img") && document.querySelector("#l-preview-img").naturalHeight > 0`)
			b.checkAxe("labels preview")
			b.Screenshot("console-labels-" + vp.name + ".png")
			b.open("/console/admin/users")
			b.Screenshot("console-users-" + vp.name + ".png")
		})
	}
}
