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
