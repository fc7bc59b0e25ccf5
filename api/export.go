package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/export"
	"posid/internal/registry"
	"posid/internal/service"
)

// exportFormat is the file format a device listing asks for: ?format=
// (json, csv or xlsx), else the Accept header. ok is false for JSON.
func exportFormat(c *fiber.Ctx) (f export.Format, ok bool, err error) {
	c.Vary(fiber.HeaderAccept)
	if q := c.Query("format"); q != "" {
		if strings.EqualFold(q, "json") {
			return export.Format{}, false, nil
		}
		f, err := export.LookupFormat(q)
		if err != nil {
			return f, false, badRequest("format=%q: want json, csv or xlsx", q)
		}
		return f, true, nil
	}
	if c.Get(fiber.HeaderAccept) == "" {
		return export.Format{}, false, nil
	}
	f, ok = export.FormatOfType(c.Accepts(fiber.MIMEApplicationJSON, export.CSVType, export.XLSXType))
	return f, ok, nil
}

// exportDevices answers a device listing with a CSV or XLSX file of every
// matching device, as the caller sees them. The service checks the scope
// and audits the export, and the first page is read, before the answer
// starts; the rest streams page by page, each read under a context of its
// own bounded by the write timeout (the request's ends when the handler
// returns). A failure after the start cuts the file short and is logged.
func (s *Server) exportDevices(c *fiber.Ctx, f registry.Filter, ef export.Format) error {
	e, err := s.svc.ExportDevices(c.UserContext(), callerOf(c), f, string(c.Request().URI().QueryString()), ef.Name)
	if err != nil {
		return err
	}
	first, err := e.Next(c.UserContext())
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	c.Set(fiber.HeaderContentType, ef.ContentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="devices-%s.%s"`, s.now().UTC().Format("20060102-150405"), ef.Ext))
	log, rid, timeout := s.log, requestID(c), s.cfg.WriteTimeout
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		n, err := writeExport(ctx, w, ef, first, e)
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			log.Warn("export cut short", "request_id", rid, "format", ef.Name, "rows", n, "err", err)
		}
	})
	return nil
}

// writeExport writes the first page and the rest of src to w as ef.
func writeExport(ctx context.Context, w io.Writer, ef export.Format, first []service.DeviceView, src export.Pager) (int, error) {
	ew, err := ef.New(w)
	if err != nil {
		return 0, err
	}
	if err := ew.Write(first); err != nil {
		return 0, err
	}
	n, err := export.Copy(ctx, ew, src)
	return len(first) + n, err
}
