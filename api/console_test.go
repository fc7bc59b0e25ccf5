package api

import (
	"context"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"posid/internal/audit"
	"posid/internal/risk"
	"posid/internal/sqlite"
)

// withRisk adds a risk monitor on the env's database.
func withRisk(db *sqlite.DB, deps *Deps) {
	deps.Risk = risk.NewMonitor(db.RiskStore(), riskTestConfig, nil)
}

// page fetches path as role and returns the status and the unescaped body.
func (e *testEnv) page(t *testing.T, role, path string) (int, string) {
	t.Helper()
	resp, body := e.do(t, role, req{method: http.MethodGet, path: path})
	return resp.StatusCode, html.UnescapeString(string(body))
}

// TestConsoleAccess checks every console page for every role: who gets
// the page, who a 401 or 403 problem.
func TestConsoleAccess(t *testing.T) {
	e := newEnv(t, Config{}, withRisk)
	roles := []string{"", "admin", "warehouse", "supplier", "merchant", "reviewer"}
	tests := []struct {
		path   string
		expect [6]int
	}{
		{"/console/devices", authed(200)},
		{"/console/devices/PAX0001", authed(200)},
		{"/console/devices/PAX0003", authed(200)},
		{"/console/cases", [6]int{401, 200, 403, 403, 403, 200}},
		{"/console/admin/keys", [6]int{401, 200, 403, 403, 403, 403}},
		{"/console/admin/labelkeys", [6]int{401, 200, 403, 403, 403, 403}},
		{"/console/admin/audit", [6]int{401, 200, 403, 403, 403, 403}},
		{"/console/admin/limits", [6]int{401, 200, 403, 403, 403, 403}},
		{"/console/admin/users", [6]int{401, 200, 403, 403, 403, 403}},
		{"/console/account", authed(200)},
		{"/console/imports", [6]int{401, 200, 200, 403, 403, 403}},
		{"/console/labels", [6]int{401, 200, 200, 403, 403, 403}},
		{"/console/labels?sns=PAX0001+pax0003", [6]int{401, 200, 200, 403, 403, 403}},
		{"/console/admin/printers", [6]int{401, 200, 200, 403, 403, 403}},
		{"/console/imports.js", all(200)},
		{"/console/labels.js", all(200)},
		{"/console/console.css", all(200)},
		{"/console/console.js", all(200)},
	}
	for _, tc := range tests {
		for i, role := range roles {
			name := role
			if name == "" {
				name = "anonymous"
			}
			t.Run(tc.path+"/"+name, func(t *testing.T) {
				resp, body := e.do(t, role, req{method: http.MethodGet, path: tc.path})
				if resp.StatusCode != tc.expect[i] {
					t.Fatalf("status %d, want %d; body %.300s", resp.StatusCode, tc.expect[i], body)
				}
				if resp.StatusCode >= 400 {
					problem(t, resp, body)
					return
				}
				if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
					t.Errorf("CSP %q", csp)
				}
			})
		}
	}
}

