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
