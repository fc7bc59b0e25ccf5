package api

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"posid/internal/registry"
)

// csvTypes are the content types accepted as a raw CSV body.
var csvTypes = map[string]bool{"text/csv": true, "application/csv": true, "text/plain": true, "application/vnd.ms-excel": true, "application/octet-stream": true}

// importDevices serves POST /api/v1/imports: a CSV body or a multipart
// "file" field; ?mode=upsert updates existing devices. A file with bad
// rows is rejected whole with a 422 problem listing every bad row.
func (s *Server) importDevices(c *fiber.Ctx) error {
	var mode registry.ImportMode
	switch c.Query("mode") {
	case "", "create":
	case "upsert":
		mode = registry.ImportUpsert
	default:
		return badRequest("mode=%q: want create or upsert", c.Query("mode"))
	}
	r, err := uploaded(c, "file", func(mt string) bool { return csvTypes[mt] })
	if err != nil {
		return err
	}
	recs, err := registry.ParseCSV(r, s.now().UTC())
	if err != nil {
		return err
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

// uploaded returns the upload of a request: the multipart field named
// field, or the raw body when its media type passes ok. Anything else is 415.
func uploaded(c *fiber.Ctx, field string, ok func(mediaType string) bool) (io.Reader, error) {
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
		return bytes.NewReader(data), nil
	}
	if !ok(mt) {
		return nil, fmt.Errorf("%w: Content-Type %q", errUnsupported, c.Get(fiber.HeaderContentType))
	}
	return bytes.NewReader(c.Body()), nil
}
