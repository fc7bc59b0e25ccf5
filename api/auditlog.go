package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"posid/internal/audit"
)

// AuditPage is one page of the audit log, newest first.
type AuditPage struct {
	Entries []audit.Entry `json:"entries"`
	// Next is the cursor (?before=) of the following page.
	Next int64 `json:"next,omitempty"`
}

// listAudit serves GET /api/v1/audit?actor=&action=&target=&before=&limit=
// to admins; reading the log is itself logged (Service.AuditLog).
func (s *Server) listAudit(c *fiber.Ctx) error {
	f := audit.Filter{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target")}
	for _, q := range []struct {
		name string
		dst  *int64
		max  int64
	}{{"before", &f.Before, 1 << 62}, {"limit", nil, audit.MaxPageSize}} {
		v := c.Query(q.name)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || n > q.max {
			return badRequest("%s=%q: want a number from 1 to %d", q.name, v, q.max)
		}
		if q.dst != nil {
			*q.dst = n
		} else {
			f.Limit = int(n)
		}
	}
	es, next, err := s.svc.AuditLog(c.UserContext(), callerOf(c), f)
	if err != nil {
		return err
	}
	return c.JSON(AuditPage{Entries: es, Next: next})
}
