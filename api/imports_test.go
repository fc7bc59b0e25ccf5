package api

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"posid/internal/export"
	"posid/internal/registry"
)

// workbook builds an XLSX file with rows on its first sheet.
func workbook(t *testing.T, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &vals); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportPreviewXLSXAndMap: a dry run lists every bad row and writes
// nothing; an XLSX workbook imports like CSV; a column map reads headers
// posid does not know.
func TestImportPreviewXLSXAndMap(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	bad := "sn,model,manufacturer,supplier_code,status\nNEW0001,A920,PAX,SUP1,\nPAX0001,A920,PAX,SUP1,\nNEW0002,,PAX,SUP1,\nNEW0003,A920,PAX,SUP1,active\n"
	resp, body := e.do(t, "warehouse", req{method: "POST", path: "/api/v1/imports?dry_run=1", contentType: "text/csv", body: []byte(bad)})
	p := problem(t, resp, body)
	if resp.StatusCode != 422 || len(p.Errors) != 3 {
		t.Fatalf("dry run of a bad file: %d %s", resp.StatusCode, body)
	}
	for i, want := range []struct {
		line int
		has  string
	}{{3, "exists"}, {4, "model"}, {5, "active"}} {
		if p.Errors[i].Line != want.line || !strings.Contains(p.Errors[i].Reason, want.has) {
			t.Errorf("row %d: %+v, want line %d with %q", i, p.Errors[i], want.line, want.has)
		}
	}
	good := "sn,model,manufacturer,supplier_code\nNEW0001,A920,PAX,SUP1\nNEW0002,A920,PAX,SUP1\n"
	resp, body = e.do(t, "warehouse", req{method: "POST", path: "/api/v1/imports?dry_run=1", contentType: "text/csv", body: []byte(good)})
	var pv ImportPreview
	if err := json.Unmarshal(body, &pv); err != nil || resp.StatusCode != 200 || !pv.DryRun || pv.Created != 2 {
		t.Fatalf("dry run: %d %s", resp.StatusCode, body)
	}
	if _, err := e.db.Store().GetDevice(ctx, "NEW0001", registry.ReadOptions{}); err == nil {
		t.Fatal("a dry run wrote NEW0001")
	}

	xlsx := workbook(t, [][]string{{"序列号", "型号", "厂商", "供应商代码", "批次"}, {"XLS0001", "A920", "PAX", "SUP1", "B7"}, {"XLS0002", "A920", "PAX", "SUP1", "B7"}})
	resp, body = e.do(t, "warehouse", req{method: "POST", path: "/api/v1/imports", contentType: export.XLSXType, body: xlsx})
	if resp.StatusCode != 201 || !bytes.Contains(body, []byte(`"created":2`)) {
		t.Fatalf("xlsx import: %d %s", resp.StatusCode, body)
	}
	if d, err := e.db.Store().GetDevice(ctx, "XLS0002", registry.ReadOptions{}); err != nil || d.Batch != "B7" {
		t.Fatalf("XLS0002: %+v %v", d, err)
	}
	badXLSX := workbook(t, [][]string{{"sn", "model", "manufacturer", "supplier_code"}, {"XLS0003", "", "PAX", "SUP1"}, {"XLS0001", "A920", "PAX", "SUP1"}})
	resp, body = e.do(t, "warehouse", req{method: "POST", path: "/api/v1/imports?dry_run=1", contentType: export.XLSXType, body: badXLSX})
	if p := problem(t, resp, body); resp.StatusCode != 422 || len(p.Errors) != 2 || p.Errors[0].Line != 2 || p.Errors[1].Line != 3 {
		t.Fatalf("bad xlsx dry run: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "warehouse", req{method: "POST", path: "/api/v1/imports", contentType: export.XLSXType, body: append([]byte("PK\x03\x04"), "garbage"...)})
	if p := problem(t, resp, body); resp.StatusCode != 422 || !strings.Contains(p.Detail, "XLSX") {
		t.Fatalf("broken xlsx: %d %s", resp.StatusCode, body)
	}

	mapped := "Device Serial,Type,Vendor,Supplier\nMAP0001,A920,PAX,SUP1\n"
	for path, status := range map[string]int{
		"/api/v1/imports?map=Device+Serial:sn,Type:model,Vendor:manufacturer,Supplier:supplier_code": 201,
		"/api/v1/imports?map=Device+Serial:nonsense":                                                 422,
		"/api/v1/imports?map=nocolon":                                                                422,
		"/api/v1/imports?dry_run=maybe":                                                              400,
	} {
		resp, body := e.do(t, "admin", req{method: "POST", path: path, contentType: "text/csv", body: []byte(mapped)})
		if resp.StatusCode != status {
			t.Errorf("%s: %d, want %d: %s", path, resp.StatusCode, status, body)
		}
	}
	if _, err := e.db.Store().GetDevice(ctx, "MAP0001", registry.ReadOptions{}); err != nil {
		t.Errorf("mapped import: %v", err)
	}
}
