package api

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"posid/internal/browsertest"
	"posid/internal/registry"
)

// consoleViewports are the screens the console is tested on.
var consoleViewports = []struct {
	name          string
	width, height int64
}{
	{"desktop", 1280, 900},
	{"phone", 390, 844},
}

// axeRules are the axe-core rule tags every console page must pass: WCAG
// 2.1 A and AA (labels, names, contrast, keyboard, focus order) and axe's
// best practices (landmarks, headings, skip link).
const axeRules = `["wcag2a","wcag2aa","wcag21a","wcag21aa","best-practice"]`

// consoleBrowser is a Chromium tab that sends role's API key with every
// request, as a signed-in session would send its cookie.
type consoleBrowser struct {
	*browsertest.Browser
	t    *testing.T
	base string
	axe  string
}

func newConsoleBrowser(t *testing.T, e *testEnv, base, role string, width, height int64) *consoleBrowser {
	t.Helper()
	axe, err := os.ReadFile(filepath.Join("testdata", "axe", "axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	b := &consoleBrowser{Browser: browsertest.New(t), t: t, base: base, axe: string(axe)}
	b.Step("authenticate and size", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Authorization": "Bearer " + e.tokens[role]}})
		return err
	}), chromedp.EmulateViewport(width, height, chromedp.EmulateScale(1)))
	return b
}

// open navigates to path and waits for the page's heading.
func (b *consoleBrowser) open(path string) {
	b.t.Helper()
	b.Step("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
}

// eval runs expr in the page and decodes its value into a T.
func eval[T any](b *consoleBrowser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.Context(), chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %.80s: %v", expr, err)
	}
	return v
}

// waitFor waits until expr is true, across the navigations a form
// submission or a reload starts (Poll fails when its page goes away).
func (b *consoleBrowser) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("%s: %s not true after 20 s", what, expr)
}

// axeViolation is one failed axe-core rule with the elements that fail it.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Help    string   `json:"help"`
	Targets []string `json:"targets"`
}

// checkAxe runs axe-core in the page and fails the test on any violation;
// it also checks that the page is no wider than the screen.
func (b *consoleBrowser) checkAxe(what string) {
	b.t.Helper()
	if !eval[bool](b, "typeof axe !== 'undefined'") {
		eval[bool](b, b.axe+"\n;true")
	}
	out := eval[string](b, `axe.run(document, {runOnly: {type: "tag", values: `+axeRules+`}}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map(n => n.target.join(" "))}))))`)
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("%s: axe result %.200s: %v", what, out, err)
	}
	for _, v := range vs {
		b.t.Errorf("%s: axe %s (%s): %s at %v", what, v.ID, v.Impact, v.Help, v.Targets)
	}
	if wide := eval[bool](b, "document.documentElement.scrollWidth > window.innerWidth + 1"); wide {
		b.t.Errorf("%s: page is wider than the %d px screen", what, eval[int](b, "window.innerWidth"))
	}
}

// checkAxeFinds checks that the axe check can fail: an input without a
// label added to the page must be reported.
func (b *consoleBrowser) checkAxeFinds() {
	b.t.Helper()
	if !eval[bool](b, "typeof axe !== 'undefined'") {
		eval[bool](b, b.axe+"\n;true")
	}
	out := eval[string](b, `(() => { const i = document.createElement("input"); i.id = "axe-probe"; document.querySelector("main").append(i);
		return axe.run(document, {runOnly: {type: "tag", values: `+axeRules+`}}).then(r => { i.remove(); return r.violations.map(v => v.id).join(","); }); })()`)
	if !strings.Contains(out, "label") {
		b.t.Fatalf("axe did not report an unlabelled input (violations %q): the check cannot fail", out)
	}
}

// tabTo presses Tab until the element matching sel has the focus, at most
// max times, and checks that the focus is visible (an outline).
func (b *consoleBrowser) tabTo(sel string, max int) {
	b.t.Helper()
	for i := 0; i < max; i++ {
		b.Step("tab", chromedp.KeyEvent(kb.Tab))
		if eval[bool](b, fmt.Sprintf("document.activeElement === document.querySelector(%q)", sel)) {
			if style := eval[string](b, "getComputedStyle(document.activeElement).outlineStyle"); style == "none" {
				b.t.Errorf("focus on %s is not visible (outline-style %s)", sel, style)
			}
			return
		}
	}
	b.t.Fatalf("%d tabs did not reach %s (focus on %s)", max, sel, eval[string](b, "document.activeElement.outerHTML.slice(0, 120)"))
}