// TestConsoleNavByRole checks that the navigation offers each role only
// the pages its routes admit.
func TestConsoleNavByRole(t *testing.T) {
	e := newEnv(t, Config{}, withRisk)
	nav := regexp.MustCompile(`(?s)<nav[^>]*>(.*?)</nav>`)
	for _, tc := range []struct {
		role      string
		want, not []string
	}{
		{"admin", []string{"/console/devices", "/console/imports", "/console/labels", "/console/cases", "/console/admin/keys", "/console/admin/labelkeys", "/console/admin/audit", "/console/admin/limits", "/console/admin/users", "/console/admin/printers"}, nil},
		{"warehouse", []string{"/console/devices", "/console/imports", "/console/labels", "/console/admin/printers"}, []string{"/console/cases", "/console/admin/keys", "/console/admin/labelkeys", "/console/admin/audit", "/console/admin/limits", "/console/admin/users"}},
		{"supplier", []string{"/console/devices"}, []string{"/console/cases", "/console/admin/", "/console/imports", "/console/labels"}},
		{"merchant", []string{"/console/devices"}, []string{"/console/cases", "/console/admin/", "/console/imports", "/console/labels"}},
		{"reviewer", []string{"/console/devices", "/console/cases"}, []string{"/console/admin/", "/console/imports", "/console/labels"}},
	} {
		t.Run(tc.role, func(t *testing.T) {
			status, body := e.page(t, tc.role, "/console/devices")
			m := nav.FindStringSubmatch(body)
			if status != 200 || m == nil {
				t.Fatalf("status %d, nav %v", status, m)
			}
			for _, w := range tc.want {
				if !strings.Contains(m[1], `href="`+w+`"`) {
					t.Errorf("nav lacks %s", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(m[1], n) {
					t.Errorf("nav offers %s", n)
				}
			}
		})
	}
}

// TestConsoleDevicesByRole checks the device search: what each role's
// listing holds (the service scopes it) and the filters.
func TestConsoleDevicesByRole(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		role, path string
		want, not  []string
	}{
		{"admin", "/console/devices", []string{"PAX0001", "PAX0002", "PAX0003", "老王餐馆", `id="f-merchant"`}, nil},
		{"warehouse", "/console/devices", []string{"PAX0001", "PAX0002", "PAX0003"}, []string{"老王餐馆", "张三便利店", `id="f-merchant"`}},
		{"supplier", "/console/devices", []string{"PAX0001", "PAX0003"}, []string{"PAX0002", `id="f-supplier"`}},
		{"merchant", "/console/devices", []string{"PAX0001", "老王餐馆"}, []string{"PAX0002", "PAX0003", `id="f-merchant"`, `id="f-supplier"`}},
		{"admin", "/console/devices?batch=B2", []string{"PAX0003"}, []string{"PAX0001", "PAX0002"}},
		{"admin", "/console/devices?sn=pax0002", []string{"PAX0002"}, []string{"PAX0001", "PAX0003"}},
		{"admin", "/console/devices?model=A920&supplier=sup2", []string{"PAX0002"}, []string{"PAX0001", "PAX0003"}},
		{"admin", "/console/devices?model=X990", []string{"没有符合条件的设备"}, []string{"PAX0001"}},
		{"admin", "/console/devices?merchant=M001", []string{"PAX0001"}, []string{"PAX0002", "PAX0003"}},
		{"admin", "/console/devices?status=shipped", []string{"没有符合条件的设备"}, []string{"PAX0001"}},
		// A merchant's merchant= is ignored (no such field): still its own devices only.
		{"merchant", "/console/devices?merchant=M002", []string{"PAX0001"}, []string{"PAX0002"}},
	}
	for _, tc := range tests {
		t.Run(tc.role+" "+tc.path, func(t *testing.T) {
			status, body := e.page(t, tc.role, tc.path)
			if status != 200 {
				t.Fatalf("status %d: %.300s", status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("page shows %q", n)
				}
			}
		})
	}
}

// TestConsoleDevicesPaging walks the listing with the registry cursor.
func TestConsoleDevicesPaging(t *testing.T) {
	e := newEnv(t, Config{})
	next := regexp.MustCompile(`href="(/console/devices\?[^"]*cursor=[^"]*)" rel="next"`)
	seen := map[string]bool{}
	path := "/console/devices?limit=ignored&batch="
	for range 5 {
		status, body := e.page(t, "admin", path)
		if status != 200 {
			t.Fatalf("%s: %d", path, status)
		}
		for _, sn := range []string{"PAX0001", "PAX0002", "PAX0003"} {
			if strings.Contains(body, ">"+sn+"<") {
				seen[sn] = true
			}
		}
		m := next.FindStringSubmatch(body)
		if m == nil {
			break
		}
		path = m[1]
	}
	if len(seen) != 3 {
		t.Fatalf("pages showed %v", seen)
	}
}

// TestConsoleDevicePage checks the device page per role: registration
// masked per policy, the audited reveal for admins, history and the
// status changes the role may make.
func TestConsoleDevicePage(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		name, role, path string
		want, not        []string
	}{
		{"admin", "admin", "/console/devices/PAX0001", []string{"老王餐馆", "****", `id="reveal"`, `data-move="shipped"`, `data-move="revoked"`, `id="history"`},
			[]string{"6222021234561234", `data-move="active"`}},
		{"admin reveals", "admin", "/console/devices/PAX0001?reveal=account", []string{"6222021234561234", "已记入审计日志"}, []string{`id="reveal"`}},
		{"own merchant", "merchant", "/console/devices/PAX0001", []string{"老王餐馆", "****", `id="history"`}, []string{"6222021234561234", `id="reveal"`, "data-move"}},
		{"other merchant", "merchant2", "/console/devices/PAX0001", []string{"PAX0001", "仅公开信息", "属于其他商户或供应商"}, []string{"老王餐馆", "data-move"}},
		{"supplier", "supplier", "/console/devices/PAX0001", []string{"老王餐馆", "不含结算账号"}, []string{"****", "6222021234561234", "data-move"}},
		{"warehouse", "warehouse", "/console/devices/PAX0003", []string{"PAX0003", `data-move="shipped"`}, []string{`data-move="revoked"`, "老王餐馆"}},
		{"warehouse sees no registration", "warehouse", "/console/devices/PAX0001", []string{"您的角色看不到入网信息"}, []string{"老王餐馆"}},
		{"english", "admin", "/console/devices/PAX0001?lang=en", []string{`<html lang="en">`, "Registration", "Mark shipped", `href="/console/devices/PAX0001?lang=zh"`}, []string{"入网信息"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.page(t, tc.role, tc.path)
			if status != 200 {
				t.Fatalf("status %d: %.300s", status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("page shows %q", n)
				}
			}
		})
	}
	es, _, err := e.db.Audit().List(context.Background(), audit.Filter{Action: audit.ActionRevealAccount})
	if err != nil || len(es) != 1 || es[0].Target != "PAX0001" {
		t.Fatalf("reveal audit rows %+v, %v", es, err)
	}
}

