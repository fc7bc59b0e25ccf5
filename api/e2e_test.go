package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"posid/internal/tooltest"
	"posid/labels"
)

// TestEndToEnd runs the real server on a loopback port: provision a device
// with a registration, print its label as PDF, rasterize it at printer
// resolution with pdftoppm, upload the PNG as a merchant photo, and get the
// registration back with a genuine seal.
func TestEndToEnd(t *testing.T) {
	pdftoppm := tooltest.Pdftoppm(t)
	e := newEnv(t, Config{})
	base := e.live(t)
	call := func(role, method, path, ct string, body []byte) (*http.Response, []byte) {
		t.Helper()
		hr, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		if ct != "" {
			hr.Header.Set("Content-Type", ct)
		}
		hr.Header.Set("Authorization", "Bearer "+e.tokens[role])
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, b
	}
	dev := map[string]any{"sn": "E2E-0001", "model": "A920", "manufacturer": "PAX", "supplier_code": "SUP1", "batch": "E2E",
		"registration": map[string]any{"merchant_no": "M001", "merchant_name": "老王餐馆二店", "terminal_id": "T777", "acquirer": "银联商务", "access": "4g", "account": "6222 0212 3456 7777"}}
	b, _ := json.Marshal(dev)
	if resp, body := call("admin", "POST", "/api/v1/devices", "application/json", b); resp.StatusCode != 201 {
		t.Fatalf("provision: %d %s", resp.StatusCode, body)
	}
	b, _ = json.Marshal(LabelRequest{SNs: []string{"E2E-0001"}, Format: "pdf", Size: "60x40"})
	resp, pdf := call("warehouse", "POST", "/api/v1/labels", "application/json", b)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("labels: %d %s", resp.StatusCode, pdf[:min(200, len(pdf))])
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "label.pdf"), pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftoppm, "-r", "203", "-png", "-singlefile", filepath.Join(dir, "label.pdf"), filepath.Join(dir, "label")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	png, err := os.ReadFile(filepath.Join(dir, "label.png"))
	if err != nil {
		t.Fatal(err)
	}
	resp, body := call("merchant", "POST", "/api/v1/scans", "image/png", png)
	if resp.StatusCode != 200 {
		t.Fatalf("scan: %d %s", resp.StatusCode, body)
	}
	var r ScanResult
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	if r.SN != "E2E-0001" || r.Chosen.How != "seal" || r.Seal == nil || r.Seal.Verdict != labels.Genuine || r.Seal.Matches == nil || !*r.Seal.Matches {
		t.Fatalf("scan result: %s", body)
	}
	reg := r.Device.Registration
	if reg == nil || reg.MerchantName != "老王餐馆二店" || reg.TerminalID != "T777" || reg.Account != "**** 7777" {
		t.Fatalf("registration: %s", body)
	}
	// The seal's QR text opens the verify page of this server too.
	var sealURL string
	for _, c := range r.Codes {
		if c.Text != "" && c.Format == "qr_code" {
			sealURL = c.Text
		}
	}
	hr, _ := http.NewRequest("GET", base+sealURL[len("https://verify.test"):], nil)
	vresp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(vresp.Body)
	vresp.Body.Close()
	if vresp.StatusCode != 200 || !bytes.Contains(page, []byte("正品")) || !bytes.Contains(page, []byte("E2E-0001")) {
		t.Fatalf("verify page %d: %s", vresp.StatusCode, page)
	}
}
