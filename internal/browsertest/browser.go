// Package browsertest drives posid's web pages in a real headless Chromium
// (Debian's chromium, through chromedp) for tests: one phone-sized browser
// per test, with helpers that fail the test on error.
package browsertest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// timeout bounds one test's browser session.
const timeout = 90 * time.Second

// Browser is a headless Chromium tab bound to a test.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// Path returns the Chromium to drive, skipping the test when there is none
// (failing when POSID_REQUIRE_TOOLS is set, as in CI).
func Path(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("POSID_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
		t.Fatal("needs Chromium (apt-get install chromium, or POSID_CHROMIUM=PATH), required by POSID_REQUIRE_TOOLS")
	}
	t.Skip("needs Chromium (apt-get install chromium, or POSID_CHROMIUM=PATH)")
	return ""
}

// New starts a phone-sized (412×1100) Chromium with Chinese as the
// preferred language and a fresh profile; it ends with the test. Flags keep
// it off the network: this machine reaches only loopback.
func New(t testing.TB) *Browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(Path(t)),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.Env("LANG=zh_CN.UTF-8", "LANGUAGE=zh_CN"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(412, 1100),
	)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	return &Browser{t: t, ctx: bctx}
}

// Step runs actions, failing the test with what on error.
func (b *Browser) Step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Poll waits until the JavaScript expression expr is true.
func (b *Browser) Poll(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](expr)); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Text returns the trimmed text of the first element matching the CSS selector sel.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Screenshot saves a full-page PNG of the tab as name in $POSID_SCREENSHOTS
// (default posid-screenshots under the system temp dir, which outlives the
// test, unlike t.TempDir), logs its path and returns it.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	shot, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	dir := os.Getenv("POSID_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "posid-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// Context is the tab's context, for chromedp calls the helpers lack.
func (b *Browser) Context() context.Context { return b.ctx }
