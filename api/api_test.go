package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/labels"
	"posid/scan"
)

func TestVisibility(t *testing.T) {
	e := newEnv(t, Config{})
	tests := []struct {
		role, sn string
		vis      Visibility
		account  string // "" none, "masked", "full"
	}{
		{"admin", "PAX0001", SeeFull, "masked"},
		{"merchant", "PAX0001", SeeFull, "masked"},
		{"merchant", "PAX0002", SeePublic, ""},
		{"merchant2", "PAX0002", SeeFull, "masked"},
		{"supplier", "PAX0001", SeeNoAccount, ""},
		{"supplier", "PAX0002", SeePublic, ""},
		{"warehouse", "PAX0001", SeeDevice, ""},
	}
	for _, tc := range tests {
		t.Run(tc.role+"/"+tc.sn, func(t *testing.T) {
			resp, body := e.do(t, tc.role, req{method: "GET", path: "/api/v1/devices/" + tc.sn})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var v DeviceView
			if err := json.Unmarshal(body, &v); err != nil {
				t.Fatal(err)
			}
			if v.Visibility != tc.vis {
				t.Errorf("visibility %s, want %s", v.Visibility, tc.vis)
			}
			hasReg := v.Registration != nil
			if want := tc.vis == SeeFull || tc.vis == SeeNoAccount; hasReg != want {
				t.Fatalf("registration present = %v, want %v: %s", hasReg, want, body)
			}
			if tc.vis == SeePublic && (v.SupplierCode != "" || v.Batch != "") {
				t.Errorf("public view shows supplier/batch: %s", body)
			}
			if strings.Contains(string(body), "6222021234561234") || strings.Contains(string(body), "6222029999999999") {
				t.Errorf("full account leaked: %s", body)
			}
			switch acct := ""; {
			case hasReg:
				acct = v.Registration.Account
				if tc.account == "masked" && !strings.Contains(acct, "****") || tc.account == "" && acct != "" {
					t.Errorf("account %q, want %s", acct, tc.account)
				}
			}
		})
	}
	resp, body := e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0001?reveal=account"})
	if resp.StatusCode != 200 || !strings.Contains(string(body), "6222021234561234") {
		t.Fatalf("admin reveal: %d %s", resp.StatusCode, body)
	}
	_, body = e.do(t, "admin", req{method: "GET", path: "/api/v1/audit?action=device.reveal_account"})
	var page AuditPage
	if err := json.Unmarshal(body, &page); err != nil || len(page.Entries) != 1 || page.Entries[0].Target != "PAX0001" || page.Entries[0].ClientIP == "" {
		t.Fatalf("reveal not audited: %s", body)
	}
	// Merchant and supplier listings are confined to their own devices.
	for role, want := range map[string]string{"merchant": "PAX0001", "merchant2": "PAX0002", "supplier": "PAX0001,PAX0003"} {
		_, body := e.do(t, role, req{method: "GET", path: "/api/v1/devices"})
		var p DevicePage
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range p.Devices {
			got = append(got, d.SN)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("%s lists %v, want %s", role, got, want)
		}
	}
}

func TestHistoryFiltered(t *testing.T) {
	e := newEnv(t, Config{})
	for role, wantReg := range map[string]bool{"admin": true, "merchant": true, "supplier": true, "warehouse": false} {
		_, body := e.do(t, role, req{method: "GET", path: "/api/v1/devices/PAX0001/history"})
		var h History
		if err := json.Unmarshal(body, &h); err != nil {
			t.Fatal(err)
		}
		sawReg, sawAcct := false, false
		for _, c := range h.Changes {
			sawReg = sawReg || strings.HasPrefix(c.Field, "registration")
			sawAcct = sawAcct || c.Field == "registration.account"
		}
		if sawReg != wantReg {
			t.Errorf("%s: registration rows = %v, want %v", role, sawReg, wantReg)
		}
		if role == "supplier" && sawAcct {
			t.Errorf("supplier sees account history")
		}
	}
}

