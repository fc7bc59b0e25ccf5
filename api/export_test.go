package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"posid/internal/audit"
	"posid/internal/export"
	"posid/internal/registry"
)

// readCSV parses an export, dropping its byte order mark.
func readCSV(t *testing.T, body []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	return rows
}

// column returns the cells of column name of rows (without the header).
func column(t *testing.T, rows [][]string, name string) []string {
	t.Helper()
	i := -1
	for j, h := range rows[0] {
		if h == name {
			i = j
		}
	}
	if i < 0 {
		t.Fatalf("no column %s in %q", name, rows[0])
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

// TestExportOverHTTP downloads the device list as CSV and XLSX as each
// role: the rows and masks of the JSON list, formula cells neutralised,
// and one audit row per export.
func TestExportOverHTTP(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	if _, err := e.db.Store().CreateDevice(ctx, "test", registry.Device{SN: "PAX0009", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B1",
		Registration: &registry.Registration{MerchantNo: "M001", MerchantName: `=HYPERLINK("http://evil","x")`, TerminalID: "T9", Acquirer: "@acq", Access: registry.Access4G, Account: "6222021234569999"}}); err != nil {
		t.Fatal(err)
	}
	csvAccept := req{method: "GET", path: "/api/v1/devices", header: map[string]string{"Accept": "text/csv"}}
	for _, tc := range []struct {
		role     string
		sns      string
		accounts string
	}{
		{"admin", "PAX0001,PAX0002,PAX0003,PAX0009", "**** 1234,**** 9999,,**** 9999"},
		{"warehouse", "PAX0001,PAX0002,PAX0003,PAX0009", ",,,"},
		{"merchant", "PAX0001,PAX0009", "**** 1234,**** 9999"},
		{"supplier", "PAX0001,PAX0003,PAX0009", ",,"},
	} {
		resp, body := e.do(t, tc.role, csvAccept)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(resp.Header.Get("Content-Disposition"), `attachment; filename="devices-`) {
			t.Fatalf("%s: %d %v %s", tc.role, resp.StatusCode, resp.Header, body)
		}
		rows := readCSV(t, body)
		if got := strings.Join(column(t, rows, "sn"), ","); got != tc.sns {
			t.Errorf("%s exports %s, want %s", tc.role, got, tc.sns)
		}
		if got := strings.Join(column(t, rows, "account"), ","); got != tc.accounts {
			t.Errorf("%s sees accounts %q, want %q", tc.role, got, tc.accounts)
		}
	}
	resp, body := e.do(t, "admin", get("/api/v1/devices?format=csv&supplier=SUP1")(e))
	rows := readCSV(t, body)
	if resp.StatusCode != 200 || len(rows) != 4 {
		t.Fatalf("supplier filter: %d rows", len(rows))
	}
	names, acquirers := column(t, rows, "merchant_name"), column(t, rows, "acquirer")
	if names[2] != `'=HYPERLINK("http://evil","x")` || acquirers[2] != "'@acq" {
		t.Errorf("formula cells not neutralised: %q %q", names[2], acquirers[2])
	}

	resp, body = e.do(t, "merchant", get("/api/v1/devices?format=xlsx")(e))
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != export.XLSXType {
		t.Fatalf("xlsx: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows("devices")
	if err != nil || len(xrows) != 3 || xrows[1][0] != "PAX0001" || xrows[2][0] != "PAX0009" || column(t, xrows, "merchant_name")[1] != `'=HYPERLINK("http://evil","x")` {
		t.Fatalf("xlsx rows %q %v", xrows, err)
	}
	xlsxAccept := req{method: "GET", path: "/api/v1/devices", header: map[string]string{"Accept": export.XLSXType}}
	if resp, _ := e.do(t, "admin", xlsxAccept); resp.Header.Get("Content-Type") != export.XLSXType {
		t.Errorf("Accept xlsx: %s", resp.Header.Get("Content-Type"))
	}
	if resp, body := e.do(t, "admin", get("/api/v1/devices")(e)); !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !bytes.Contains(body, []byte(`"devices"`)) {
		t.Errorf("plain listing: %s %s", resp.Header.Get("Content-Type"), body)
	}
	for path, status := range map[string]int{
		"/api/v1/devices?format=pdf":                 400,
		"/api/v1/devices?format=csv&reveal=account":  403,
		"/api/v1/devices?format=csv&merchant=M002":   403,
		"/api/v1/devices?format=csv&status=nonsense": 422,
		"/api/v1/devices?format=json&status=active":  200,
	} {
		if resp, body := e.do(t, "merchant", get(path)(e)); resp.StatusCode != status {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, status, body)
		}
	}
	es, _, err := e.db.Audit().List(ctx, audit.Filter{Action: audit.ActionExportDevices})
	if err != nil || len(es) != 7 {
		t.Errorf("%d export audit rows, want 7: %v", len(es), err)
	}
}