// TestConsoleBrowser drives the console in headless Chromium at desktop and
// phone sizes: an admin searches a device by keyboard and opens it,
// resolves a case, creates an API key; every page passes axe-core.
func TestConsoleBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{}, withRisk)
	for _, sn := range []string{"GHOST0001", "GHOST0002"} {
		if resp, _ := e.do(t, "merchant", req{method: "GET", path: "/api/v1/devices/" + sn}); resp.StatusCode != 404 {
			t.Fatalf("lookup %s: %d", sn, resp.StatusCode)
		}
	}
	base := e.live(t)
	for _, vp := range consoleViewports {
		t.Run(vp.name, func(t *testing.T) {
			b := newConsoleBrowser(t, e, base, "admin", vp.width, vp.height)
			shot := func(name string) { b.Screenshot("console-" + name + "-" + vp.name + ".png") }

			b.open("/console/devices")
			b.checkAxeFinds()
			b.checkAxe("devices")
			b.tabTo("a.skip", 1)
			b.Step("skip to content", chromedp.KeyEvent(kb.Enter))
			b.tabTo("#f-sn", 3)
			b.Step("type SN and submit by keyboard", chromedp.KeyEvent("pax000"), chromedp.KeyEvent(kb.Enter))
			b.waitFor("results", `location.search.includes("sn=pax000") && document.querySelectorAll("#devices tbody tr").length === 3`)
			b.checkAxe("devices results")
			shot("devices")
			b.Step("open device", chromedp.Click(chromedp.CSS(`#devices a[href="/console/devices/PAX0001"]`)), chromedp.WaitVisible(chromedp.ID("registration")))
			if got := b.Text("#registration"); !strings.Contains(got, "老王餐馆") || strings.Contains(got, "6222021234561234") {
				t.Errorf("registration shows %q", got)
			}
			b.checkAxe("device")
			shot("device")
			b.tabTo(`button[data-move="shipped"]`, 40)

			b.open("/console/cases?status=open")
			b.checkAxe("cases")
			b.Step("open case", chromedp.Click(chromedp.CSS(`#cases tbody th a`)), chromedp.WaitVisible(chromedp.ID("resolve-form")))
			b.checkAxe("case")
			b.Step("comment", chromedp.SendKeys(chromedp.ID("c-text"), "已联系商户"), chromedp.Click(chromedp.ID("comment")))
			b.waitFor("comment shown", `document.querySelector("#comments") && document.querySelector("#comments").textContent.includes("已联系商户")`)
			b.tabTo("#r-note", 40)
			b.Step("write note", chromedp.KeyEvent("扫描了不存在的序列号"))
			b.tabTo("#resolve", 3)
			b.Step("resolve by keyboard", chromedp.KeyEvent(kb.Enter))
			b.waitFor("resolved", `document.querySelector("#case-status") && document.querySelector("#case-status").textContent === "已结案" && !document.querySelector("#flash").hidden`)
			if got := b.Text("#note"); got != "扫描了不存在的序列号" {
				t.Errorf("note %q", got)
			}
			b.checkAxe("resolved case")
			shot("case")

			b.open("/console/admin/keys")
			b.checkAxe("keys")
			eval[bool](b, `document.querySelector("#k-role").value = "warehouse"; true`)
			b.Step("create key", chromedp.SendKeys(chromedp.ID("k-name"), "till "+vp.name), chromedp.Click(chromedp.ID("create-key")))
			b.Poll("token shown", `!document.querySelector("#token-box").hidden`)
			if tok := eval[string](b, `document.querySelector("#token").value`); !strings.HasPrefix(tok, "posid_") {
				t.Errorf("token %q", tok)
			}
			b.checkAxe("keys with token")
			shot("keys")
			for _, p := range []string{"/console/admin/labelkeys", "/console/admin/audit", "/console/admin/limits", "/console/devices/PAX0001?lang=en"} {
				b.open(p)
				b.checkAxe(p)
			}
			shot("device-en")
		})
	}
	t.Run("merchant", func(t *testing.T) {
		b := newConsoleBrowser(t, e, base, "merchant", 390, 844)
		for _, p := range []string{"/console/devices", "/console/devices/PAX0001", "/console/devices/PAX0002", "/console/devices/NOPE0001"} {
			b.Step("open "+p, chromedp.Navigate(base+p), chromedp.WaitVisible(chromedp.CSS("main h1")))
			b.checkAxe("merchant " + p)
		}
		b.Screenshot("console-merchant-404-phone.png")
	})
}

// TestConsoleBrowserStatusChange moves a device through the page as the
// warehouse: the page offers only the move the role may make and the
// registry shows it afterwards.
func TestConsoleBrowserStatusChange(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newEnv(t, Config{})
	base := e.live(t)
	b := newConsoleBrowser(t, e, base, "warehouse", 390, 844)
	b.open("/console/devices/PAX0003")
	if n := eval[int](b, `document.querySelectorAll("button[data-move]").length`); n != 1 {
		t.Fatalf("warehouse is offered %d moves, want 1 (shipped)", n)
	}
	eval[bool](b, "window.confirm = () => true; true")
	b.Step("ship", chromedp.Click(chromedp.CSS(`button[data-move="shipped"]`)))
	b.waitFor("shipped", `document.querySelector("#status") && document.querySelector("#status").textContent === "已发货"`)
	b.checkAxe("after move")
	d, err := e.db.Store().GetDevice(context.Background(), "PAX0003", registry.ReadOptions{})
	if err != nil || d.Status != "shipped" {
		t.Fatalf("registry has %s, %v", d.Status, err)
	}
}
