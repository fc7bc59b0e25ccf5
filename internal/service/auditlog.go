package service

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"posid/internal/audit"
	"posid/internal/auth"
)

// AuditLog returns one page of the audit log matching f, newest first,
// and the cursor of the next page (0: none). Only admins read the log,
// and every read is itself logged, with the filter as its detail, before
// the page is returned: the API, the console and the CLI all read it
// here.
func (s *Service) AuditLog(ctx context.Context, c Caller, f audit.Filter) ([]audit.Entry, int64, error) {
	if c.Role != auth.RoleAdmin {
		return nil, 0, forbidden("a %s may not read the audit log", c.Role)
	}
	es, next, err := s.log.List(ctx, f)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	if err := s.record(ctx, c, audit.ActionReadAudit, "audit", filterDetail(f)); err != nil {
		return nil, 0, err
	}
	return es, next, nil
}

// filterDetail writes f as the query of a read of the log
// ("action=device.update&limit=50"), its empty fields left out.
func filterDetail(f audit.Filter) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "target": f.Target} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Before > 0 {
		q.Set("before", strconv.FormatInt(f.Before, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q.Encode()
}
