package api

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// commentRequest is the body of POST /api/v1/cases/{id}/comments.
type commentRequest struct {
	Text string `json:"text"`
}

// commentCase serves POST /api/v1/cases/:id/comments: the caller's
// comment on the case, kept with it and audited.
func (h riskHandlers) commentCase(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	var req commentRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	cm, err := h.s.svc.CommentCase(c.UserContext(), callerOf(c), id, req.Text)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(cm)
}
