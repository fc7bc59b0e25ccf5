package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/labels"
)

// consolePreviewLabels is how many labels the labels page previews as PNG.
const consolePreviewLabels = 4

// consoleMaxPasted bounds the SNs a person may paste into the labels page.
const consoleMaxPasted = MaxLabelsPerRequest

// consoleImportsView is the data of imports.html.
type consoleImportsView struct {
	// Columns are the posid import columns, space separated, for the
	// column-mapping step; Required those every file needs.
	Columns, Required string
}

// consoleImports serves GET /console/imports: upload a CSV or XLSX file,
// check it with a dry run, map unknown headers, then import it (the
// script calls POST /api/v1/imports).
func (s *Server) consoleImports(c *fiber.Ctx) error {
	return s.renderConsole(c, fiber.StatusOK, "imports.html", "imp.title", consoleImportsView{
		Columns:  strings.Join(registry.ImportColumns(), " "),
		Required: strings.Join(registry.RequiredColumns, ", "),
	})
}

// consoleLabelsView is the data of labels.html.
type consoleLabelsView struct {
	Query    map[string]string
	Statuses []registry.Status
	Sizes    []labels.Size
	Printers []printing.Printer
	// SNs are the devices picked; Batch is set when a whole batch was
	// picked, so that downloads and print jobs name the batch.
	SNs   []string
	Batch string
	// More says the filter found more devices than one page holds.
	More    bool
	Picked  bool
	Preview int
}

// consoleLabels serves GET /console/labels: pick devices by pasted SNs, a
// batch or a filter; the script previews the first labels as PNG and
// downloads PDF or ZPL, or sends a print job, through the labels and
// printers API.
func (s *Server) consoleLabels(c *fiber.Ctx) error {
	v := consoleLabelsView{Query: map[string]string{}, Statuses: registry.Statuses, Sizes: labels.Sizes, Preview: consolePreviewLabels}
	for _, name := range []string{"sns", "batch", "status", "supplier", "model"} {
		v.Query[name] = strings.TrimSpace(c.Query(name))
	}
	var err error
	if s.deps.Printing != nil { // without printers the page still downloads
		if v.Printers, err = s.svc.Printers(c.UserContext(), callerOf(c)); err != nil {
			return s.consoleError(c, err)
		}
	}
	switch {
	case v.Query["sns"] != "":
		v.Picked = true
		fields := strings.FieldsFunc(v.Query["sns"], func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
		if len(fields) > consoleMaxPasted {
			return s.consoleError(c, badRequest("%d serial numbers pasted, at most %d", len(fields), consoleMaxPasted))
		}
		seen := map[string]bool{}
		for _, f := range fields {
			sn, err := registry.NormalizeSN(f)
			if err != nil {
				return s.consoleError(c, err)
			}
			if !seen[sn] {
				seen[sn] = true
				v.SNs = append(v.SNs, sn)
			}
		}
	case v.Query["batch"] != "" || v.Query["status"] != "" || v.Query["supplier"] != "" || v.Query["model"] != "":
		v.Picked = true
		f := registry.Filter{Batch: v.Query["batch"], SupplierCode: v.Query["supplier"], Model: v.Query["model"], Limit: registry.MaxPageSize}
		if st := v.Query["status"]; st != "" {
			if f.Status, err = registry.ParseStatus(st); err != nil {
				return s.consoleError(c, err)
			}
		}
		page, err := s.svc.Devices(c.UserContext(), callerOf(c), f, string(c.Request().URI().QueryString()))
		if err != nil {
			return s.consoleError(c, err)
		}
		for _, d := range page.Devices {
			v.SNs = append(v.SNs, d.SN)
		}
		v.More = page.Next != ""
		if f.Batch != "" && f.Status == "" && f.SupplierCode == "" && f.Model == "" && !v.More {
			v.Batch = f.Batch
		}
	}
	return s.renderConsole(c, fiber.StatusOK, "labels.html", "labels.title", v)
}

// consolePrintersView is the data of printers.html.
type consolePrintersView struct {
	Printers []printing.Printer
	Jobs     []printing.Job
	// Admin may add and remove printers.
	Admin bool
	Sizes []labels.Size
}

// consolePrinters serves GET /console/admin/printers: the label printers
// (admins add and remove them through the API) and the latest print jobs
// with reprints marked.
func (s *Server) consolePrinters(c *fiber.Ctx) error {
	k, _ := principal(c)
	v := consolePrintersView{Admin: k.Role == auth.RoleAdmin, Sizes: labels.Sizes}
	var err error
	if v.Printers, err = s.svc.Printers(c.UserContext(), callerOf(c)); err != nil {
		return s.consoleError(c, err)
	}
	if v.Jobs, err = s.svc.PrintJobs(c.UserContext(), callerOf(c), printing.JobFilter{}); err != nil {
		return s.consoleError(c, err)
	}
	return s.renderConsole(c, fiber.StatusOK, "printers.html", "printers.title", v)
}