func TestProblems(t *testing.T) {
	e := newEnv(t, Config{BodyLimit: 64 << 10})
	e.srv.App().Get("/test/panic", func(*fiber.Ctx) error { panic("boom") })
	tests := []struct {
		name   string
		role   string
		req    req
		status int
		typ    string
	}{
		{"unknown route", "", req{method: "GET", path: "/nope"}, 404, "not-found"},
		{"unknown api route", "admin", req{method: "GET", path: "/api/v1/nope"}, 404, "not-found"},
		{"method not allowed", "", req{method: "DELETE", path: "/healthz"}, 405, "method-not-allowed"},
		{"no key", "", req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"bad key", "posid_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"garbage key", "hello", req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"revoked key", "revoked", req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"bad sn", "admin", req{method: "GET", path: "/api/v1/devices/a%20b"}, 422, "invalid"},
		{"missing", "admin", req{method: "GET", path: "/api/v1/devices/ZZZZ9999"}, 404, "not-found"},
		{"bad json", "admin", req{method: "POST", path: "/api/v1/devices", contentType: "application/json", body: []byte(`{"sn":`)}, 400, "bad-request"},
		{"unknown field", "admin", jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001", "colour": "red"}), 400, "bad-request"},
		{"json as text", "admin", req{method: "POST", path: "/api/v1/devices", contentType: "text/plain", body: []byte(`{}`)}, 415, "unsupported-media-type"},
		{"invalid device", "admin", jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001"}), 422, "invalid"},
		{"bad date", "admin", jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001", "model": "m", "manufacturer": "m", "supplier_code": "S", "produced_on": "yesterday"}), 422, "invalid"},
		{"exists", "admin", jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "PAX0001", "model": "m", "manufacturer": "m", "supplier_code": "S"}), 409, "exists"},
		{"unknown status", "admin", jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "flying"}), 422, "invalid"},
		{"bad transition", "admin", jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "retired"}), 409, "status-transition"},
		{"empty patch", "admin", jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{}), 422, "invalid"},
		{"bad limit", "admin", req{method: "GET", path: "/api/v1/devices?limit=-1"}, 400, "bad-request"},
		{"bad cursor", "admin", req{method: "GET", path: "/api/v1/devices?cursor=%%%"}, 422, "invalid"},
		{"bad reveal", "admin", req{method: "GET", path: "/api/v1/devices/PAX0001?reveal=all"}, 400, "bad-request"},
		{"bad import mode", "admin", req{method: "POST", path: "/api/v1/imports?mode=merge", contentType: "text/csv", body: []byte("sn\n")}, 400, "bad-request"},
		{"import as json", "admin", req{method: "POST", path: "/api/v1/imports", contentType: "application/json", body: []byte("{}")}, 415, "unsupported-media-type"},
		{"label format", "admin", jsonReq("POST", "/api/v1/labels", LabelRequest{SNs: []string{"PAX0001"}, Format: "gif"}), 422, "invalid"},
		{"label size", "admin", jsonReq("POST", "/api/v1/labels", LabelRequest{SNs: []string{"PAX0001"}, Size: "1x1"}), 422, "invalid"},
		{"label missing", "admin", jsonReq("POST", "/api/v1/labels", LabelRequest{SNs: []string{"NOPE0000"}}), 404, "not-found"},
		{"label nothing", "admin", jsonReq("POST", "/api/v1/labels", LabelRequest{}), 422, "invalid"},
		{"scan nothing", "admin", jsonReq("POST", "/api/v1/scans", ManualEntry{}), 400, "bad-request"},
		{"verify nothing", "", jsonReq("POST", "/api/v1/verify", ManualEntry{}), 400, "bad-request"},
		{"audit bad limit", "admin", req{method: "GET", path: "/api/v1/audit?limit=0"}, 400, "bad-request"},
		{"panic", "", req{method: "GET", path: "/test/panic"}, 500, "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, tc.role, tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			p := problem(t, resp, body)
			if p.Type != ProblemBase+tc.typ {
				t.Errorf("type %s, want %s", p.Type, ProblemBase+tc.typ)
			}
			if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if strings.Contains(string(body), "goroutine") || strings.Contains(string(body), "boom") {
				t.Errorf("internal detail leaked: %s", body)
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, Config{})
	hr, _ := http.NewRequest("GET", "/nope", nil)
	hr.Header.Set("X-Request-ID", "abc-123")
	resp, err := e.srv.App().Test(hr)
	if err != nil {
		t.Fatal(err)
	}
	var p Problem
	json.NewDecoder(resp.Body).Decode(&p)
	if resp.Header.Get("X-Request-ID") != "abc-123" || p.Instance != "abc-123" {
		t.Fatalf("request id %q, instance %q", resp.Header.Get("X-Request-ID"), p.Instance)
	}
}

