package api

import (
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"
)

// actionCommentCase is the audit action of a comment on a review case.
const actionCommentCase = "case.comment"

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
	cm, err := h.mon.Comment(c.UserContext(), id, actorOf(c), req.Text)
	if err != nil {
		return err
	}
	if err := h.s.record(c, actionCommentCase, caseTarget(id), "comment="+strconv.FormatInt(cm.ID, 10)); err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(cm)
}
