// Package export writes device listings as CSV and XLSX files, one page
// of devices at a time, with the columns of service.DeviceView. Every
// cell that a spreadsheet would read as a formula (starting with = + - @,
// a tab or a carriage return) gets a leading apostrophe.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"posid/internal/service"
)

// ErrInvalid means an unknown export format.
var ErrInvalid = errors.New("invalid export")

// Writer writes device rows; Close finishes the file.
type Writer interface {
	// Write adds one row per device.
	Write(vs []service.DeviceView) error
	// Close writes what is buffered and the end of the file; it does not
	// close the underlying io.Writer.
	Close() error
}

// Format is one export format: the table the API and the CLI both read.
type Format struct {
	// Name is what requests and flags call it: "csv", "xlsx".
	Name        string
	ContentType string
	Ext         string
	// New returns a Writer that writes the file to w.
	New func(w io.Writer) (Writer, error)
}

// Media types of the formats.
const (
	CSVType  = "text/csv"
	XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

var formats = []Format{
	{Name: "csv", ContentType: CSVType + "; charset=utf-8", Ext: "csv", New: NewCSV},
	{Name: "xlsx", ContentType: XLSXType, Ext: "xlsx", New: NewXLSX},
}

// Formats returns the export formats.
func Formats() []Format { return append([]Format(nil), formats...) }

// LookupFormat returns the format called name (case-insensitive).
func LookupFormat(name string) (Format, error) {
	for _, f := range formats {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("%w: format %q, want csv or xlsx", ErrInvalid, name)
}

// FormatOfType returns the format whose media type is mt, if any.
func FormatOfType(mt string) (Format, bool) {
	for _, f := range formats {
		if strings.HasPrefix(f.ContentType, mt) && (len(f.ContentType) == len(mt) || f.ContentType[len(mt)] == ';') {
			return f, true
		}
	}
	return Format{}, false
}

// Header names the columns, in order.
var Header = []string{"sn", "model", "manufacturer", "status", "supplier_code", "batch", "produced_on", "created_at", "updated_at", "visibility",
	"merchant_no", "merchant_name", "terminal_id", "acquirer", "branch_name", "branch_address", "access", "registered_at", "account"}

// Row is the cells of v in Header order, neutralised (Neutralize).
func Row(v service.DeviceView) []string {
	ts := func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	row := []string{v.SN, v.Model, v.Manufacturer, string(v.Status), v.SupplierCode, v.Batch, v.ProducedOn, ts(v.CreatedAt), ts(v.UpdatedAt), string(v.Visibility),
		"", "", "", "", "", "", "", "", ""}
	if r := v.Registration; r != nil {
		copy(row[10:], []string{r.MerchantNo, r.MerchantName, r.TerminalID, r.Acquirer, r.BranchName, r.BranchAddress, string(r.Access), ts(&r.RegisteredAt), r.Account})
	}
	for i, c := range row {
		row[i] = Neutralize(c)
	}
	return row
}

// Neutralize returns s with a leading apostrophe when a spreadsheet would
// take it for a formula: it starts with = + - @, a tab or a carriage
// return (OWASP "CSV injection").
func Neutralize(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Pager is a source of device pages: service.DeviceExport.
type Pager interface {
	Next(ctx context.Context) ([]service.DeviceView, error)
}

// Copy writes every page of src to w, closes w and returns the rows
// written.
func Copy(ctx context.Context, w Writer, src Pager) (int, error) {
	n := 0
	for {
		vs, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, err
		}
		if err := w.Write(vs); err != nil {
			return n, err
		}
		n += len(vs)
	}
	return n, w.Close()
}
