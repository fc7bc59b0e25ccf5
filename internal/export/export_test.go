package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"posid/internal/export"
	"posid/internal/registry"
	"posid/internal/service"
)

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1":                           "'=1+1",
		"+86 10 1234":                    "'+86 10 1234",
		"-2":                             "'-2",
		"@SUM(A1)":                       "'@SUM(A1)",
		"\tx":                            "'\tx",
		"\rx":                            "'\rx",
		`=HYPERLINK("http://x","click")`: `'=HYPERLINK("http://x","click")`,
		"A920":                           "A920",
		"":                               "",
		"'=already":                      "'=already",
		"老王餐馆=1":                         "老王餐馆=1",
	} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// pages is a Pager over fixed pages.
type pages [][]service.DeviceView

func (p *pages) Next(context.Context) ([]service.DeviceView, error) {
	if len(*p) == 0 {
		return nil, io.EOF
	}
	v := (*p)[0]
	*p = (*p)[1:]
	return v, nil
}

// views are two pages of devices, one with a hostile merchant name.
func views() pages {
	at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	reg := &registry.Registration{MerchantNo: "M001", MerchantName: "=cmd|' /C calc'!A0", TerminalID: "T001", Acquirer: "银联商务",
		BranchName: "@branch", BranchAddress: "+1 Road", Access: registry.Access4G, RegisteredAt: at, Account: "6222 **** **** 1234"}
	return pages{
		{{SN: "PAX0001", Model: "A920", Manufacturer: "PAX", Status: registry.StatusActive, SupplierCode: "SUP1", Batch: "-B1", ProducedOn: "2026-09-01",
			CreatedAt: &at, UpdatedAt: &at, Registration: reg, Visibility: service.SeeFull}},
		{{SN: "PAX0002", Model: "A920", Manufacturer: "PAX", Status: registry.StatusProvisioned, Visibility: service.SeePublic}},
	}
}

var wantRows = [][]string{
	export.Header,
	{"PAX0001", "A920", "PAX", "active", "SUP1", "'-B1", "2026-09-01", "2026-10-01T08:00:00Z", "2026-10-01T08:00:00Z", "full",
		"M001", "'=cmd|' /C calc'!A0", "T001", "银联商务", "'@branch", "'+1 Road", "4g", "2026-10-01T08:00:00Z", "6222 **** **** 1234"},
	{"PAX0002", "A920", "PAX", "provisioned", "", "", "", "", "", "public", "", "", "", "", "", "", "", "", ""},
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	w, err := export.NewCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	src := views()
	if n, err := export.Copy(context.Background(), w, &src); err != nil || n != 2 {
		t.Fatalf("Copy = %d, %v", n, err)
	}
	body, ok := strings.CutPrefix(buf.String(), "\ufeff")
	if !ok {
		t.Error("no UTF-8 byte order mark")
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	compare(t, rows, wantRows)
}

func TestXLSX(t *testing.T) {
	var buf bytes.Buffer
	w, err := export.NewXLSX(&buf)
	if err != nil {
		t.Fatal(err)
	}
	src := views()
	if n, err := export.Copy(context.Background(), w, &src); err != nil || n != 2 {
		t.Fatalf("Copy = %d, %v", n, err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows("devices")
	if err != nil {
		t.Fatal(err)
	}
	// GetRows drops trailing empty cells; pad them back.
	for i := range rows {
		for len(rows[i]) < len(export.Header) {
			rows[i] = append(rows[i], "")
		}
	}
	compare(t, rows, wantRows)
	// No cell is a formula.
	for r := 1; r <= 3; r++ {
		for c := 1; c <= len(export.Header); c++ {
			name, _ := excelize.CoordinatesToCellName(c, r)
			if fm, _ := f.GetCellFormula("devices", name); fm != "" {
				t.Errorf("%s holds formula %q", name, fm)
			}
		}
	}
}

func compare(t *testing.T, got, want [][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], "\x00") != strings.Join(want[i], "\x00") {
			t.Errorf("row %d\n got %q\nwant %q", i, got[i], want[i])
		}
	}
}

func TestLookupFormat(t *testing.T) {
	if f, err := export.LookupFormat("XLSX"); err != nil || f.Ext != "xlsx" {
		t.Errorf("xlsx: %+v %v", f, err)
	}
	if _, err := export.LookupFormat("pdf"); !errors.Is(err, export.ErrInvalid) {
		t.Errorf("pdf: %v", err)
	}
	if f, ok := export.FormatOfType("text/csv"); !ok || f.Name != "csv" {
		t.Errorf("text/csv: %+v %v", f, ok)
	}
	if _, ok := export.FormatOfType("text/cs"); ok {
		t.Error("text/cs matched")
	}
}
