package service

import (
	"context"
	"fmt"

	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/risk"
)

// caseLister is a risk monitor that lists its review cases
// (*risk.Monitor); a reviewer may reveal the account of a device with an
// open case.
type caseLister interface {
	Cases(ctx context.Context, f risk.CaseFilter) ([]risk.Case, error)
}

// mayHoldRevealed reports whether a view for c may keep a revealed
// account: admins, and reviewers, whose reveals mayReveal admitted.
func (c Caller) mayHoldRevealed() bool {
	return c.Role == auth.RoleAdmin || c.Role == auth.RoleReviewer
}

// mayReveal admits c to reveal the settlement account of device sn and
// returns why, for the audit row: admins always; reviewers only while the
// device is under review (an open or assigned risk case, or a pending
// change request); nobody else.
func (s *Service) mayReveal(ctx context.Context, c Caller, sn string) (string, error) {
	switch c.Role {
	case auth.RoleAdmin:
		return "", nil
	case auth.RoleReviewer:
		why, err := s.underReview(ctx, sn)
		if err != nil {
			return "", err
		}
		if why == "" {
			return "", forbidden("a reviewer reveals the account only of a device under review (an open case or change request); %s has none", sn)
		}
		return why, nil
	}
	return "", forbidden("only admins and reviewers of a device under review may reveal accounts")
}

// underReview names what puts device sn in the review queue: "case=ID"
// for an open or assigned risk case, "change:ID" for a pending change
// request, "" when nothing does.
func (s *Service) underReview(ctx context.Context, sn string) (string, error) {
	if cl, ok := s.opt.Risk.(caseLister); ok {
		for _, st := range []risk.Status{risk.StatusOpen, risk.StatusAssigned} {
			cs, err := cl.Cases(ctx, risk.CaseFilter{SN: sn, Status: st, Limit: 1})
			if err != nil {
				return "", fmt.Errorf("review queue of %s: %w", sn, err)
			}
			if len(cs) > 0 {
				return fmt.Sprintf("case=%d", cs[0].ID), nil
			}
		}
	}
	if s.opt.Changes != nil {
		rs, err := s.opt.Changes.Requests(ctx, changes.Filter{SN: sn, State: changes.StatePending, Limit: 1})
		if err != nil {
			return "", fmt.Errorf("review queue of %s: %w", sn, err)
		}
		if len(rs) > 0 {
			return changeTarget(rs[0].ID), nil
		}
	}
	return "", nil
}
