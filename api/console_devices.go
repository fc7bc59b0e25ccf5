package api

import (
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/service"
)

// consoleCasesPerDevice bounds the cases (and so the evidence reads) the
// device page shows; consoleEventsPerDevice its recent scans.
const (
	consoleCasesPerDevice  = 10
	consoleEventsPerDevice = 20
)

// consoleDevicesView is the data of devices.html.
type consoleDevicesView struct {
	// Query holds the form's values as sent.
	Query    map[string]string
	Statuses []registry.Status
	// Fields says which filters the caller's role may use.
	Fields map[string]bool
	Page   service.DevicePage
	// NextHref is the link to the following page, "" on the last.
	NextHref string
	Searched bool
	// MoreSet says a filter besides the SN is set (the form shows them all).
	MoreSet bool
	// Export links GET /api/v1/devices with the filter in force, by
	// format name (csv, xlsx).
	Export map[string]template.URL
}

// consoleFilterFields are the device filters each role may set; the
// service scopes merchants and suppliers to their own devices anyway.
var consoleFilterFields = map[auth.Role][]string{
	auth.RoleAdmin:     {"merchant", "supplier"},
	auth.RoleWarehouse: {"supplier"},
	auth.RoleSupplier:  {"merchant"},
}

// exportHref is the address of the export of filter f in format: GET
// /api/v1/devices with the search the page shows (every page of it). It
// is built here from url.Values, so the template may use it as a URL.
func exportHref(f registry.Filter, format string) template.URL {
	q := url.Values{"format": {format}}
	for name, val := range map[string]string{"sn_prefix": f.SNPrefix, "status": string(f.Status), "model": f.Model, "batch": f.Batch, "merchant": f.MerchantNo, "supplier": f.SupplierCode} {
		if val != "" {
			q.Set(name, val)
		}
	}
	return template.URL("/api/v1/devices?" + q.Encode())
}

// consoleDevices serves GET /console/devices: search by SN prefix and
// filter, one page at a time with the registry's cursor.
func (s *Server) consoleDevices(c *fiber.Ctx) error {
	k, _ := principal(c)
	v := consoleDevicesView{Query: map[string]string{}, Statuses: registry.Statuses, Fields: map[string]bool{}}
	for _, f := range consoleFilterFields[k.Role] {
		v.Fields[f] = true
	}
	for _, name := range []string{"sn", "status", "model", "batch", "merchant", "supplier", "cursor"} {
		v.Query[name] = strings.TrimSpace(c.Query(name))
	}
	f := registry.Filter{Model: v.Query["model"], Batch: v.Query["batch"], Cursor: v.Query["cursor"], Limit: registry.DefaultPageSize}
	if v.Fields["merchant"] {
		f.MerchantNo = v.Query["merchant"]
	}
	if v.Fields["supplier"] {
		f.SupplierCode = v.Query["supplier"]
	}
	if q := v.Query["sn"]; q != "" {
		sn, err := registry.NormalizeSN(q)
		if err != nil {
			return s.consoleError(c, err)
		}
		f.SNPrefix = sn
	}
	if st := v.Query["status"]; st != "" {
		status, err := registry.ParseStatus(st)
		if err != nil {
			return s.consoleError(c, err)
		}
		f.Status = status
	}
	page, err := s.svc.Devices(c.UserContext(), callerOf(c), f, string(c.Request().URI().QueryString()))
	if err != nil {
		return s.consoleError(c, err)
	}
	v.Page = page
	v.Export = map[string]template.URL{}
	for _, format := range []string{"csv", "xlsx"} {
		v.Export[format] = exportHref(f, format)
	}
	if page.Next != "" {
		q := c.Request().URI().QueryArgs()
		q.Set("cursor", page.Next)
		q.Del("lang")
		v.NextHref = "/console/devices?" + string(q.QueryString())
	}
	for name, val := range v.Query {
		if val != "" && name != "cursor" {
			v.Searched = true
			v.MoreSet = v.MoreSet || name != "sn"
		}
	}
	return s.renderConsole(c, fiber.StatusOK, "devices.html", "devices.title", v)
}

// consoleDeviceView is the data of device.html.
type consoleDeviceView struct {
	Device service.DeviceView
	// Moves are the statuses the caller may move the device to.
	Moves []registry.Status
	// History is the rows the caller may see, oldest first; HistoryHidden
	// says the service showed none.
	History       []registry.Change
	HistoryHidden bool
	// MayReveal offers the audited reveal of the settlement account.
	MayReveal, Revealed bool
	// Cases are the device's review cases with their evidence, Events its
	// latest scans, verifies and lookups (admins).
	Cases     []risk.Case
	Events    []risk.Event
	ShowCases bool
}

// consoleDevice serves GET /console/devices/:sn: the device as the
// service shows it to the caller, its history and its status changes.
func (s *Server) consoleDevice(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return s.consoleError(c, err)
	}
	reveal, err := revealAccount(c)
	if err != nil {
		return s.consoleError(c, err)
	}
	ctx, caller := c.UserContext(), callerOf(c)
	d, err := s.svc.Device(ctx, caller, sn, reveal)
	if err != nil {
		return s.consoleError(c, err)
	}
	v := consoleDeviceView{Device: d, Moves: caller.Moves(d.Status), Revealed: reveal,
		MayReveal: caller.Role == auth.RoleAdmin && d.Registration != nil && d.Registration.Account != "" && !reveal}
	v.History, err = s.svc.History(ctx, caller, sn)
	switch {
	case errors.Is(err, service.ErrForbidden):
		v.HistoryHidden = true
	case err != nil:
		return s.consoleError(c, err)
	}
	slices.SortStableFunc(v.History, func(a, b registry.Change) int { return a.At.Compare(b.At) })
	if mon := s.deps.Risk; mon != nil && caller.Role == auth.RoleAdmin {
		v.ShowCases = true
		if v.Events, err = mon.DeviceEvents(ctx, sn, consoleEventsPerDevice); err != nil {
			return s.consoleError(c, err)
		}
		cs, err := mon.Cases(ctx, risk.CaseFilter{SN: sn, Limit: consoleCasesPerDevice})
		if err != nil {
			return s.consoleError(c, err)
		}
		for _, k := range cs {
			full, err := mon.Case(ctx, k.ID)
			if err != nil {
				return s.consoleError(c, err)
			}
			v.Cases = append(v.Cases, full)
		}
	}
	return s.renderConsole(c, fiber.StatusOK, "device.html", "device.title", v)
}
