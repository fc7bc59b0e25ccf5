package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/risk"
	"posid/internal/service"
)

// maxChangePhotoBytes bounds a change request's photo as sent, before it
// is decoded: the limit of complaint photos.
var maxChangePhotoBytes = risk.DefaultConfig().MaxPhotoBytes

// changeReaders read change requests: merchants their own, reviewers and
// admins all of them.
var changeReaders = []auth.Role{auth.RoleMerchant, auth.RoleReviewer, auth.RoleAdmin}

// changeRoutes returns the routes and pages of merchants' change
// requests; Routes appends them when Deps.Changes is set.
func (s *Server) changeRoutes() []Route {
	return append([]Route{
		{"POST", "/api/v1/devices/:sn/change-requests", "File a change request for one registration field of an own device (JSON, or multipart with a photo)", merchantOnly, "changes", s.fileChange},
		{"GET", "/api/v1/change-requests", "List change requests: a merchant's own, all for reviewers and admins (?state=&sn=&merchant=&before=&limit=)", changeReaders, "changes", s.listChanges},
		{"GET", "/api/v1/change-requests/:id", "Get a change request; ?reveal=account shows a settlement account in full (admins, reviewers of a pending request)", changeReaders, "changes", s.getChange},
		{"POST", "/api/v1/change-requests/:id/approve", "Approve a change request: the registration changes, with history and audit rows", reviewWork, "changes", s.approveChange},
		{"POST", "/api/v1/change-requests/:id/reject", "Reject a change request with a note", reviewWork, "changes", s.rejectChange},
		{"POST", "/api/v1/change-requests/:id/withdraw", "Withdraw an own pending change request", merchantOnly, "changes", s.withdrawChange},
		{"GET", "/api/v1/change-requests/:id/photo", "The document photo of a change request", changeReaders, "changes", s.changePhoto},
	}, s.changePageRoutes()...)
}

// isChangeFiling reports whether path is POST /api/v1/devices/{sn}/change-requests,
// the change route that takes a photo.
func isChangeFiling(path string) bool {
	sn, ok := strings.CutPrefix(strings.TrimSuffix(path, "/"), "/api/v1/devices/")
	sn, ok2 := strings.CutSuffix(sn, "/change-requests")
	return ok && ok2 && sn != "" && !strings.Contains(sn, "/")
}

// changeRequest is the JSON body of POST /api/v1/devices/{sn}/change-requests.
// A photo goes in Photo as base64, or as the multipart file field "photo"
// with the other fields as form values.
type changeRequest struct {
	// Field is merchant_name, terminal_id, access, branch or account.
	Field string `json:"field"`
	// Value is the new value; for branch the branch name, with its
	// address in Address.
	Value   string `json:"value"`
	Address string `json:"address,omitempty"`
	Reason  string `json:"reason"`
	Photo   string `json:"photo,omitempty"`
}

// changeList is the answer of GET /api/v1/change-requests.
type changeList struct {
	Requests []changes.Request `json:"requests"`
	// Next is the before= value of the following page, 0 on the last page.
	Next int64 `json:"next,omitempty"`
}

// decisionRequest is the body of approve and reject; a note is required
// to reject.
type decisionRequest struct {
	Note string `json:"note"`
}

func (s *Server) fileChange(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return err
	}
	req, photo, err := changeBody(c)
	if err != nil {
		return err
	}
	r, err := s.svc.FileChangeRequest(c.UserContext(), callerOf(c), service.ChangeFiling{SN: sn, Field: req.Field, Value: req.Value, Address: req.Address, Reason: req.Reason, Photo: photo})
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(r)
}

// changeBody reads a change request from a JSON or multipart body; the
// photo's size is checked before it is read or decoded.
func changeBody(c *fiber.Ctx) (changeRequest, []byte, error) {
	var req changeRequest
	max := maxChangePhotoBytes
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
		return req, data, nil
	}
	req.Field, req.Value, req.Address, req.Reason = c.FormValue("field"), c.FormValue("value"), c.FormValue("address"), c.FormValue("reason")
	fh, err := c.FormFile("photo")
	if err != nil || fh.Size == 0 {
		return req, nil, nil // no photo attached (an empty file input sends none)
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
	return req, data, nil
}

func (s *Server) listChanges(c *fiber.Ctx) error {
	f := changes.Filter{SN: c.Query("sn"), MerchantNo: c.Query("merchant")}
	var err error
	if v := c.Query("state"); v != "" {
		if f.State, err = changes.ParseState(v); err != nil {
			return err
		}
	}
	if f.Before, err = intQuery(c, "before"); err != nil {
		return err
	}
	limit, err := intQuery(c, "limit")
	if err != nil {
		return err
	}
	f.Limit = int(limit)
	rs, err := s.svc.ListChangeRequests(c.UserContext(), callerOf(c), f)
	if err != nil {
		return err
	}
	out := changeList{Requests: rs}
	if len(rs) == f.PageSize() {
		out.Next = rs[len(rs)-1].ID
	}
	return c.JSON(out)
}

func (s *Server) getChange(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	reveal, err := revealAccount(c)
	if err != nil {
		return err
	}
	r, err := s.svc.GetChangeRequest(c.UserContext(), callerOf(c), id, reveal)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// decision reads the note of an approval or rejection; approvals may
// come without a body.
func decision(c *fiber.Ctx) (string, error) {
	var req decisionRequest
	if len(c.Body()) == 0 {
		return "", nil
	}
	if err := decodeJSON(c, &req); err != nil {
		return "", err
	}
	return req.Note, nil
}

func (s *Server) approveChange(c *fiber.Ctx) error {
	return s.decideChange(c, s.svc.ApproveChangeRequest)
}

func (s *Server) rejectChange(c *fiber.Ctx) error {
	return s.decideChange(c, s.svc.RejectChangeRequest)
}

// decideChange runs an approval or rejection of the request named in the
// path, with the note of the body.
func (s *Server) decideChange(c *fiber.Ctx, decide func(context.Context, service.Caller, int64, string) (changes.Request, error)) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	note, err := decision(c)
	if err != nil {
		return err
	}
	r, err := decide(c.UserContext(), callerOf(c), id, note)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) withdrawChange(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	r, err := s.svc.WithdrawChangeRequest(c.UserContext(), callerOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) changePhoto(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	p, err := s.svc.ChangeRequestPhoto(c.UserContext(), callerOf(c), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, p.Type)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Content-Security-Policy", "default-src 'none'")
	return c.Send(p.Data)
}
