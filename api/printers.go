package api

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"posid/internal/printing"
	"posid/internal/registry"
	"posid/internal/service"
)

// PrinterRequest is the body of POST /api/v1/printers.
type PrinterRequest struct {
	Name string `json:"name"`
	// Kind is zpl (raw TCP 9100) or ipp (IPP printer or CUPS queue).
	Kind    string `json:"kind"`
	Address string `json:"address"`
	DPI     int    `json:"dpi,omitempty"`
	Size    string `json:"size,omitempty"`
}

// PrintJobRequest is the body of POST /api/v1/printers/:name/jobs: SNs, a
// batch or a filter, and optionally a label size other than the printer's.
type PrintJobRequest struct {
	SNs    []string     `json:"sns,omitempty"`
	Batch  string       `json:"batch,omitempty"`
	Filter *PrintFilter `json:"filter,omitempty"`
	Size   string       `json:"size,omitempty"`
}

// PrintFilter selects the devices of a print job like GET /api/v1/devices.
type PrintFilter struct {
	Status   string `json:"status,omitempty"`
	Supplier string `json:"supplier,omitempty"`
	Merchant string `json:"merchant,omitempty"`
	Batch    string `json:"batch,omitempty"`
}

// PrinterList is the answer of GET /api/v1/printers.
type PrinterList struct {
	Printers []printing.Printer `json:"printers"`
}

// PrintJobPage is one page of print jobs, newest first.
type PrintJobPage struct {
	Jobs []printing.Job `json:"jobs"`
	// Next is the cursor (?before=) of the following page.
	Next int64 `json:"next,omitempty"`
}

// listPrinters serves GET /api/v1/printers.
func (s *Server) listPrinters(c *fiber.Ctx) error {
	ps, err := s.svc.Printers(c.UserContext(), callerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(PrinterList{Printers: ps})
}

// addPrinter serves POST /api/v1/printers.
func (s *Server) addPrinter(c *fiber.Ctx) error {
	var req PrinterRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := s.svc.AddPrinter(c.UserContext(), callerOf(c), printing.Printer{Name: req.Name, Kind: printing.Kind(req.Kind), Address: req.Address, DPI: req.DPI, Size: req.Size})
	if err != nil {
		return err
	}
	c.Location("/api/v1/printers/" + p.Name)
	return c.Status(http.StatusCreated).JSON(p)
}

// removePrinter serves DELETE /api/v1/printers/:name.
func (s *Server) removePrinter(c *fiber.Ctx) error {
	if err := s.svc.RemovePrinter(c.UserContext(), callerOf(c), c.Params("name")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// printJob serves POST /api/v1/printers/:name/jobs: the service selects
// and renders the labels, sends them and records the job. A job the
// printer refused is answered 502 with the job's id in the detail.
func (s *Server) printJob(c *fiber.Ctx) error {
	var req PrintJobRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	pr := service.PrintRequest{Printer: c.Params("name"), SNs: req.SNs, Batch: req.Batch, Size: req.Size}
	if f := req.Filter; f != nil {
		pr.Filter = &registry.Filter{SupplierCode: f.Supplier, MerchantNo: f.Merchant, Batch: f.Batch}
		if f.Status != "" {
			st, err := registry.ParseStatus(f.Status)
			if err != nil {
				return err
			}
			pr.Filter.Status = st
		}
	}
	if s.deps.LabelKeys == nil {
		return fmt.Errorf("%w: no label signing keys configured", errUnavailable)
	}
	sg, err := s.deps.LabelKeys.Signer(c.UserContext(), s.cfg.BaseURL)
	if err != nil {
		return err
	}
	pr.Signer = sg
	job, err := s.svc.Print(c.UserContext(), callerOf(c), pr)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(job)
}

// listPrintJobs serves GET /api/v1/printjobs?printer=&before=&limit=.
func (s *Server) listPrintJobs(c *fiber.Ctx) error {
	f := printing.JobFilter{Printer: c.Query("printer")}
	for _, q := range []struct {
		name string
		max  int64
		set  func(int64)
	}{{"before", 1 << 62, func(n int64) { f.Before = n }}, {"limit", printing.MaxJobPage, func(n int64) { f.Limit = int(n) }}} {
		if v := c.Query(q.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 1 || n > q.max {
				return badRequest("%s=%q: want a number from 1 to %d", q.name, v, q.max)
			}
			q.set(n)
		}
	}
	jobs, err := s.svc.PrintJobs(c.UserContext(), callerOf(c), f)
	if err != nil {
		return err
	}
	page := PrintJobPage{Jobs: jobs}
	if len(jobs) == f.PageSize() {
		page.Next = jobs[len(jobs)-1].ID
	}
	return c.JSON(page)
}
