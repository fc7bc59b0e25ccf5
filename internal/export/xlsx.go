package export

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"

	"posid/internal/service"
)

// MaxXLSXRows is the most devices one XLSX export holds: a worksheet has
// 1,048,576 rows, one of them the header.
const MaxXLSXRows = excelize.TotalRows - 1

// sheetName is the worksheet of an export.
const sheetName = "devices"

// xlsxWriter writes a workbook with excelize's StreamWriter, which keeps
// a bounded buffer of rows in memory and spills the rest to a temp file.
type xlsxWriter struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	rows int
}

// NewXLSX returns a Writer of an XLSX workbook to w with one sheet,
// "devices": the Header row, then one row of text cells per device. The
// workbook is written to w on Close.
func NewXLSX(w io.Writer) (Writer, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", sheetName); err != nil {
		f.Close()
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheetName)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("xlsx: %w", err)
	}
	x := &xlsxWriter{w: w, f: f, sw: sw}
	if err := x.row(Header); err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

// row appends one row of text cells.
func (x *xlsxWriter) row(cells []string) error {
	if x.rows > MaxXLSXRows {
		return fmt.Errorf("%w: more than %d devices for one XLSX sheet; export CSV or filter", ErrInvalid, MaxXLSXRows)
	}
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = c
	}
	x.rows++
	cell, err := excelize.CoordinatesToCellName(1, x.rows)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if err := x.sw.SetRow(cell, vals); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}

// Write implements Writer.
func (x *xlsxWriter) Write(vs []service.DeviceView) error {
	for _, v := range vs {
		if err := x.row(Row(v)); err != nil {
			return err
		}
	}
	return nil
}

// Close implements Writer: it writes the workbook and removes the temp
// files.
func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if _, err := x.f.WriteTo(x.w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
