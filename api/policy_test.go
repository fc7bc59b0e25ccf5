package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/labels"
)

// TestHistoryAfterMerchantMove moves PAX0001 from merchant M001 to a new
// merchant and reads its history as both: the new merchant never sees the
// old merchant's number, name, terminal or account, and the old merchant
// still reads the rows that were its own.
func TestHistoryAfterMerchantMove(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	_, tok, err := auth.Create(ctx, e.db.Keys(), auth.Key{Name: "new", Role: auth.RoleMerchant, MerchantNo: "898110153110001"})
	if err != nil {
		t.Fatal(err)
	}
	e.tokens["newcomer"] = tok
	resp, body := e.do(t, "admin", jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"registration": map[string]any{
		"merchant_no": "898110153110001", "merchant_name": "新商户", "terminal_id": "T900", "account": "6222020000005678"}}))
	if resp.StatusCode != 200 {
		t.Fatalf("move: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "newcomer", req{method: "GET", path: "/api/v1/devices/PAX0001/history"})
	if resp.StatusCode != 200 {
		t.Fatalf("new merchant: %d %s", resp.StatusCode, body)
	}
	for _, old := range []string{"M001", "老王餐馆", "T001", "**** 1234"} {
		if strings.Contains(string(body), old) {
			t.Errorf("new merchant sees the old merchant's %q: %s", old, body)
		}
	}
	if !strings.Contains(string(body), "新商户") {
		t.Errorf("new merchant misses its own registration: %s", body)
	}
	resp, body = e.do(t, "merchant", req{method: "GET", path: "/api/v1/devices/PAX0001/history"})
	if resp.StatusCode != 200 {
		t.Fatalf("old merchant: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "老王餐馆") || strings.Contains(string(body), "新商户") || strings.Contains(string(body), "898110153110001") {
		t.Errorf("old merchant's history: %s", body)
	}
}

// TestWriteRollsBackWithoutAudit breaks the audit log for updates and
// checks that the update is not stored: a change and its audit row commit
// together or not at all.
func TestWriteRollsBackWithoutAudit(t *testing.T) {
	e := newEnv(t, Config{})
	if _, err := e.db.SQL().Exec(`CREATE TRIGGER audit_down BEFORE INSERT ON audit WHEN NEW.action IN ('device.update', 'device.status', 'device.create', 'device.import')
		BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	for _, r := range []req{
		jsonReq("PATCH", "/api/v1/devices/PAX0003", map[string]any{"batch": "B9"}),
		jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "shipped"}),
		jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001", "model": "A920", "manufacturer": "PAX", "supplier_code": "SUP1"}),
		{method: "POST", path: "/api/v1/imports", contentType: "text/csv", body: []byte("sn,model,manufacturer,supplier_code\nNEW0002,A920,PAX,SUP1\n")},
	} {
		if resp, body := e.do(t, "admin", r); resp.StatusCode != 500 {
			t.Errorf("%s %s with the audit log down: %d %s", r.method, r.path, resp.StatusCode, body)
		}
	}
	_, body := e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/PAX0003"})
	var v DeviceView
	json.Unmarshal(body, &v)
	if v.Batch != "B2" || v.Status != "provisioned" {
		t.Errorf("unaudited change stored: %s", body)
	}
	for _, sn := range []string{"NEW0001", "NEW0002"} {
		if resp, _ := e.do(t, "admin", req{method: "GET", path: "/api/v1/devices/" + sn}); resp.StatusCode != 404 {
			t.Errorf("unaudited device %s stored: %d", sn, resp.StatusCode)
		}
	}
	if es, _, _ := e.db.Audit().List(context.Background(), audit.Filter{Action: audit.ActionUpdateDevice}); len(es) != 0 {
		t.Errorf("audit rows %+v", es)
	}
}

// TestLabelsOnlyForPrintableDevices checks that no key prints a fresh
// seal for a revoked device, nor for a serial number the registry does
// not hold.
func TestLabelsOnlyForPrintableDevices(t *testing.T) {
	e := newEnv(t, Config{})
	if resp, body := e.do(t, "admin", jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "revoked"})); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		req  LabelRequest
		want int
	}{
		{LabelRequest{SNs: []string{"PAX0003"}}, 409},
		{LabelRequest{Batch: "B2"}, 409},
		{LabelRequest{SNs: []string{"PAX0001", "PAX0003"}}, 409},
		{LabelRequest{SNs: []string{"NOPE0000"}}, 404},
		{LabelRequest{SNs: []string{"PAX0001"}, Format: "png"}, 200},
	} {
		for _, role := range []string{"warehouse", "admin"} {
			resp, body := e.do(t, role, jsonReq("POST", "/api/v1/labels", tc.req))
			if resp.StatusCode != tc.want {
				t.Errorf("%s %+v: %d, want %d: %.200s", role, tc.req, resp.StatusCode, tc.want, body)
			}
		}
	}
	es, _, _ := e.db.Audit().List(context.Background(), audit.Filter{Action: audit.ActionPrintLabels})
	if len(es) != 2 || es[0].Target != "PAX0001" {
		t.Errorf("label audit rows %+v, want the two printed runs", es)
	}
}

// TestVerdictOfWithdrawnDevice checks that a genuine seal of a revoked
// device is never answered as genuine, on the API or the verify page.
func TestVerdictOfWithdrawnDevice(t *testing.T) {
	e := newEnv(t, Config{})
	if resp, body := e.do(t, "admin", jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "revoked"})); resp.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	for sn, want := range map[string]string{"PAX0001": "genuine", "PAX0003": "withdrawn"} {
		seal := e.sealFor(t, sn)
		_, body := e.do(t, "", jsonReq("POST", "/api/v1/verify", ManualEntry{QR: seal}))
		var res struct{ Verdict string }
		if json.Unmarshal(body, &res); res.Verdict != want {
			t.Errorf("verify %s: %s, want %s", sn, body, want)
		}
		_, page := e.do(t, "", req{method: "GET", path: "/v/" + seal[strings.Index(seal, "/v/")+3:]})
		if green := strings.Contains(string(page), `class="card genuine"`); green != (want == "genuine") {
			t.Errorf("verify page of %s green=%v, want verdict %s", sn, green, want)
		}
	}
}

// TestVerdictOfMovedSeal scans a label whose QR seal is for one device and
// whose printed Code 128 is another's: verdict mismatch on scans and
// photo verification.
func TestVerdictOfMovedSeal(t *testing.T) {
	e := newEnv(t, Config{})
	png := labelPNG(t, labels.Label{SN: "PAX0002", Model: "A920", Supplier: "SUP1", SealURL: e.sealFor(t, "PAX0001")})
	_, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/scans", contentType: "image/png", body: png})
	var res ScanResult
	if err := json.Unmarshal(body, &res); err != nil || res.Seal == nil || res.Seal.Verdict != labels.Mismatch {
		t.Errorf("scan: %s", body)
	}
	_, body = e.do(t, "", req{method: "POST", path: "/api/v1/verify", contentType: "image/png", body: png})
	if !strings.Contains(string(body), `"verdict":"mismatch"`) {
		t.Errorf("verify photo: %s", body)
	}
	good := labelPNG(t, labels.Label{SN: "PAX0001", Model: "A920", Supplier: "SUP1", SealURL: e.sealFor(t, "PAX0001")})
	_, body = e.do(t, "", req{method: "POST", path: "/api/v1/verify", contentType: "image/png", body: good})
	if !strings.Contains(string(body), `"verdict":"genuine"`) {
		t.Errorf("verify a true label: %s", body)
	}
}