func TestImportRejectsEveryBadRow(t *testing.T) {
	e := newEnv(t, Config{})
	csv := "sn,model,manufacturer,supplier_code,status\n" +
		"NEW0001,A920,PAX,SUP1,\n" +
		"X,A920,PAX,SUP1,\n" +
		"NEW0003,,PAX,SUP1,\n" +
		"NEW0004,A920,PAX,SUP1,flying\n"
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fw, _ := w.CreateFormFile("file", "devices.csv")
	fw.Write([]byte(csv))
	w.Close()
	resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/imports", contentType: w.FormDataContentType(), body: mp.Bytes()})
	if resp.StatusCode != 422 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	p := problem(t, resp, body)
	if p.Type != ProblemBase+"invalid-import" || len(p.Errors) != 3 || p.Errors[0].Line != 3 || p.Errors[2].Line != 5 || p.Errors[2].SN != "NEW0004" {
		t.Fatalf("problem %+v", p)
	}
	// Nothing was written.
	if resp, _ := e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/NEW0001"}); resp.StatusCode != 404 {
		t.Fatalf("partial import: NEW0001 status %d", resp.StatusCode)
	}
	// Upsert changes existing devices.
	up := "sn,model,manufacturer,supplier_code\nPAX0003,A920 Pro,PAX,SUP1\nNEW0009,A920,PAX,SUP1\n"
	resp, body = e.do(t, "warehouse", req{method: "POST", path: "/api/v1/imports?mode=upsert", contentType: "text/csv", body: []byte(up)})
	if resp.StatusCode != 201 || !strings.Contains(string(body), `"updated":1`) {
		t.Fatalf("upsert: %d %s", resp.StatusCode, body)
	}
}

