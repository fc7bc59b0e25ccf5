package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"

	"posid/internal/service"
)

// utf8BOM starts the CSV file so that Excel reads it as UTF-8 (merchant
// names are Chinese).
const utf8BOM = "\ufeff"

// csvWriter writes RFC 4180 CSV with a header row.
type csvWriter struct {
	bw *bufio.Writer
	cw *csv.Writer
}

// NewCSV returns a Writer of CSV to w: a UTF-8 byte order mark, the
// Header row, then one row per device. Each Write flushes its page.
func NewCSV(w io.Writer) (Writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(utf8BOM); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	cw := csv.NewWriter(bw)
	if err := cw.Write(Header); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	return &csvWriter{bw: bw, cw: cw}, nil
}

// Write implements Writer.
func (w *csvWriter) Write(vs []service.DeviceView) error {
	for _, v := range vs {
		if err := w.cw.Write(Row(v)); err != nil {
			return fmt.Errorf("csv: %w", err)
		}
	}
	w.cw.Flush()
	if err := w.cw.Error(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}

// Close implements Writer.
func (w *csvWriter) Close() error { return w.Write(nil) }
