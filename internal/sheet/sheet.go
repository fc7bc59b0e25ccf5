// Package sheet reads the rows of an XLSX workbook (the first sheet) for
// an import, within limits checked before the workbook is unpacked.
package sheet

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"

	"posid/internal/registry"
)

// Limits of a workbook; errors wrap registry.ErrInvalid.
const (
	// MaxBytes bounds the workbook file (the zip), as a CSV import.
	MaxBytes = registry.MaxImportBytes
	// MaxUnzipped bounds the sum of the uncompressed sizes the zip's
	// directory declares, checked before anything is unpacked.
	MaxUnzipped = 512 << 20
	// maxXMLInMemory is how much of one unpacked part excelize keeps in
	// memory before it spills to a temp file.
	maxXMLInMemory = 16 << 20
	// MaxColumns bounds the cells of one row.
	MaxColumns = 64
)

// Magic is how every XLSX file (a zip) starts.
var Magic = []byte("PK\x03\x04")

// IsXLSX reports whether data looks like an XLSX workbook.
func IsXLSX(data []byte) bool { return bytes.HasPrefix(data, Magic) }

// Rows is the first sheet of an XLSX workbook as a registry.RowSource.
// Close removes excelize's temp files.
type Rows struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
}

// Open reads the workbook in data: its size is checked against MaxBytes
// and the zip's declared unpacked size against MaxUnzipped first.
func Open(data []byte) (*Rows, error) {
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("%w: workbook is larger than %d MiB", registry.ErrInvalid, MaxBytes>>20)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: MaxUnzipped, UnzipXMLSizeLimit: maxXMLInMemory})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size exceeds") { // excelize's limit error has no sentinel
			return nil, fmt.Errorf("%w: workbook unpacks to more than %d MiB", registry.ErrInvalid, MaxUnzipped>>20)
		}
		return nil, fmt.Errorf("%w: not a readable XLSX workbook: %v", registry.ErrInvalid, err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fmt.Errorf("%w: workbook has no sheet", registry.ErrInvalid)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: sheet %q: %v", registry.ErrInvalid, sheets[0], err)
	}
	return &Rows{f: f, rows: rows}, nil
}

// Row implements registry.RowSource: the cells of the next row as text,
// its 1-based row number as the line, io.EOF after the last.
func (r *Rows) Row() ([]string, int, error) {
	if !r.rows.Next() {
		if err := r.rows.Error(); err != nil {
			return nil, 0, fmt.Errorf("%w: %v", registry.ErrInvalid, err)
		}
		return nil, 0, io.EOF
	}
	r.line++
	cells, err := r.rows.Columns()
	if err != nil {
		return nil, r.line, fmt.Errorf("%w: row %d: %v", registry.ErrInvalid, r.line, err)
	}
	if len(cells) > MaxColumns {
		return nil, r.line, fmt.Errorf("%w: row %d has %d cells, at most %d", registry.ErrInvalid, r.line, len(cells), MaxColumns)
	}
	return cells, r.line, nil
}

// Close releases the workbook.
func (r *Rows) Close() error {
	r.rows.Close()
	return r.f.Close()
}
