package sheet_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"posid/internal/registry"
	"posid/internal/sheet"
)

func book(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRowsImport(t *testing.T) {
	data := book(t, [][]any{{"sn", "model", "manufacturer", "supplier_code", "produced_on"}, {"XLS0001", "A920", "PAX", "SUP1", "2026-09-01"}, {}, {"xls0002", "A920", "PAX", "SUP1", ""}})
	if !sheet.IsXLSX(data) {
		t.Fatal("not recognised as XLSX")
	}
	rows, err := sheet.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	recs, err := registry.ParseRows(rows, time.Now(), registry.ParseOptions{})
	if err != nil || len(recs) != 2 || recs[1].Device.SN != "XLS0002" || recs[1].Line != 4 {
		t.Fatalf("%+v %v", recs, err)
	}
}

func TestRowsLimits(t *testing.T) {
	wide := make([]any, sheet.MaxColumns+1)
	for i := range wide {
		wide[i] = "x"
	}
	rows, err := sheet.Open(book(t, [][]any{wide}))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rows.Row(); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("a row of %d cells: %v", len(wide), err)
	}
	rows.Close()
	if _, err := sheet.Open(make([]byte, sheet.MaxBytes+1)); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("over-large file: %v", err)
	}
	// A zip whose member declares an unpacked size past MaxUnzipped:
	// refused before anything is unpacked.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Store, CompressedSize64: 4, UncompressedSize64: sheet.MaxUnzipped + 1})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("<a/>"))
	zw.Close()
	start := time.Now()
	if _, err := sheet.Open(buf.Bytes()); !errors.Is(err, registry.ErrInvalid) || !strings.Contains(err.Error(), "unpacks") {
		t.Errorf("zip bomb: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("zip bomb took %s", time.Since(start))
	}
	if _, err := sheet.Open([]byte("PK\x03\x04junk")); !errors.Is(err, registry.ErrInvalid) {
		t.Errorf("junk: %v", err)
	}
}

// FuzzOpen: any bytes give rows or an ErrInvalid error, never a panic.
func FuzzOpen(f *testing.F) {
	f.Add([]byte("PK\x03\x04"))
	wb := excelize.NewFile()
	wb.SetSheetRow("Sheet1", "A1", &[]any{"sn", "model"})
	var buf bytes.Buffer
	wb.Write(&buf)
	wb.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := sheet.Open(data)
		if err != nil {
			if !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("error %v is no ErrInvalid", err)
			}
			return
		}
		defer rows.Close()
		for range 1000 {
			if _, _, err := rows.Row(); err != nil {
				return
			}
		}
	})
}
