package main

import (
	"encoding/csv"
	"os"
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

// TestCLIImportPreviewXLSXMap: --dry-run lists every bad row (the file's
// and the database's) and writes nothing; --map reads unknown headers; an
// XLSX workbook with Chinese headers imports.
func TestCLIImportPreviewXLSXMap(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "clerk", "HOSTNAME": "pos-01"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	existing := demo.Devices()[0].SN
	bad := filepath.Join(dir, "bad.csv")
	writeFile(t, bad, "sn,model,manufacturer,supplier_code\nNEW0001,A920,PAX,SUP1\n"+existing+",A920,PAX,SUP1\nNEW0002,,PAX,SUP1\n")
	code, out, _ := runCLI(t, env, "import", "--dry-run", bad)
	if code != 1 || !strings.Contains(out, "line 3") || !strings.Contains(out, "line 4") {
		t.Fatalf("dry run of a bad file: exit %d\n%s", code, out)
	}
	good := filepath.Join(dir, "good.csv")
	writeFile(t, good, "Serial,Type,manufacturer,supplier_code\nNEW0001,A920,PAX,SUP1\n")
	code, out, errOut := runCLI(t, env, "import", "--dry-run", "--map", "Serial:sn,Type:model", good)
	if code != 0 || !strings.Contains(out, "dry run: 1 row would import: 1 created") {
		t.Fatalf("dry run: exit %d: %s%s", code, out, errOut)
	}
	if code, _, _ := runCLI(t, env, "devices", "get", "NEW0001"); code != 1 {
		t.Fatal("a dry run wrote NEW0001")
	}
	if code, _, _ := runCLI(t, env, "import", "--map", "Serial:nonsense", good); code != 2 {
		t.Errorf("bad --map: exit %d, want 2", code)
	}
	f := excelize.NewFile()
	for i, r := range [][]any{{"序列号", "型号", "厂商", "供应商代码"}, {"XLS0001", "A920", "PAX", "SUP1"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	book := filepath.Join(dir, "new.xlsx")
	if err := f.SaveAs(book); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if code, out, errOut := runCLI(t, env, "import", book); code != 0 || !strings.Contains(out, "1 created") {
		t.Fatalf("xlsx import: exit %d: %s%s", code, out, errOut)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
