package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"posid/internal/registry"
)

// maxJSONBody bounds JSON request bodies (devices, patches, label requests).
const maxJSONBody = 1 << 20

// snParam returns the normalized {sn} path parameter.
func snParam(c *fiber.Ctx) (string, error) {
	return registry.NormalizeSN(c.Params("sn"))
}

// revealAccount reports whether ?reveal=account was asked for; the service
// decides who may.
func revealAccount(c *fiber.Ctx) (bool, error) {
	switch c.Query("reveal") {
	case "":
		return false, nil
	case "account":
		return true, nil
	}
	return false, badRequest("reveal=%q: the only value is \"account\"", c.Query("reveal"))
}

// getDevice serves GET /api/v1/devices/:sn.
func (s *Server) getDevice(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return err
	}
	reveal, err := revealAccount(c)
	if err != nil {
		return err
	}
	v, err := s.svc.Device(c.UserContext(), watchedCallerOf(c), sn, reveal)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// listDevices serves GET /api/v1/devices; the service scopes the listing
// to the caller. Asked for CSV or XLSX (Accept, or ?format=), it answers
// with a file of every matching device (exportDevices).
func (s *Server) listDevices(c *fiber.Ctx) error {
	f := registry.Filter{MerchantNo: c.Query("merchant"), SupplierCode: c.Query("supplier"), Batch: c.Query("batch"), Model: c.Query("model"), Cursor: c.Query("cursor")}
	if p := c.Query("sn_prefix"); p != "" {
		sn, err := registry.NormalizeSN(p)
		if err != nil {
			return err
		}
		f.SNPrefix = sn
	}
	if st := c.Query("status"); st != "" {
		status, err := registry.ParseStatus(st)
		if err != nil {
			return err
		}
		f.Status = status
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > registry.MaxPageSize {
			return badRequest("limit=%q: want 1–%d", l, registry.MaxPageSize)
		}
		f.Limit = n
	}
	reveal, err := revealAccount(c)
	if err != nil {
		return err
	}
	f.RevealAccount = reveal
	if ef, ok, err := exportFormat(c); err != nil {
		return err
	} else if ok {
		return s.exportDevices(c, f, ef)
	}
	page, err := s.svc.Devices(c.UserContext(), callerOf(c), f, string(c.Request().URI().QueryString()))
	if err != nil {
		return err
	}
	return c.JSON(page)
}

// decodeJSON decodes the JSON body into v, strictly: unknown fields and
// trailing data are errors (400), as is a non-JSON content type (415).
func decodeJSON(c *fiber.Ctx, v any) error {
	if ct := mediaType(c); ct != fiber.MIMEApplicationJSON {
		return fmt.Errorf("%w: want Content-Type application/json, got %q", errUnsupported, c.Get(fiber.HeaderContentType))
	}
	body := c.Body()
	if len(body) > maxJSONBody {
		return fiber.NewError(http.StatusRequestEntityTooLarge, "JSON body too large")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, registry.ErrInvalid) {
			return err
		}
		return badRequest("JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("JSON body: trailing data after the object")
	}
	return nil
}

// mediaType returns the request's media type without parameters, lower case.
func mediaType(c *fiber.Ctx) string {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil {
		return ""
	}
	return mt
}

// createDevice serves POST /api/v1/devices (provisioning).
func (s *Server) createDevice(c *fiber.Ctx) error {
	var req provisionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	d, err := req.device()
	if err != nil {
		return err
	}
	v, err := s.svc.Create(c.UserContext(), callerOf(c), d)
	if err != nil {
		return err
	}
	c.Location("/api/v1/devices/" + v.SN)
	return c.Status(http.StatusCreated).JSON(v)
}

// patchDevice serves PATCH /api/v1/devices/:sn with a registry.Patch.
func (s *Server) patchDevice(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return err
	}
	var req patchRequest
	if mt := mediaType(c); mt == "application/merge-patch+json" {
		c.Request().Header.SetContentType(fiber.MIMEApplicationJSON)
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	v, err := s.svc.Update(c.UserContext(), callerOf(c), sn, p)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// StatusRequest is the body of POST /api/v1/devices/:sn/status.
type StatusRequest struct {
	Status string `json:"status"`
}

// setStatus serves POST /api/v1/devices/:sn/status.
func (s *Server) setStatus(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return err
	}
	var req StatusRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	to, err := registry.ParseStatus(req.Status)
	if err != nil {
		return err
	}
	v, err := s.svc.SetStatus(c.UserContext(), callerOf(c), sn, to)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// History is the answer of GET /api/v1/devices/:sn/history.
type History struct {
	SN      string            `json:"sn"`
	Changes []registry.Change `json:"changes"`
}

// history serves GET /api/v1/devices/:sn/history: the rows the caller may
// see, each by the registration it belonged to.
func (s *Server) history(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return err
	}
	cs, err := s.svc.History(c.UserContext(), callerOf(c), sn)
	if err != nil {
		return err
	}
	return c.JSON(History{SN: sn, Changes: cs})
}

// provisionRequest is the body of POST /api/v1/devices: a registry.Device
// with the production date as "YYYY-MM-DD" text.
type provisionRequest struct {
	SN           string                 `json:"sn"`
	Model        string                 `json:"model"`
	Manufacturer string                 `json:"manufacturer"`
	SupplierCode string                 `json:"supplier_code"`
	Batch        string                 `json:"batch,omitempty"`
	ProducedOn   string                 `json:"produced_on,omitempty"`
	Status       registry.Status        `json:"status,omitempty"`
	Registration *registry.Registration `json:"registration,omitempty"`
}

func (r provisionRequest) device() (registry.Device, error) {
	day, err := registry.ParseDate(r.ProducedOn)
	if err != nil {
		return registry.Device{}, fmt.Errorf("produced_on: %w", err)
	}
	return registry.Device{SN: r.SN, Model: r.Model, Manufacturer: r.Manufacturer, SupplierCode: r.SupplierCode,
		Batch: r.Batch, ProducedOn: day, Status: r.Status, Registration: r.Registration}, nil
}

// patchRequest is the body of PATCH /api/v1/devices/:sn: a registry.Patch
// with the production date as "YYYY-MM-DD" text.
type patchRequest struct {
	Model        *string                     `json:"model,omitempty"`
	Manufacturer *string                     `json:"manufacturer,omitempty"`
	SupplierCode *string                     `json:"supplier_code,omitempty"`
	Batch        *string                     `json:"batch,omitempty"`
	ProducedOn   *string                     `json:"produced_on,omitempty"`
	Registration *registry.RegistrationPatch `json:"registration,omitempty"`
}

func (r patchRequest) patch() (registry.Patch, error) {
	p := registry.Patch{Model: r.Model, Manufacturer: r.Manufacturer, SupplierCode: r.SupplierCode, Batch: r.Batch, Registration: r.Registration}
	if r.ProducedOn != nil {
		day, err := registry.ParseDate(*r.ProducedOn)
		if err != nil {
			return p, fmt.Errorf("produced_on: %w", err)
		}
		p.ProducedOn = &day
	}
	return p, nil
}