// pngOf encodes img as PNG.
func pngOf(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// qrPNG renders text as a QR code PNG (scale pixels per module, 4-module quiet zone).
func qrPNG(t testing.TB, text string, scale int) []byte {
	q, err := labels.EncodeQR(text)
	if err != nil {
		t.Fatal(err)
	}
	n := (q.Size + 8) * scale
	img := image.NewGray(image.Rect(0, 0, n, n))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for y := 0; y < q.Size; y++ {
		for x := 0; x < q.Size; x++ {
			if q.Dark(x, y) {
				for dy := 0; dy < scale; dy++ {
					for dx := 0; dx < scale; dx++ {
						img.SetGray((x+4)*scale+dx, (y+4)*scale+dy, color.Gray{})
					}
				}
			}
		}
	}
	return pngOf(t, img)
}

func multipartImage(t testing.TB, field, name string, data []byte) req {
	var mp bytes.Buffer
	w := multipart.NewWriter(&mp)
	fw, _ := w.CreateFormFile(field, name)
	fw.Write(data)
	w.Close()
	return req{method: "POST", path: "/api/v1/scans", contentType: w.FormDataContentType(), body: mp.Bytes()}
}

func TestScanUploads(t *testing.T) {
	e := newEnv(t, Config{BodyLimit: 4 << 20})
	seal := e.sealFor(t, "PAX0001")
	sealPNG := qrPNG(t, seal, 4)
	corpus := filepath.Join(corpusDir(t), "qrcode-1", "1.png")
	photo, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	var jpg bytes.Buffer
	img, _ := png.Decode(bytes.NewReader(sealPNG))
	jpeg.Encode(&jpg, img, &jpeg.Options{Quality: 90})

	t.Run("seal multipart", func(t *testing.T) {
		resp, body := e.do(t, "merchant", multipartImage(t, "image", "label.png", sealPNG))
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var r ScanResult
		json.Unmarshal(body, &r)
		if r.SN != "PAX0001" || r.Chosen.How != "seal" || r.Seal == nil || r.Seal.Verdict != labels.Genuine ||
			r.Device == nil || r.Device.Registration == nil || r.Device.Registration.MerchantName != "老王餐馆" {
			t.Fatalf("result %s", body)
		}
	})
	t.Run("seal raw jpeg as other merchant", func(t *testing.T) {
		resp, body := e.do(t, "merchant2", req{method: "POST", path: "/api/v1/scans", contentType: "image/jpeg", body: jpg.Bytes()})
		var r ScanResult
		json.Unmarshal(body, &r)
		if resp.StatusCode != 200 || r.SN != "PAX0001" || r.Device == nil || r.Device.Registration != nil || r.Device.Visibility != SeePublic {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("corpus photo", func(t *testing.T) {
		resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/scans", contentType: "image/png", body: photo})
		var r ScanResult
		json.Unmarshal(body, &r)
		if resp.StatusCode != 200 || len(r.Codes) == 0 || !strings.Contains(r.Codes[0].Text, "wikipedia") || r.Registered {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("trace only when asked", func(t *testing.T) {
		for _, tc := range []struct {
			path  string
			trace bool
		}{{"/api/v1/scans", false}, {"/api/v1/scans?trace=1", true}} {
			resp, body := e.do(t, "admin", req{method: "POST", path: tc.path, contentType: "image/png", body: photo})
			var r ScanResult
			json.Unmarshal(body, &r)
			if resp.StatusCode != 200 || (r.Trace != nil) != tc.trace {
				t.Fatalf("%s: status %d: %s", tc.path, resp.StatusCode, body)
			}
			if tc.trace && (len(r.Trace.Stages) == 0 || r.Trace.Stages[0].Name != "fast" || r.Trace.Stop != scan.StopFound) {
				t.Errorf("%s: trace %+v", tc.path, r.Trace)
			}
		}
	})
	t.Run("forged seal", func(t *testing.T) {
		forged := flipDigit(seal)
		resp, body := e.do(t, "admin", jsonReq("POST", "/api/v1/scans", ManualEntry{QR: forged}))
		var r ScanResult
		json.Unmarshal(body, &r)
		if resp.StatusCode != 200 || r.Seal == nil || r.Seal.Verdict == labels.Genuine {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
	})
	bad := []struct {
		name   string
		req    req
		status int
		typ    string
	}{
		{"truncated jpeg", req{method: "POST", path: "/api/v1/scans", contentType: "image/jpeg", body: jpg.Bytes()[:jpg.Len()/3]}, 422, "corrupt-image"},
		{"html as jpeg", req{method: "POST", path: "/api/v1/scans", contentType: "image/jpeg", body: []byte("<html><body>hello</body></html>")}, 415, "unsupported-media-type"},
		{"zero bytes", req{method: "POST", path: "/api/v1/scans", contentType: "image/png"}, 415, "unsupported-media-type"},
		{"text content type", req{method: "POST", path: "/api/v1/scans", contentType: "text/plain", body: sealPNG}, 415, "unsupported-media-type"},
		{"no content type", req{method: "POST", path: "/api/v1/scans", body: sealPNG}, 415, "unsupported-media-type"},
		{"multipart without image", multipartImage(t, "photo", "x.png", sealPNG), 400, "bad-request"},
		{"blank image", req{method: "POST", path: "/api/v1/scans", contentType: "image/png", body: pngOf(t, image.NewGray(image.Rect(0, 0, 200, 200)))}, 422, "no-barcode"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "admin", tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
			if p := problem(t, resp, body); p.Type != ProblemBase+tc.typ {
				t.Errorf("type %s, want %s", p.Type, tc.typ)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	e := newEnv(t, Config{})
	seal := e.sealFor(t, "PAX0001")
	payload := seal[strings.Index(seal, "/v/")+3:]
	tests := []struct {
		name, text string
		want       labels.Verdict
	}{
		{"genuine", seal, labels.Genuine},
		{"forged", flipDigit(seal), labels.Forged},
		{"malformed", "https://example.com/hello", labels.Malformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "", jsonReq("POST", "/api/v1/verify", ManualEntry{QR: tc.text}))
			var r VerifyResult
			json.Unmarshal(body, &r)
			if resp.StatusCode != 200 || r.Verdict != tc.want {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if tc.want == labels.Genuine && (!r.Registered || r.SN != "PAX0001" || r.Status != "provisioned") {
				t.Errorf("genuine result %s", body)
			}
		})
	}
	mp := multipartImage(t, "image", "l.png", qrPNG(t, seal, 4))
	mp.path = "/api/v1/verify"
	for name, r := range map[string]req{
		"multipart": mp,
		"raw":       {method: "POST", path: "/api/v1/verify", contentType: "image/png", body: qrPNG(t, seal, 4)},
	} {
		resp, body := e.do(t, "", r)
		var v VerifyResult
		json.Unmarshal(body, &v)
		if resp.StatusCode != 200 || v.Verdict != labels.Genuine || v.SN != "PAX0001" {
			t.Errorf("verify photo (%s): %d %s", name, resp.StatusCode, body)
		}
	}
	resp, body := e.do(t, "", req{method: "POST", path: "/api/v1/verify", contentType: "image/png", body: qrPNG(t, "hello", 4)})
	if !strings.Contains(string(body), `"verdict":"malformed"`) || resp.StatusCode != 200 {
		t.Errorf("photo without a seal: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ path, want string }{
		{"/v/" + payload, "正品"},
		{"/v/" + flipDigit(payload), "伪造"},
		{"/v/12345", "无法识别"},
	} {
		resp, body := e.do(t, "", req{method: "GET", path: tc.path})
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), tc.want) {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, body)
		}
		if tc.want == "正品" && !strings.Contains(string(body), "PAX0001") {
			t.Errorf("verify page lacks the SN")
		}
	}
	_, body = e.do(t, "", req{method: "GET", path: "/.well-known/posid-keys.json"})
	if _, err := labels.ParseKeySet(body); err != nil {
		t.Fatalf("key set %s: %v", body, err)
	}
}

func TestLabelsFormats(t *testing.T) {
	e := newEnv(t, Config{})
	for format, magic := range map[string]string{"pdf": "%PDF", "zpl": "^XA", "png": "\x89PNG"} {
		resp, body := e.do(t, "warehouse", jsonReq("POST", "/api/v1/labels", LabelRequest{Batch: "B1", Format: format}))
		if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte(magic)) || resp.Header.Get("X-Label-Count") != "2" {
			t.Errorf("%s: status %d, count %s, starts %q", format, resp.StatusCode, resp.Header.Get("X-Label-Count"), body[:min(len(body), 8)])
		}
	}
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	e := newEnv(t, Config{})
	resp, body := e.do(t, "", req{method: "GET", path: "/openapi.json"})
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("document %v: %.200s", err, body)
	}
	n := 0
	for _, r := range e.srv.App().GetRoutes(true) {
		if r.Method == fiber.MethodHead || r.Path == "/" && r.Method != fiber.MethodGet || strings.HasPrefix(r.Path, "/test/") {
			continue
		}
		if len(r.Handlers) == 0 {
			continue
		}
		ops, ok := doc.Paths[OpenAPIPath(r.Path)]
		if !ok || ops[strings.ToLower(r.Method)] == nil {
			t.Errorf("%s %s is registered but missing from /openapi.json", r.Method, r.Path)
		}
		n++
	}
	if n < len(e.srv.Routes()) {
		t.Errorf("checked %d routes, table has %d", n, len(e.srv.Routes()))
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, Config{RatePerKey: 1, Burst: 3})
	var last *http.Response
	for i := 0; i < 5; i++ {
		last, _ = e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0001"})
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after burst: status %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// Another key has its own bucket.
	if resp, _ := e.do(t, "warehouse", req{method: "GET", path: "/api/v1/devices/PAX0001"}); resp.StatusCode != 200 {
		t.Fatalf("other key: %d", resp.StatusCode)
	}
	ip := newEnv(t, Config{RatePerIP: 1, Burst: 2})
	for i := 0; i < 3; i++ {
		last, _ = ip.do(t, "", req{method: "GET", path: "/healthz"})
	}
	if last.StatusCode != 429 {
		t.Fatalf("per-IP: status %d", last.StatusCode)
	}
}

// TestRateLimitIPv6Network: an IPv6 client picks addresses in its /64 at
// will, so the per-address limit counts the /64 (regression: each new
// address got a full bucket); another /64 has its own, and IPv4
// addresses stay apart.
func TestRateLimitIPv6Network(t *testing.T) {
	e := newEnv(t, Config{RatePerIP: 0.01, Burst: 3, ProxyHeader: "X-Forwarded-For", TrustedProxies: []string{"0.0.0.0/0"}})
	get := func(ip string) int {
		resp, _ := e.do(t, "", req{method: "GET", path: "/healthz", header: map[string]string{"X-Forwarded-For": ip}})
		return resp.StatusCode
	}
	for i := range 3 {
		if st := get(fmt.Sprintf("2001:db8:5:6::%x", i+1)); st != 200 {
			t.Fatalf("request %d of the burst: %d", i+1, st)
		}
	}
	for _, ip := range []string{"2001:db8:5:6::99", "2001:db8:5:6:abcd:ef01:2345:6789"} {
		if st := get(ip); st != 429 {
			t.Errorf("%s, a fresh address of a /64 past its burst: %d, want 429", ip, st)
		}
	}
	for _, ip := range []string{"2001:db8:5:7::1", "203.0.113.9", "203.0.113.10"} {
		if st := get(ip); st != 200 {
			t.Errorf("%s, another client: %d, want 200", ip, st)
		}
	}
}

// blockingScanner holds every Scan until release is closed.
type blockingScanner struct{ started, release chan struct{} }

func (b blockingScanner) Scan(ctx context.Context, data []byte) (*scan.Result, error) {
	b.started <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, scan.ErrNoBarcode
}

func TestScanConcurrencyBound(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentScans: 1, MaxQueuedScans: 1, MaxScansPerClient: -1, QueueWait: 50 * time.Millisecond})
	bs := blockingScanner{started: make(chan struct{}, 4), release: make(chan struct{})}
	e.srv.deps.Scanner = bs
	photo := qrPNG(t, "hello", 2)
	done := make(chan int, 1)
	go func() {
		resp, _ := e.do(t, "admin", req{method: "POST", path: "/api/v1/scans", contentType: "image/png", body: photo})
		done <- resp.StatusCode
	}()
	<-bs.started
	resp, body := e.do(t, "warehouse", req{method: "POST", path: "/api/v1/scans", contentType: "image/png", body: photo})
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second scan: %d %s", resp.StatusCode, body)
	}
	if p := problem(t, resp, body); p.Type != ProblemBase+"busy" {
		t.Errorf("type %s", p.Type)
	}
	close(bs.release)
	if s := <-done; s != 422 {
		t.Errorf("first scan: %d", s)
	}
}

// TestScanShareOfClient checks that one client cannot take every decode
// slot: with two slots, client A's first scan decodes, its further scans
// (same address, same key, or either alone) are refused at once with 429,
// and client B at another address with another key still gets a slot.
func TestScanShareOfClient(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentScans: 2, MaxQueuedScans: 2, QueueWait: 50 * time.Millisecond,
		ProxyHeader: "X-Forwarded-For", TrustedProxies: []string{"0.0.0.0/0"}})
	bs := blockingScanner{started: make(chan struct{}, 8), release: make(chan struct{})}
	e.srv.deps.Scanner = bs
	released := false
	release := func() {
		if !released {
			released = true
			close(bs.release)
		}
	}
	defer release()
	photo := qrPNG(t, "hello", 2)
	type answer struct {
		resp *http.Response
		body []byte
	}
	scan := func(ip, role, path string) chan answer {
		out := make(chan answer, 1)
		go func() {
			resp, body := e.do(t, role, req{method: "POST", path: path, contentType: "image/png", body: photo,
				header: map[string]string{"X-Forwarded-For": ip}})
			out <- answer{resp, body}
		}()
		return out
	}
	const ipA, ipB, ipC = "203.0.113.1", "203.0.113.2", "203.0.113.3"
	a1 := scan(ipA, "admin", "/api/v1/scans")
	<-bs.started

	for _, tc := range []struct{ name, ip, role, path string }{
		{"same address and key", ipA, "admin", "/api/v1/scans"},
		{"same address, no key", ipA, "", "/api/v1/verify"},
		{"same key, other address", ipC, "admin", "/api/v1/scans"},
	} {
		select {
		case a := <-scan(tc.ip, tc.role, tc.path):
			if a.resp.StatusCode != 429 || a.resp.Header.Get("Retry-After") == "" {
				t.Errorf("%s: %d Retry-After %q: %s, want 429 with Retry-After", tc.name, a.resp.StatusCode, a.resp.Header.Get("Retry-After"), a.body)
			} else if p := problem(t, a.resp, a.body); p.Type != ProblemBase+"rate-limited" {
				t.Errorf("%s: type %s", tc.name, p.Type)
			}
		case <-bs.started:
			t.Errorf("%s: a second decode of client A started", tc.name)
		}
	}
	b := scan(ipB, "warehouse", "/api/v1/scans")
	select {
	case <-bs.started:
	case a := <-b:
		t.Fatalf("client B refused while A decodes: %d %s", a.resp.StatusCode, a.body)
	}
	if n := counterValue(t, e.srv.metrics, "posid_scan_client_limited_total"); n != 3 {
		t.Errorf("posid_scan_client_limited_total = %v, want 3", n)
	}
	release()
	for name, ch := range map[string]chan answer{"A": a1, "B": b} {
		if a := <-ch; a.resp.StatusCode != 422 {
			t.Errorf("client %s: %d %s", name, a.resp.StatusCode, a.body)
		}
	}
	// A's share is free again once its decode is done.
	if a := <-scan(ipA, "admin", "/api/v1/scans"); a.resp.StatusCode != 422 {
		t.Errorf("client A after its decode: %d %s", a.resp.StatusCode, a.body)
	}
}

// counterValue reads the counter named name from m's registry.
func counterValue(t *testing.T, m *metrics, name string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}

func TestAuditAppendOnly(t *testing.T) {
	e := newEnv(t, Config{})
	e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0001"})
	for _, q := range []string{`UPDATE audit SET actor = 'x'`, `DELETE FROM audit`} {
		if _, err := e.db.SQL().Exec(q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v", q, err)
		}
	}
	es, _, err := e.db.Audit().List(context.Background(), auditFilter("device.read"))
	if err != nil || len(es) != 1 || es[0].Target != "PAX0001" || !strings.HasPrefix(es[0].Actor, "apikey:") {
		t.Fatalf("entries %+v, %v", es, err)
	}
	// A warehouse read carries no registration data and is not logged as a read.
	e.do(t, "warehouse", req{method: "GET", path: "/api/v1/devices/PAX0003"})
	if es, _, _ := e.db.Audit().List(context.Background(), auditFilter("device.read")); len(es) != 1 {
		t.Errorf("warehouse read audited: %+v", es)
	}
}

// TestBodyLimit declares oversize bodies to a real listener (app.Test
// reports fasthttp's body limit as a transport error). The request goes
// out as headers only: the server answers 413 from Content-Length alone
// and closes, and a client still writing the body would see a reset
// instead of the answer.
func TestBodyLimit(t *testing.T) {
	e := newEnv(t, Config{BodyLimit: 64 << 10})
	addr := strings.TrimPrefix(e.live(t), "http://")
	for _, path := range []string{"/api/v1/scans", "/api/v1/imports", "/api/v1/devices"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: image/png\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
			path, addr, e.tokens["admin"], 65<<10)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("%s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != 413 {
			t.Fatalf("%s: status %d: %s", path, resp.StatusCode, body)
		}
		if p := problem(t, resp, body); p.Type != ProblemBase+"too-large" {
			t.Errorf("type %s", p.Type)
		}
	}
}
