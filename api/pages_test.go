package api

import (
	"bytes"
	"html"
	"image/png"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"posid/internal/browsertest"
)

// TestDocsBilingual checks that /docs gives every route of the table (risk
// routes included) in Chinese and English, with its callers.
func TestDocsBilingual(t *testing.T) {
	e := newRiskEnv(t)
	routes := e.s.Routes()
	for _, r := range routes {
		if docsZh[r.Method+" "+r.Path] == "" {
			t.Errorf("%s %s has no Chinese summary: add a row to docsZh in api/pages.go", r.Method, r.Path)
		}
	}
	resp, err := e.s.App().Test(httptest.NewRequest("GET", "/docs", nil))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	page := html.UnescapeString(buf.String())
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, r := range routes {
		for _, want := range []string{r.Path, r.Summary, docsZh[r.Method+" "+r.Path]} {
			if !strings.Contains(page, want) {
				t.Errorf("/docs lacks %q", want)
			}
		}
	}
	for _, want := range []string{`<html lang="zh-CN">`, "API 文档", "API documentation", "管理员 <span lang=\"en\">admin</span>", "公开 <span lang=\"en\">public</span>"} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
}

// TestPagesFitPhone opens the server's pages in Chromium on a 390×844
// phone screen: none may be wider than the screen (no cut-off column).
func TestPagesFitPhone(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	browsertest.Path(t)
	e := newRiskEnv(t)
	base := (&testEnv{srv: e.s}).live(t)
	seal := e.sealURL(knownSN, "A920")
	const width, height = 390, 844
	b := browsertest.New(t)
	b.Step("phone viewport", chromedp.EmulateViewport(width, height, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []struct{ name, path, shows string }{
		{"docs", "/docs", `document.body.innerText.includes("Get a device") && document.body.innerText.includes("查询一台设备")`},
		{"verify", seal[strings.Index(seal, "/v/"):], `document.body.innerText.includes("` + knownSN + `")`},
		{"scan", "/", `!!document.querySelector("#photo")`},
	} {
		b.Step("open "+p.path, chromedp.Navigate(base+p.path), chromedp.WaitVisible(chromedp.CSS("body")))
		sw, err := chromedp.Run(b.Context(), chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
		if err != nil {
			t.Fatal(err)
		}
		if sw > width {
			t.Errorf("%s is %d px wide on a %d px screen", p.path, sw, width)
		}
		shows, err := chromedp.Run(b.Context(), chromedp.Evaluate[bool](p.shows))
		if err != nil || !shows {
			t.Errorf("%s: %s is false (%v)", p.path, p.shows, err)
		}
		b.Screenshot(p.name + "-" + strconv.Itoa(width) + ".png")
	}
}

// TestFavicon checks /favicon.ico: an ICO whose images are PNGs of the
// sizes its directory names, with a cache header.
func TestFavicon(t *testing.T) {
	e := newEnv(t, Config{})
	resp, body := e.do(t, "", req{method: "GET", path: "/favicon.ico"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("GET /favicon.ico: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != faviconMaxAge {
		t.Errorf("Cache-Control %q, want %q", cc, faviconMaxAge)
	}
	if len(body) < 6 || !bytes.Equal(body[:4], []byte{0, 0, 1, 0}) {
		t.Fatalf("not an ICO file: % x", body[:min(len(body), 8)])
	}
	n := int(le16(body[4:]))
	if n == 0 || len(body) < 6+16*n {
		t.Fatalf("ICO directory of %d images in %d bytes", n, len(body))
	}
	for i := range n {
		ent := body[6+16*i:]
		side := int(ent[0])
		size, off := le32(ent[8:]), le32(ent[12:])
		if uint64(off)+uint64(size) > uint64(len(body)) {
			t.Fatalf("image %d: %d bytes at %d past the end", i, size, off)
		}
		img, err := png.Decode(bytes.NewReader(body[off : off+size]))
		if err != nil {
			t.Fatalf("image %d: %v", i, err)
		}
		if b := img.Bounds(); b.Dx() != side || b.Dy() != side {
			t.Errorf("image %d is %v, directory says %d px", i, b, side)
		}
	}
}

// le16 and le32 read the little-endian integers of an ICO directory.
func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 { return uint32(le16(b)) | uint32(le16(b[2:]))<<16 }
