package api

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/scan"
)

var merchantOnly = []auth.Role{auth.RoleMerchant}

// riskRoutes returns the review-queue and complaint routes. Reads are
// served by mon; case work and complaints go through the service, which
// checks the caller and audits. Routes appends them when Deps.Risk is set.
func (s *Server) riskRoutes(mon *risk.Monitor) []Route {
	h := riskHandlers{s: s, mon: mon}
	return []Route{
		{"GET", "/api/v1/cases", "List review cases (?status=&rule=&sn=&assignee=&before=&limit=)", reviewWork, "risk", h.listCases},
		{"GET", "/api/v1/cases/:id", "Get a review case with its evidence events and complaints", reviewWork, "risk", h.getCase},
		{"POST", "/api/v1/cases/:id/assign", "Assign a review case", reviewWork, "risk", h.assignCase},
		{"POST", "/api/v1/cases/:id/resolve", "Resolve a review case with an outcome and a note", reviewWork, "risk", h.resolveCase},
		{"POST", "/api/v1/cases/:id/comments", "Comment on a review case", reviewWork, "risk", h.commentCase},
		{"POST", "/api/v1/complaints", "File a complaint about a device (JSON or multipart with a photo)", merchantOnly, "risk", h.fileComplaint},
		{"GET", "/api/v1/complaints", "List complaints: a merchant's own, or all for reviewers and admins", []auth.Role{auth.RoleMerchant, auth.RoleReviewer, auth.RoleAdmin}, "risk", h.listComplaints},
		{"GET", "/api/v1/complaints/:id/photo", "The photo attached to a complaint", reviewWork, "risk", h.complaintPhoto},
	}
}

// riskHandlers serve the risk routes.
type riskHandlers struct {
	s   *Server
	mon *risk.Monitor
}

// caseList is the answer of GET /api/v1/cases.
type caseList struct {
	Cases []risk.Case `json:"cases"`
	// Next is the before= value of the following page, 0 on the last page.
	Next int64 `json:"next,omitempty"`
}

