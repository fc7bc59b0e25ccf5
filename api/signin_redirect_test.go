package api

import (
	"net/url"
	"testing"
)

// TestSignInRedirect checks that an anonymous browser asking for a page is
// sent to the sign-in form with the page as next, and that programs,
// signed-in callers and other routes keep their answers.
func TestSignInRedirect(t *testing.T) {
	const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	tests := []struct {
		name, role, path, accept string
		status                   int
		next                     string // wanted ?next= of the Location, when 303
	}{
		{"console devices", "", "/console/devices?status=active&lang=en", html, 303, "/console/devices?status=active&lang=en"},
		{"console root", "", "/console", html, 303, "/console"},
		{"admin page", "", "/console/admin/keys", html, 303, "/console/admin/keys"},
		{"device page", "", "/console/devices/PAX0001", html, 303, "/console/devices/PAX0001"},
		{"my devices", "", "/my/devices", html, 303, "/my/devices"},
		{"review changes", "", "/review/changes?state=pending", html, 303, "/review/changes?state=pending"},
		{"double slash in the path", "", "//console/devices", html, 404, ""},
		{"json client", "", "/console/devices", "application/json", 401, ""},
		{"no accept", "", "/console/devices", "", 401, ""},
		{"json before html", "", "/console/devices", "application/json, text/html;q=0.5", 401, ""},
		{"api route", "", "/api/v1/devices", html, 401, ""},
		{"console script", "", "/console/console.js", html, 200, ""},
		{"signed in", "warehouse", "/console/devices", html, 200, ""},
		{"signed in, wrong role", "warehouse", "/console/admin/keys", html, 403, ""},
		{"merchant page as staff", "admin", "/my/devices", html, 403, ""},
	}
	e := newEnv(t, Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := req{method: "GET", path: tc.path, header: map[string]string{}}
			if tc.accept != "" {
				r.header["Accept"] = tc.accept
			}
			resp, body := e.do(t, tc.role, r)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d; body %.200s", resp.StatusCode, tc.status, body)
			}
			if tc.status != 303 {
				return
			}
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			if loc.Path != "/" || loc.Host != "" || loc.Scheme != "" {
				t.Fatalf("Location %q, want the scan page", resp.Header.Get("Location"))
			}
			if got := loc.Query().Get("next"); got != tc.next {
				t.Fatalf("next %q, want %q", got, tc.next)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
		})
	}
}

// TestSafeNext checks the same-origin rule for the page to go to after
// signing in: paths on this site only, never another host.
func TestSafeNext(t *testing.T) {
	tests := []struct {
		next string
		ok   bool
	}{
		{"/console/devices", true},
		{"/console/devices?status=active&lang=en", true},
		{"/", true},
		{"/review/changes#top", true},
		{"", false},
		{"console/devices", false},
		{"//evil.example/console", false},
		{"///evil.example", false},
		{"/\\evil.example", false},
		{"/console\\..\\x", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
		{"http:/evil.example", false},
		{" /console", false},
		{"/\t/evil.example", false},
		{"/console\r\nSet-Cookie: x=1", false},
		{"/\x00", false},
	}
	for _, tc := range tests {
		if got := safeNext(tc.next); got != tc.ok {
			t.Errorf("safeNext(%q) = %v, want %v", tc.next, got, tc.ok)
		}
		want := tc.next
		if !tc.ok {
			want = "/"
		}
		if got := signInNext(tc.next); got != want {
			t.Errorf("signInNext(%q) = %q, want %q", tc.next, got, want)
		}
	}
}
