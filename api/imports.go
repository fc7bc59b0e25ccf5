package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/export"
	"posid/internal/registry"
	"posid/internal/sheet"
)

// importTypes are the content types accepted as a raw import body: CSV,
// or an XLSX workbook (recognised by its content, whatever the type).
var importTypes = map[string]bool{"text/csv": true, "application/csv": true, "text/plain": true, "application/vnd.ms-excel": true,
	"application/octet-stream": true, export.XLSXType: true}

// ImportPreview is the answer of a dry run: what the import would write.
type ImportPreview struct {
	DryRun bool `json:"dry_run"`
	registry.ImportSummary
}

// importDevices serves POST /api/v1/imports: a CSV or XLSX body or a
// multipart "file" field; ?mode=upsert updates existing devices; ?map=
// names the columns of unknown headers (Header:column,...); ?dry_run=1
// checks the file without writing it. A file with bad rows is rejected
// whole with a 422 problem listing every bad row.
func (s *Server) importDevices(c *fiber.Ctx) error {
	var mode registry.ImportMode
	switch c.Query("mode") {
	case "", "create":
	case "upsert":
		mode = registry.ImportUpsert
	default:
		return badRequest("mode=%q: want create or upsert", c.Query("mode"))
	}
	var dryRun bool
	switch c.Query("dry_run") {
	case "", "0", "false":
	case "1", "true":
		dryRun = true
	default:
		return badRequest("dry_run=%q: want 1 or 0", c.Query("dry_run"))
	}
	colMap, err := registry.ParseColumnMap(c.Query("map"))
	if err != nil {
		return err
	}
	data, err := uploaded(c, "file", func(mt string) bool { return importTypes[mt] })
	if err != nil {
		return err
	}
	recs, err := parseImport(data, s.now().UTC(), registry.ParseOptions{Map: colMap, Partial: dryRun})
	var parsed *registry.ImportError
	if dryRun && errors.As(err, &parsed) {
		err = nil // the preview lists these rows with the store's
	}
	if err != nil {
		return err
	}
	if dryRun {
		sum, err := s.svc.PreviewImport(c.UserContext(), callerOf(c), recs, mode, parsed)
		if err != nil {
			return err
		}
		return c.JSON(ImportPreview{DryRun: true, ImportSummary: sum})
	}
	sum, err := s.svc.Import(c.UserContext(), callerOf(c), recs, mode)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if sum.Created > 0 {
		status = http.StatusCreated
	}
	return c.Status(status).JSON(sum)
}

// parseImport reads the records of an import file: an XLSX workbook (its
// first sheet) when data starts like one, else CSV.
func parseImport(data []byte, now time.Time, opt registry.ParseOptions) ([]registry.Record, error) {
	if !sheet.IsXLSX(data) {
		return registry.ParseCSVWith(bytes.NewReader(data), now, opt)
	}
	rows, err := sheet.Open(data)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return registry.ParseRows(rows, now, opt)
}

// uploaded returns the upload of a request: the multipart field named
// field, or the raw body when its media type passes ok. Anything else is 415.
func uploaded(c *fiber.Ctx, field string, ok func(mediaType string) bool) ([]byte, error) {
	mt := mediaType(c)
	if mt == fiber.MIMEMultipartForm {
		fh, err := c.FormFile(field)
		if err != nil {
			return nil, badRequest("multipart body has no %q file field", field)
		}
		f, err := fh.Open()
		if err != nil {
			return nil, badRequest("multipart field %q: %v", field, err)
		}
		defer f.Close()
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, badRequest("multipart field %q: %v", field, err)
		}
		return data, nil
	}
	if !ok(mt) {
		return nil, fmt.Errorf("%w: Content-Type %q", errUnsupported, c.Get(fiber.HeaderContentType))
	}
	return c.Body(), nil
}
