package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"posid/internal/changes"
	"posid/internal/registry"
	"posid/scan/scantest"
)

// multipartReq builds a multipart POST of fields and an optional photo.
func multipartReq(t *testing.T, path string, fields map[string]string, photo []byte) req {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if photo != nil {
		fw, err := w.CreateFormFile("photo", "doc.png")
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(photo)
	}
	w.Close()
	return req{method: "POST", path: path, contentType: w.FormDataContentType(), body: buf.Bytes()}
}

// fullAccounts are the fixtures' settlement accounts and the new one the
// tests ask for; no answer to a merchant or reviewer may hold them.
var fullAccounts = []string{"6222021234561234", "6222029999999999", "6222020000005678"}

func noFullAccount(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, a := range fullAccounts {
		if bytes.Contains(body, []byte(a)) {
			t.Errorf("%s shows the full account %s: %.300s", what, a, body)
		}
	}
}

// TestChangeRequestsOverHTTP: a merchant files an account change as
// multipart with a photo; every answer to the merchant and the reviewer
// shows the accounts masked; the reviewer approves, the registration
// changes with one history row; limits and conflicts answer 409.
func TestChangeRequestsOverHTTP(t *testing.T) {
	e := newEnv(t, Config{})
	photo := pngOf(t, image.NewGray(image.Rect(0, 0, 64, 48)))
	resp, body := e.do(t, "merchant", multipartReq(t, "/api/v1/devices/pax0001/change-requests",
		map[string]string{"field": "account", "value": "6222 0200 0000 5678", "reason": "银行账户变更"}, photo))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("file: %d %s", resp.StatusCode, body)
	}
	noFullAccount(t, "filing answer", body)
	var r changes.Request
	json.Unmarshal(body, &r)
	if r.Old.Value != "**** 1234" || r.New.Value != "**** 5678" || r.PhotoType != "image/jpeg" || r.State != changes.StatePending {
		t.Fatalf("filed %+v", r)
	}
	path := fmt.Sprintf("/api/v1/change-requests/%d", r.ID)
	for _, role := range []string{"merchant", "reviewer"} {
		for _, p := range []string{"/api/v1/change-requests", path, "/api/v1/devices/PAX0001", "/api/v1/devices/PAX0001/history", "/my/devices", "/my/devices/PAX0001", "/my/requests", "/review/changes"} {
			resp, body := e.do(t, role, req{method: "GET", path: p})
			if resp.StatusCode == http.StatusOK {
				noFullAccount(t, role+" GET "+p, body)
			}
		}
	}
	resp, body = e.do(t, "reviewer", req{method: "GET", path: path + "?reveal=account"})
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("6222020000005678")) {
		t.Fatalf("reviewer reveal of a pending request: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "reviewer", req{method: "GET", path: path + "/photo"})
	if _, err := jpeg.DecodeConfig(bytes.NewReader(body)); resp.StatusCode != http.StatusOK || err != nil || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("photo: %d %v", resp.StatusCode, err)
	}

	// Two more pending requests fill the device's three; a fourth is 409.
	for i := range 2 {
		resp, body := e.do(t, "merchant", jsonReq("POST", "/api/v1/devices/PAX0001/change-requests", map[string]string{"field": "terminal_id", "value": fmt.Sprintf("T90%d", i), "reason": "r"}))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("file %d: %d %s", i, resp.StatusCode, body)
		}
	}
	resp, body = e.do(t, "merchant", jsonReq("POST", "/api/v1/devices/PAX0001/change-requests", map[string]string{"field": "terminal_id", "value": "T999", "reason": "r"}))
	if p := problem(t, resp, body); resp.StatusCode != http.StatusConflict || !strings.HasSuffix(p.Type, "/too-many-pending") {
		t.Fatalf("fourth pending request: %d %s", resp.StatusCode, body)
	}
	var pending changeList
	_, body = e.do(t, "reviewer", req{method: "GET", path: "/api/v1/change-requests?state=pending&sn=PAX0001"})
	json.Unmarshal(body, &pending)
	if len(pending.Requests) != 3 {
		t.Fatalf("pending requests: %s", body)
	}
	// Approving the first terminal change makes the second stale.
	t1, t2 := pending.Requests[1].ID, pending.Requests[0].ID
	if resp, body := e.do(t, "reviewer", jsonReq("POST", fmt.Sprintf("/api/v1/change-requests/%d/approve", t1), map[string]string{"note": "ok"})); resp.StatusCode != http.StatusOK {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "reviewer", req{method: "POST", path: fmt.Sprintf("/api/v1/change-requests/%d/approve", t2)})
	if p := problem(t, resp, body); resp.StatusCode != http.StatusConflict || !strings.HasSuffix(p.Type, "/stale-change-request") {
		t.Fatalf("stale approval: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "reviewer", jsonReq("POST", fmt.Sprintf("/api/v1/change-requests/%d/reject", t2), map[string]string{"note": ""}))
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reject without a note: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "merchant", req{method: "POST", path: fmt.Sprintf("/api/v1/change-requests/%d/withdraw", t2)}); resp.StatusCode != http.StatusOK {
		t.Fatalf("withdraw: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "merchant", req{method: "POST", path: fmt.Sprintf("/api/v1/change-requests/%d/withdraw", t2)}); resp.StatusCode != http.StatusConflict {
		t.Fatalf("withdraw twice: %d %s", resp.StatusCode, body)
	}

	// The account change is approved by the reviewer: the registration
	// holds the new account, the history one masked row.
	if resp, body := e.do(t, "reviewer", req{method: "POST", path: path + "/approve"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("approve account: %d %s", resp.StatusCode, body)
	}
	_, body = e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0001?reveal=account"})
	var d DeviceView
	json.Unmarshal(body, &d)
	if d.Registration == nil || d.Registration.Account != "6222020000005678" || d.Registration.TerminalID != "T900" {
		t.Fatalf("registration after approvals: %s", body)
	}
	_, body = e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0001/history"})
	var hist struct{ Changes []registry.Change }
	json.Unmarshal(body, &hist)
	n := 0
	for _, h := range hist.Changes {
		if h.Field == "registration.account" {
			n++
			if h.Old != "**** 1234" || h.New != "**** 5678" || !strings.Contains(h.Actor, fmt.Sprintf("change-request:%d", r.ID)) {
				t.Errorf("account history row %+v", h)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d account history rows: %s", n, body)
	}
}

// TestChangeRequestBadInput: bad bodies and photos answer problems, never
// 500: a decode bomb and an oversized photo 413, a non-image 422, junk
// base64 400, a bad state filter 422.
func TestChangeRequestBadInput(t *testing.T) {
	e := newEnv(t, Config{})
	file := "/api/v1/devices/PAX0001/change-requests"
	big := make([]byte, maxChangePhotoBytes+1)
	for _, tc := range []struct {
		name   string
		r      req
		status int
	}{
		{"bomb", multipartReq(t, file, map[string]string{"field": "terminal_id", "value": "T9", "reason": "r"}, scantest.PNG(5000, 5000, scantest.Gray, 8)), 413},
		{"oversize multipart", multipartReq(t, file, map[string]string{"field": "terminal_id", "value": "T9", "reason": "r"}, big), 413},
		{"oversize base64", jsonReq("POST", file, map[string]string{"field": "terminal_id", "value": "T9", "reason": "r", "photo": base64.StdEncoding.EncodeToString(big)}), 413},
		{"not an image", multipartReq(t, file, map[string]string{"field": "terminal_id", "value": "T9", "reason": "r"}, []byte("hello")), 422},
		{"junk base64", jsonReq("POST", file, map[string]string{"field": "terminal_id", "value": "T9", "reason": "r", "photo": "!!"}), 400},
		{"unknown field", jsonReq("POST", file, map[string]string{"field": "colour", "value": "red", "reason": "r"}), 422},
		{"no reason", jsonReq("POST", file, map[string]string{"field": "terminal_id", "value": "T9"}), 422},
		{"bad access", jsonReq("POST", file, map[string]string{"field": "access", "value": "pigeon", "reason": "r"}), 422},
		{"bad sn", jsonReq("POST", "/api/v1/devices/a%20b/change-requests", map[string]string{"field": "terminal_id", "value": "T9", "reason": "r"}), 422},
		{"missing device", jsonReq("POST", "/api/v1/devices/NOPE0001/change-requests", map[string]string{"field": "terminal_id", "value": "T9", "reason": "r"}), 404},
		{"bad state", req{method: "GET", path: "/api/v1/change-requests?state=lost"}, 422},
		{"bad id", req{method: "GET", path: "/api/v1/change-requests/abc"}, 400},
		{"missing id", req{method: "GET", path: "/api/v1/change-requests/999"}, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "merchant", tc.r)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			problem(t, resp, body)
		})
	}
	if p, _ := problemFor(fmt.Errorf("x: %w", changes.ErrQuota)); p.Status != http.StatusTooManyRequests {
		t.Errorf("quota maps to %d", p.Status)
	}
}

// TestChangePagesRender: the merchant and reviewer pages render what
// their caller may see, bilingual, for a phone, with the pages' CSP and
// the CSRF meta tag only when the request has a token.
func TestChangePagesRender(t *testing.T) {
	e := newEnv(t, Config{})
	id := e.changeID("merchant")
	for _, tc := range []struct {
		role, path string
		want       []string
	}{
		{"merchant", "/my/devices", []string{"我的设备", "My devices", "PAX0001", "老王餐馆", "**** 1234", `href="/my/devices/PAX0001"`}},
		{"merchant", "/my/devices/PAX0001", []string{"申请变更", "Request a change", `data-api="/api/v1/devices/PAX0001/change-requests"`, "新店名 M001", "待审核", "History"}},
		{"merchant", "/my/requests", []string{"我的变更申请", fmt.Sprintf("/api/v1/change-requests/%d/withdraw", id), "renamed"}},
		{"reviewer", "/review/changes", []string{"变更审核", "Change review", fmt.Sprintf("/api/v1/change-requests/%d/approve", id), "批准", "Reject", "data-photo"}},
	} {
		resp, body := e.do(t, tc.role, req{method: "GET", path: tc.path})
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", tc.path, resp.StatusCode, body)
		}
		page := string(body)
		for _, w := range append(tc.want, `name="viewport"`, `<script src="/changes.js">`) {
			if !strings.Contains(page, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
		if strings.Contains(page, "csrf-token") {
			t.Errorf("%s has a CSRF tag without a session", tc.path)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s CSP %q", tc.path, csp)
		}
	}
	// A reason with markup is shown as text.
	resp, body := e.do(t, "merchant", jsonReq("POST", "/api/v1/devices/PAX0001/change-requests", map[string]string{"field": "terminal_id", "value": "T7", "reason": "<script>alert(1)</script>"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("file: %d %s", resp.StatusCode, body)
	}
	_, body = e.do(t, "reviewer", req{method: "GET", path: "/review/changes"})
	if bytes.Contains(body, []byte("<script>alert")) || !bytes.Contains(body, []byte("&lt;script&gt;alert(1)&lt;/script&gt;")) {
		t.Errorf("reason not escaped on the review page")
	}
}
