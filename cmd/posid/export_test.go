package main

import (
	"encoding/csv"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"posid/internal/demo"
)

// TestCLIDevicesExport exports the demo fleet as CSV to stdout and as
// XLSX to a file, and reads both back.
func TestCLIDevicesExport(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "clerk", "HOSTNAME": "pos-01"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	code, out, errOut := runCLI(t, env, "devices", "export", "--format", "csv")
	if code != 0 {
		t.Fatalf("export csv: %s", errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != len(demo.Devices())+1 || rows[0][0] != "sn" {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	if !strings.Contains(out, "**** ") {
		t.Error("no masked accounts in the admin export")
	}
	path := filepath.Join(dir, "devices.xlsx")
	code, _, errOut = runCLI(t, env, "devices", "export", "-o", path, "--batch", "B2026-09")
	if code != 0 || !strings.Contains(errOut, "12 devices (xlsx)") {
		t.Fatalf("export xlsx: exit %d: %s", code, errOut)
	}
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	xrows, err := f.GetRows("devices")
	if err != nil || len(xrows) != 13 {
		t.Fatalf("xlsx: %d rows, %v", len(xrows), err)
	}
	if code, _, _ := runCLI(t, env, "devices", "export", "--format", "pdf"); code != 2 {
		t.Errorf("--format pdf: exit %d, want 2", code)
	}
}
