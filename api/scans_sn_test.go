package api

import (
	"encoding/json"
	"testing"
)

// TestScanChosenRule checks that the scan answer names the SN and the rule
// that chose it, here a vendor URL with the SN as a path segment.
func TestScanChosenRule(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tt := range []struct {
		qr, sn, how, rule string
	}{
		{"https://pos.example.cn/t/00037629424041438305?m=A920", "00037629424041438305", "url_segment", "url_segment"},
		{"https://vendor.example/check?sn=PAX0001", "PAX0001", "url", "url"},
		{"https://pos.example.cn/t/v?m=A920", "", "none", ""},
	} {
		resp, body := e.do(t, "admin", jsonReq("POST", "/api/v1/scans", map[string]string{"qr": tt.qr}))
		var r ScanResult
		if err := json.Unmarshal(body, &r); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: status %d: %s", tt.qr, resp.StatusCode, body)
		}
		if r.SN != tt.sn || r.Chosen.How != tt.how || r.Chosen.Rule != tt.rule {
			t.Errorf("%s: sn %q chosen %+v; want %q %q %q", tt.qr, r.SN, r.Chosen, tt.sn, tt.how, tt.rule)
		}
	}
}