// TestConsoleErrors checks that refusals and bad input inside a page come
// back as a page in the user's language with the error table's status.
func TestConsoleErrors(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tc := range []struct {
		role, path string
		status     int
		want       string
	}{
		{"admin", "/console/devices/NOPE0001", 404, "未找到"},
		{"admin", "/console/devices/NOPE0001?lang=en", 404, "Not found"},
		{"merchant", "/console/devices/PAX0001?reveal=account", 403, "无权查看"},
		{"admin", "/console/devices?status=lost", 422, "lost"},
		{"warehouse", "/console/devices/PAX0001?reveal=other", 400, "reveal"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := e.do(t, tc.role, req{method: http.MethodGet, path: tc.path})
			page := html.UnescapeString(string(body))
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("status %d %s, want %d page: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), tc.status, page)
			}
			if !strings.Contains(page, tc.want) || !strings.Contains(page, resp.Header.Get(fiber.HeaderXRequestID)) {
				t.Errorf("page lacks %q or the request id: %.500s", tc.want, page)
			}
		})
	}
}

// TestConsoleCasePages checks the review queue and a case page with its
// evidence, device and review forms.
func TestConsoleCasePages(t *testing.T) {
	e := newEnv(t, Config{}, withRisk)
	// An unknown SN looked up raises unknown_serial; a known one is evidence of nothing.
	e.do(t, "merchant", req{method: "GET", path: "/api/v1/devices/GHOST0001"})
	mon := e.srv.deps.Risk
	cs, err := mon.Cases(context.Background(), risk.CaseFilter{})
	if err != nil || len(cs) != 1 {
		t.Fatalf("cases %+v, %v", cs, err)
	}
	id := cs[0].ID
	status, body := e.page(t, "admin", "/console/cases")
	if status != 200 || !strings.Contains(body, "未登记的序列号") || !strings.Contains(body, "GHOST0001") {
		t.Fatalf("queue %d: %.500s", status, body)
	}
	status, body = e.page(t, "admin", "/console/cases?rule=forged_label")
	if status != 200 || strings.Contains(body, "GHOST0001") {
		t.Fatalf("rule filter %d shows the case", status)
	}
	status, body = e.page(t, "admin", "/console/cases?assignee=nobody")
	if status != 200 || strings.Contains(body, "GHOST0001") {
		t.Fatalf("assignee filter %d shows the case", status)
	}
	if _, err := mon.Assign(context.Background(), cs[0].ID, "alice"); err != nil {
		t.Fatal(err)
	}
	status, body = e.page(t, "admin", "/console/cases?assignee=alice")
	if status != 200 || !strings.Contains(body, "GHOST0001") {
		t.Fatalf("assignee filter %d hides alice's case", status)
	}
	path := "/console/cases/" + itoa(id)
	before, _ := mon.Case(context.Background(), id)
	status, body = e.page(t, "admin", path)
	// Reviewing is not a lookup: opening the case of an unknown SN adds no
	// evidence to it.
	after, _ := mon.Case(context.Background(), id)
	if after.Hits != before.Hits || len(after.Evidence) != len(before.Evidence) {
		t.Errorf("opening the case added evidence: hits %d → %d, events %d → %d", before.Hits, after.Hits, len(before.Evidence), len(after.Evidence))
	}
	for _, w := range []string{`id="assign-form"`, `id="resolve-form"`, `data-action="/api/v1/cases/` + itoa(id) + `/resolve"`, `id="evidence"`, "查询", "M001", "未登记", `data-action="/api/v1/cases/` + itoa(id) + `/comments"`, "暂无备注"} {
		if status != 200 || !strings.Contains(body, w) {
			t.Errorf("case page %d lacks %q", status, w)
		}
	}
	// The case of a foreign scan names a registered device: its page shows
	// the device and its history.
	e.do(t, "merchant2", jsonReq("POST", "/api/v1/scans", ManualEntry{SN: "PAX0001"}))
	foreign, err := mon.Cases(context.Background(), risk.CaseFilter{SN: "PAX0001"})
	if err != nil || len(foreign) != 1 {
		t.Fatalf("cases of PAX0001: %+v, %v", foreign, err)
	}
	status, body = e.page(t, "admin", "/console/devices/PAX0001")
	if status != 200 || !strings.Contains(body, `id="scans"`) || !strings.Contains(body, "M002 / M001") || !strings.Contains(body, "#"+itoa(foreign[0].ID)) {
		t.Errorf("device page %d lacks the foreign scan or its case", status)
	}
	if status, body := e.page(t, "merchant", "/console/devices/PAX0001"); status != 200 || strings.Contains(body, `id="scans"`) || strings.Contains(body, "M002") {
		t.Errorf("merchant's device page %d shows scans", status)
	}
	status, body = e.page(t, "admin", "/console/cases/"+itoa(foreign[0].ID))
	if status != 200 || !strings.Contains(body, "老王餐馆") || !strings.Contains(body, "registration") {
		t.Errorf("case page of PAX0001 %d lacks the device and its history", status)
	}
	if _, err := mon.Comment(context.Background(), id, "apikey:x(a)", "looked at the scans", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := mon.Resolve(context.Background(), id, "test", risk.OutcomeDismissed, "typo"); err != nil {
		t.Fatal(err)
	}
	status, body = e.page(t, "admin", path)
	if status != 200 || strings.Contains(body, `id="resolve-form"`) || !strings.Contains(body, "typo") || !strings.Contains(body, "不属实") || !strings.Contains(body, "looked at the scans") {
		t.Errorf("resolved case page %d: %.300s", status, body)
	}
	if status, _ := e.page(t, "admin", "/console/cases/999"); status != 404 {
		t.Errorf("missing case: %d", status)
	}
}

// TestConsoleAdminPages checks the admin pages' content.
func TestConsoleAdminPages(t *testing.T) {
	e := newEnv(t, Config{RatePerIP: 7, Burst: 9})
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console/admin/keys", []string{e.keyID("merchant"), "M001", `data-post="/api/v1/apikeys/` + e.keyID("admin") + `/revoke"`, "已吊销", `id="create-key"`}},
		{"/console/admin/labelkeys", []string{"k1", `data-post="/api/v1/labelkeys/k1/retire"`, `data-post="/api/v1/labelkeys/k1/revoke"`, "posid keys new", "验证为“已吊销”"}},
		{"/console/admin/audit?action=device.create", nil},
		{"/console/admin/limits", []string{"32 MiB", "1 MiB", "16 MiB", "7 /s", "9", "8 KiB", "640 MiB"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			status, body := e.page(t, "admin", tc.path)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q", w)
				}
			}
			if strings.Contains(body, "posid_") {
				t.Error("page shows a token")
			}
		})
	}
	es, _, err := e.db.Audit().List(context.Background(), audit.Filter{Action: audit.ActionReadAudit})
	if err != nil || len(es) != 1 {
		t.Fatalf("reading the audit log from the console left %d rows, %v", len(es), err)
	}
}

