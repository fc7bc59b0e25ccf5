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

// TestImportRowColumns: the problem of a rejected import names, for every
// bad row, the columns at fault in the file's order, with the file's
// header text where it is not the column's name: rows the reader rejects
// and rows the store rejects, in a dry run and a real import, over CSV
// and XLSX.
func TestImportRowColumns(t *testing.T) {
	e := newEnv(t, Config{})
	chinese := "结算账号,序列号,型号,厂商,供应商代码,商户号,商户名称,终端号,收单机构,入网方式\n" +
		"6222021234560001,NEW0001,A920,PAX,SUP1,M1,老王,T1,银联,4G\n" + // good
		"62220abc,NEW0002,,PAX,SUP1,M1,老王,T1,银联,4G\n" + // account and model
		"6222021234560003,PAX0003,A920,PAX,SUP1,M1,老王,T1,银联,4G\n" // exists
	mapped := "Acct,Serial,model,manufacturer,supplier_code\n,NEW0004,A920,PAX,SUP1\n,X,A920,PAX,SUP1\n"
	xlsx := workbook(t, [][]string{{"型号", "序列号", "厂商", "供应商代码", "状态"}, {"", "XLS0001", "PAX", "SUP1", "flying"}})
	for _, tc := range []struct {
		name, path, ctype string
		body              []byte
		want              map[int]string // line → columns as JSON
	}{
		{"csv", "/api/v1/imports", "text/csv", []byte(chinese), map[int]string{
			3: `[{"name":"account","header":"结算账号"},{"name":"model","header":"型号"}]`}},
		{"csv dry run", "/api/v1/imports?dry_run=1", "text/csv", []byte(chinese), map[int]string{
			3: `[{"name":"account","header":"结算账号"},{"name":"model","header":"型号"}]`,
			4: `[{"name":"sn","header":"序列号"}]`}},
		{"csv store", "/api/v1/imports", "text/csv", []byte(strings.Replace(chinese, "62220abc,NEW0002,,", "6222021234560002,NEW0002,A920,", 1)), map[int]string{
			4: `[{"name":"sn","header":"序列号"}]`}},
		{"mapped", "/api/v1/imports?map=Acct:account,Serial:sn", "text/csv", []byte(mapped), map[int]string{
			3: `[{"name":"sn","header":"Serial"}]`}},
		{"xlsx", "/api/v1/imports", export.XLSXType, xlsx, map[int]string{
			2: `[{"name":"model","header":"型号"},{"name":"status","header":"状态"}]`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "admin", req{method: "POST", path: tc.path, contentType: tc.ctype, body: tc.body})
			p := problem(t, resp, body)
			if resp.StatusCode != 422 || len(p.Errors) != len(tc.want) {
				t.Fatalf("%d %s", resp.StatusCode, body)
			}
			var raw struct {
				Errors []struct {
					Line    int             `json:"line"`
					Columns json.RawMessage `json:"columns"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(body, &raw); err != nil {
				t.Fatal(err)
			}
			for _, r := range raw.Errors {
				if string(r.Columns) != tc.want[r.Line] {
					t.Errorf("line %d: columns %s, want %s", r.Line, r.Columns, tc.want[r.Line])
				}
			}
		})
	}
	if _, err := e.db.Store().GetDevice(context.Background(), "NEW0001", registry.ReadOptions{}); err == nil {
		t.Error("a rejected import wrote NEW0001")
	}
}