func (h riskHandlers) listCases(c *fiber.Ctx) error {
	var f risk.CaseFilter
	var err error
	if v := c.Query("status"); v != "" {
		if f.Status, err = risk.ParseStatus(v); err != nil {
			return err
		}
	}
	if v := c.Query("rule"); v != "" {
		if f.Rule, err = risk.ParseRule(v); err != nil {
			return err
		}
	}
	if v := c.Query("sn"); v != "" {
		if f.SN, err = registry.NormalizeSN(v); err != nil {
			return err
		}
	}
	f.Assignee = c.Query("assignee")
	if f.Before, err = intQuery(c, "before"); err != nil {
		return err
	}
	limit, err := intQuery(c, "limit")
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	cs, err := h.mon.Cases(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := caseList{Cases: cs}
	if len(cs) == f.PageSize() {
		out.Next = cs[len(cs)-1].ID
	}
	return c.JSON(out)
}

func (h riskHandlers) getCase(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	k, err := h.mon.Case(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(k)
}

// assignRequest is the body of POST /api/v1/cases/{id}/assign; an empty
// body or assignee assigns the case to the caller.
type assignRequest struct {
	Assignee string `json:"assignee"`
}

func (h riskHandlers) assignCase(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req assignRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	k, err := h.s.svc.AssignCase(c.UserContext(), callerOf(c), id, req.Assignee)
	if err != nil {
		return err
	}
	return c.JSON(k)
}

// resolveRequest is the body of POST /api/v1/cases/{id}/resolve.
type resolveRequest struct {
	// Outcome is confirmed or dismissed (default).
	Outcome string `json:"outcome"`
	// Note says what was found and done; required.
	Note string `json:"note"`
}

func (h riskHandlers) resolveCase(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req resolveRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	k, err := h.s.svc.ResolveCase(c.UserContext(), callerOf(c), id, risk.Outcome(req.Outcome), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(k)
}

// complaintRequest is the JSON body of POST /api/v1/complaints. A photo
// goes in Photo as base64, or as the multipart file field "photo" (with
// the other fields as form values).
type complaintRequest struct {
	SN       string `json:"sn"`
	Category string `json:"category"`
	Text     string `json:"text"`
	Photo    string `json:"photo,omitempty"`
}

func (h riskHandlers) fileComplaint(c *fiber.Ctx) error {
	req, photo, err := h.complaintBody(c)
	if err != nil {
		return err
	}
	cat, err := risk.ParseCategory(req.Category)
	if err != nil {
		return err
	}
	out, err := h.s.svc.FileComplaint(c.UserContext(), callerOf(c), risk.Complaint{SN: req.SN, Category: cat, Text: req.Text}, photo)
	if errors.Is(err, scan.ErrBusy) {
		return retryAfter(err, retryBusy) // the photo's decode memory stayed taken
	}
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(out)
}

// complaintBody reads a complaint from a JSON or multipart body.
func (h riskHandlers) complaintBody(c *fiber.Ctx) (complaintRequest, *risk.Photo, error) {
	var req complaintRequest
	max := h.mon.Config().MaxPhotoBytes
	if mediaType(c) != fiber.MIMEMultipartForm {
		if err := decodeJSON(c, &req); err != nil {
			return req, nil, err
		}
		if req.Photo == "" {
			return req, nil, nil
		}
		if base64.StdEncoding.DecodedLen(len(req.Photo)) > max+2 {
			return req, nil, fmt.Errorf("%w: photo exceeds %d bytes", risk.ErrTooLarge, max)
		}
		data, err := base64.StdEncoding.DecodeString(req.Photo)
		if err != nil {
			return req, nil, badRequest("photo is not base64: %v", err)
		}
		return req, photoOf(data), nil
	}
	req.SN, req.Category, req.Text = c.FormValue("sn"), c.FormValue("category"), c.FormValue("text")
	fh, err := c.FormFile("photo")
	if err != nil {
		return req, nil, nil // no photo attached
	}
	if fh.Size > int64(max) {
		return req, nil, fmt.Errorf("%w: photo is %d bytes, at most %d allowed", risk.ErrTooLarge, fh.Size, max)
	}
	f, err := fh.Open()
	if err != nil {
		return req, nil, badRequest("multipart field photo: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return req, nil, badRequest("multipart field photo: %v", err)
	}
	return req, photoOf(data), nil
}

// photoOf types data by sniffing it; the client's claim is not trusted.
// The monitor decodes the photo and stores it re-encoded.
func photoOf(data []byte) *risk.Photo {
	return &risk.Photo{Type: http.DetectContentType(data), Data: data}
}

// complaintList is the answer of GET /api/v1/complaints.
type complaintList struct {
	Complaints []risk.Complaint `json:"complaints"`
}

func (h riskHandlers) listComplaints(c *fiber.Ctx) error {
	k, _ := principal(c)
	merchant := k.MerchantNo
	if k.Role == auth.RoleAdmin || k.Role == auth.RoleReviewer {
		merchant = c.Query("merchant")
	}
	cs, err := h.mon.Complaints(c.UserContext(), merchant)
	if err != nil {
		return err
	}
	return c.JSON(complaintList{Complaints: cs})
}

func (h riskHandlers) complaintPhoto(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	p, err := h.mon.ComplaintPhoto(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, p.Type)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", "default-src 'none'")
	return c.Send(p.Data)
}

// appVersion is what the client says about itself: the X-App-Version
// header or an app_version form field.
func appVersion(c *fiber.Ctx) string {
	if v := c.Get("X-App-Version"); v != "" {
		return v
	}
	if mediaType(c) == fiber.MIMEMultipartForm {
		return c.FormValue("app_version")
	}
	return ""
}

// location is the position the app reported: the X-Location header
// ("LAT,LON") or lat and lon form fields.
func location(c *fiber.Ctx) (lat, lon *float64) {
	v := c.Get("X-Location")
	if v == "" && mediaType(c) == fiber.MIMEMultipartForm && c.FormValue("lat") != "" {
		v = c.FormValue("lat") + "," + c.FormValue("lon")
	}
	a, b, ok := strings.Cut(v, ",")
	if !ok {
		return nil, nil
	}
	la, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lo, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil {
		return nil, nil
	}
	return &la, &lo
}

// idParam returns the positive integer {id} path parameter.
func idParam(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("id %q is not a positive integer", c.Params("id"))
	}
	return id, nil
}

// intQuery returns the non-negative integer query parameter name, 0 when absent.
func intQuery(c *fiber.Ctx, name string) (int64, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badRequest("%s=%q is not a non-negative integer", name, v)
	}
	return n, nil
}
