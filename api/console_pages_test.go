package api

import (
	"io"
	"net"
	"regexp"
	"strings"
	"testing"

	"posid/internal/sqlite"
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

// TestConsoleLabelsPick checks how the labels page picks devices: pasted
// SNs normalized and once each, a whole batch named as a batch, a filter
// as its SNs; bad input is a console error page.
func TestConsoleLabelsPick(t *testing.T) {
	e := newEnv(t, Config{})
	e.addPrinter("dock", "127.0.0.1:1")
	picked := regexp.MustCompile(`<li data-sn="([^"]+)">`)
	batch := regexp.MustCompile(`id="label-job" data-batch="([^"]*)"`)
	tests := []struct {
		name, query string
		status      int
		sns         string
		batch       string
	}{
		{"nothing picked", "", 200, "", ""},
		{"pasted", "?sns=pax0001,+PAX0003%0Apax0001", 200, "PAX0001 PAX0003", ""},
		{"batch", "?batch=B1", 200, "PAX0001 PAX0002", "B1"},
		{"filter", "?batch=B1&supplier=SUP1", 200, "PAX0001", ""},
		{"pasted wins", "?sns=PAX0003&batch=B1", 200, "PAX0003", ""},
		{"bad sn", "?sns=%3Cscript%3E", 422, "", ""},
		{"bad status", "?status=lost", 422, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, page := e.page(t, "warehouse", "/console/labels"+tc.query)
			if status != tc.status {
				t.Fatalf("status %d, want %d:\n%.500s", status, tc.status, page)
			}
			if status != 200 {
				return
			}
			var got []string
			for _, m := range picked.FindAllStringSubmatch(page, -1) {
				got = append(got, m[1])
			}
			if strings.Join(got, " ") != tc.sns {
				t.Errorf("picked %v, want %s", got, tc.sns)
			}
			m := batch.FindStringSubmatch(page)
			if tc.sns == "" && m != nil {
				t.Errorf("output section without a pick")
			}
			if tc.sns != "" && (m == nil || m[1] != tc.batch) {
				t.Errorf("batch %v, want %q", m, tc.batch)
			}
			if tc.sns != "" && !strings.Contains(page, `<option value="dock">`) {
				t.Error("no printer to send to")
			}
			if !strings.Contains(page, `src="/console/labels.js"`) {
				t.Error("page lacks its script")
			}
		})
	}
}

// TestConsolePrintersPage checks the printers page: admins get the add
// form and remove buttons, warehouse staff the list; both see the jobs
// with reprints marked.
func TestConsolePrintersPage(t *testing.T) {
	e := newEnv(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	e.addPrinter("dock", ln.Addr().String())
	for range 2 {
		if resp, body := e.do(t, "warehouse", jsonReq("POST", "/api/v1/printers/dock/jobs", PrintJobRequest{SNs: []string{"PAX0001"}})); resp.StatusCode != 201 {
			t.Fatalf("print: %d %s", resp.StatusCode, body)
		}
	}
	for _, tc := range []struct {
		role  string
		admin bool
	}{{"admin", true}, {"warehouse", false}} {
		status, page := e.page(t, tc.role, "/console/admin/printers?lang=en")
		if status != 200 {
			t.Fatalf("%s: status %d", tc.role, status)
		}
		if got := strings.Contains(page, `data-action="/api/v1/printers"`); got != tc.admin {
			t.Errorf("%s: add form %v", tc.role, got)
		}
		if got := strings.Contains(page, `data-delete="/api/v1/printers/dock"`); got != tc.admin {
			t.Errorf("%s: remove button %v", tc.role, got)
		}
		if n := strings.Count(page, `<tr class="reprint">`); n != 1 {
			t.Errorf("%s: %d reprint rows, want 1", tc.role, n)
		}
		if strings.Count(page, "Reprints: 1") != 1 {
			t.Errorf("%s: reprint count not shown", tc.role)
		}
	}
}

// TestConsoleImportsPage checks that the imports page offers every posid
// column for the mapping step and loads its script.
func TestConsoleImportsPage(t *testing.T) {
	e := newEnv(t, Config{})
	status, page := e.page(t, "warehouse", "/console/imports")
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{`data-columns="sn model manufacturer supplier_code batch`, `src="/console/imports.js"`, `id="imp-file"`, `accept=".csv,.xlsx`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// TestConsoleLabelsWithoutPrinting checks that the labels page works on a
// server without printers: it picks and offers downloads, and says there
// is no printer.
func TestConsoleLabelsWithoutPrinting(t *testing.T) {
	e := newEnv(t, Config{}, func(_ *sqlite.DB, deps *Deps) { deps.Printing = nil })
	status, page := e.page(t, "warehouse", "/console/labels?batch=B1&lang=en")
	if status != 200 || !strings.Contains(page, `id="l-pdf"`) || !strings.Contains(page, "No printer is configured.") {
		t.Fatalf("status %d:\n%.600s", status, page)
	}
}
