package api

import (
	"regexp"
	"strings"
	"testing"
)

// TestConsoleExportLinks checks that the device list's export links carry
// the search in force and that following one exports every device it
// finds and no other.
func TestConsoleExportLinks(t *testing.T) {
	e := newEnv(t, Config{})
	link := regexp.MustCompile(`id="export-(csv|xlsx)" href="([^"]+)"`)
	tests := []struct {
		name, role, query string
		want, not         []string
	}{
		{"no filter", "admin", "", []string{"PAX0001", "PAX0002", "PAX0003"}, nil},
		{"batch", "admin", "?batch=B2", []string{"PAX0003"}, []string{"PAX0001", "PAX0002"}},
		{"sn prefix and supplier", "admin", "?sn=pax000&supplier=SUP1", []string{"PAX0001", "PAX0003"}, []string{"PAX0002"}},
		{"model that matches none", "warehouse", "?model=X9", nil, []string{"PAX0001", "PAX0002", "PAX0003"}},
		{"merchant scope", "merchant", "?batch=B1", []string{"PAX0001"}, []string{"PAX0002", "PAX0003"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, page := e.page(t, tc.role, "/console/devices"+tc.query)
			if status != 200 {
				t.Fatalf("page: status %d", status)
			}
			ms := link.FindAllStringSubmatch(page, -1)
			if len(ms) != 2 {
				t.Fatalf("%d export links:\n%s", len(ms), page)
			}
			for _, m := range ms {
				if !strings.Contains(m[2], "format="+m[1]) {
					t.Fatalf("link %s lacks its format", m[2])
				}
			}
			resp, body := e.do(t, tc.role, get(ms[0][2])(e))
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("export %s: status %d, %s: %.300s", ms[0][2], resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			for _, sn := range tc.want {
				if !strings.Contains(string(body), sn) {
					t.Errorf("export lacks %s:\n%s", sn, body)
				}
			}
			for _, sn := range tc.not {
				if strings.Contains(string(body), sn) {
					t.Errorf("export has %s:\n%s", sn, body)
				}
			}
			resp, body = e.do(t, tc.role, get(ms[1][2])(e))
			if resp.StatusCode != 200 || len(body) < 4 || string(body[:2]) != "PK" {
				t.Fatalf("xlsx export: status %d, %d bytes", resp.StatusCode, len(body))
			}
		})
	}
}

// TestConsoleReviewTabs checks that cases, complaints and change requests
// are reached from the one review queue page.
func TestConsoleReviewTabs(t *testing.T) {
	e := newEnv(t, Config{}, withRisk)
	for _, tc := range []struct {
		role, path string
		complaints bool // the complaints tab is the current one
	}{
		{"reviewer", "/console/cases", false},
		{"admin", "/console/cases?rule=complaint", true},
	} {
		status, page := e.page(t, tc.role, tc.path)
		if status != 200 {
			t.Fatalf("%s: status %d", tc.path, status)
		}
		for _, href := range []string{`href="/console/cases"`, `href="/console/cases?rule=complaint"`, `href="/review/changes?state=pending"`} {
			if !strings.Contains(page, href) {
				t.Errorf("%s as %s: no tab %s", tc.path, tc.role, href)
			}
		}
		if got := strings.Contains(page, `<a href="/console/cases?rule=complaint" aria-current="page">`); got != tc.complaints {
			t.Errorf("%s: complaints tab current %v, want %v", tc.path, got, tc.complaints)
		}
	}
	// The change requests tab leads to a page the same roles get.
	for _, role := range []string{"reviewer", "admin"} {
		if status, _ := e.page(t, role, "/review/changes?state=pending"); status != 200 {
			t.Errorf("%s: change requests page status %d", role, status)
		}
	}
}

// TestConsoleUsersPage checks the users page: every user with role,
// scope, TOTP and state, and actions that call the users API.
func TestConsoleUsersPage(t *testing.T) {
	e := newEnv(t, Config{})
	e.plainUser("ulla")
	e.plainUser("olaf")
	if resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/users/olaf/disable"}); resp.StatusCode != 200 {
		t.Fatalf("disable: %d %s", resp.StatusCode, body)
	}
	status, page := e.page(t, "admin", "/console/admin/users?lang=en")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	row := regexp.MustCompile(`(?s)<tr>\s*<th scope="row"[^>]*>(\w+)</th>(.*?)</tr>`)
	rows := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(page, -1) {
		rows[m[1]] = m[2]
	}
	if len(rows) != 2 {
		t.Fatalf("rows %v in\n%s", rows, page)
	}
	for name, want := range map[string][]string{
		"ulla": {"Warehouse", "Enabled", `data-delete="/api/v1/users/ulla/sessions"`, `data-post="/api/v1/users/ulla/disable"`, ">Off<"},
		"olaf": {"Disabled", `data-delete="/api/v1/users/olaf/sessions"`},
	} {
		for _, w := range want {
			if !strings.Contains(rows[name], w) {
				t.Errorf("row %s lacks %q:\n%s", name, w, rows[name])
			}
		}
	}
	if strings.Contains(rows["olaf"], "/disable") {
		t.Error("a disabled user offers Disable")
	}
	if !strings.Contains(page, `data-action="/api/v1/users" data-show-token="password"`) {
		t.Error("no add-user form showing the generated password")
	}
}