// TestConsoleCSRFMeta checks that a request's CSRF token reaches the page
// for its scripts, and that a page without one has no tag.
func TestConsoleCSRFMeta(t *testing.T) {
	e := newEnv(t, Config{})
	app := fiber.New()
	app.Get("/with", func(c *fiber.Ctx) error {
		c.Locals(localCSRF, "tok-123")
		return e.srv.renderConsole(c, 200, "limits.html", "limits.title", consoleLimitsView{})
	})
	app.Get("/without", func(c *fiber.Ctx) error {
		return e.srv.renderConsole(c, 200, "limits.html", "limits.title", consoleLimitsView{})
	})
	for path, want := range map[string]bool{"/with": true, "/without": false} {
		resp, err := app.Test(httptest.NewRequest("GET", path, nil))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if got := strings.Contains(b.String(), `<meta name="csrf-token" content="tok-123">`); got != want {
			t.Errorf("%s: csrf meta %v, want %v", path, got, want)
		}
	}
}

// TestConsoleTextComplete checks that every text key the templates use
// has both languages, so no page shows a raw key.
func TestConsoleTextComplete(t *testing.T) {
	key := regexp.MustCompile(`\.T "([^"]+)"`)
	names, _ := fs.Glob(consoleTemplateFS, "templates/console/*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(consoleTemplateFS, n)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			if tx, ok := consoleText[m[1]]; !ok || tx[0] == "" || tx[1] == "" {
				t.Errorf("%s: text %q lacks a row in consoleText", n, m[1])
			}
		}
	}
	for _, p := range consoleNav {
		if _, ok := consoleText[p.Key]; !ok {
			t.Errorf("nav %s: no text %q", p.Path, p.Key)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestConsoleOpenAPI checks that the console's routes are documented as
// what they answer: HTML pages and their assets, not JSON.
func TestConsoleOpenAPI(t *testing.T) {
	doc := newEnv(t, Config{}).srv.OpenAPI()
	paths := doc["paths"].(map[string]map[string]any)
	for path, want := range map[string]string{
		"/console/devices":      fiber.MIMETextHTMLCharsetUTF8,
		"/console/devices/{sn}": fiber.MIMETextHTMLCharsetUTF8,
		"/console/console.css":  "text/css; charset=utf-8",
		"/console/console.js":   fiber.MIMEApplicationJavaScriptCharsetUTF8,
		"/console/admin/limits": fiber.MIMETextHTMLCharsetUTF8,
	} {
		op, _ := paths[path]["get"].(map[string]any)
		resp, _ := op["responses"].(map[string]any)
		ok, _ := resp["200"].(map[string]any)
		content, _ := ok["content"].(map[string]any)
		if _, found := content[want]; !found || len(content) != 1 {
			t.Errorf("%s answers %v, want %s", path, content, want)
		}
	}
}
