package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/risk"
)

// ErrNoRisk means the service runs without a risk monitor that keeps a
// review queue (Options.Risk is nil or no ReviewQueue).
var ErrNoRisk = errors.New("no risk review queue configured")

// ReviewQueue is a risk monitor that keeps review cases and merchants'
// complaints (*risk.Monitor). The service works cases and files
// complaints through it when Options.Risk is one. The queue validates and
// stores; who may act, and the audit row of each act, are the service's.
type ReviewQueue interface {
	// Assign gives case id to assignee.
	Assign(ctx context.Context, id int64, assignee string) (risk.Case, error)
	// Resolve closes case id with outcome and note, by the reviewer by.
	Resolve(ctx context.Context, id int64, by string, outcome risk.Outcome, note string) (risk.Case, error)
	// Comment adds a comment by by to case id.
	Comment(ctx context.Context, id int64, by, text string) (risk.Comment, error)
	// FileComplaint stores c with photo (optional) and opens or joins the
	// complaint case of its SN.
	FileComplaint(ctx context.Context, c risk.Complaint, photo *risk.Photo) (risk.Complaint, error)
}

// reviewQueue returns the risk monitor's review queue or ErrNoRisk.
func (s *Service) reviewQueue() (ReviewQueue, error) {
	if q, ok := s.opt.Risk.(ReviewQueue); ok {
		return q, nil
	}
	return nil, ErrNoRisk
}

// mayWorkCases admits admins and reviewers: they assign, comment on and
// resolve review cases.
func mayWorkCases(c Caller) error {
	if c.Role != auth.RoleAdmin && c.Role != auth.RoleReviewer {
		return forbidden("only admins and reviewers review cases")
	}
	return nil
}

// mayFileComplaint admits merchants, each for its own merchant number,
// and admins (posid complain on the database host), for the merchant
// they name.
func mayFileComplaint(c Caller) error {
	if c.Role != auth.RoleMerchant && c.Role != auth.RoleAdmin {
		return forbidden("only merchants file complaints")
	}
	return nil
}

// caseTarget is the audit target of review case id.
func caseTarget(id int64) string { return "case:" + strconv.FormatInt(id, 10) }

// AssignCase gives review case id to assignee, the caller when assignee
// is blank (admins and reviewers). The assignment is audited
// (audit.ActionAssignCase) after the queue stores it; a failed audit
// write is the call's error.
func (s *Service) AssignCase(ctx context.Context, c Caller, id int64, assignee string) (risk.Case, error) {
	q, err := s.reviewQueue()
	if err != nil {
		return risk.Case{}, err
	}
	if err := mayWorkCases(c); err != nil {
		return risk.Case{}, err
	}
	if strings.TrimSpace(assignee) == "" {
		assignee = c.Actor
	}
	k, err := q.Assign(ctx, id, assignee)
	if err != nil {
		return risk.Case{}, err
	}
	if err := s.record(ctx, c, audit.ActionAssignCase, caseTarget(id), "assignee="+assignee); err != nil {
		return risk.Case{}, err
	}
	return k, nil
}

// ResolveCase closes review case id with outcome (dismissed when empty)
// and note, by the caller (admins and reviewers). The resolution is
// audited (audit.ActionResolveCase) after the queue stores it; a failed
// audit write is the call's error.
func (s *Service) ResolveCase(ctx context.Context, c Caller, id int64, outcome risk.Outcome, note string) (risk.Case, error) {
	q, err := s.reviewQueue()
	if err != nil {
		return risk.Case{}, err
	}
	if err := mayWorkCases(c); err != nil {
		return risk.Case{}, err
	}
	o, err := risk.ParseOutcome(string(outcome))
	if err != nil {
		return risk.Case{}, err
	}
	k, err := q.Resolve(ctx, id, c.Actor, o, note)
	if err != nil {
		return risk.Case{}, err
	}
	if err := s.record(ctx, c, audit.ActionResolveCase, caseTarget(id), "outcome="+string(o)); err != nil {
		return risk.Case{}, err
	}
	return k, nil
}

// CommentCase adds the caller's comment to review case id (admins and
// reviewers). The comment is audited (audit.ActionCommentCase) after the
// queue stores it; a failed audit write is the call's error.
func (s *Service) CommentCase(ctx context.Context, c Caller, id int64, text string) (risk.Comment, error) {
	q, err := s.reviewQueue()
	if err != nil {
		return risk.Comment{}, err
	}
	if err := mayWorkCases(c); err != nil {
		return risk.Comment{}, err
	}
	cm, err := q.Comment(ctx, id, c.Actor, text)
	if err != nil {
		return risk.Comment{}, err
	}
	if err := s.record(ctx, c, audit.ActionCommentCase, caseTarget(id), "comment="+strconv.FormatInt(cm.ID, 10)); err != nil {
		return risk.Comment{}, err
	}
	return cm, nil
}

// FileComplaint files complaint k with photo (optional) about a device;
// it opens or joins the complaint case of the SN. A merchant files under
// its own merchant number whatever k names; an admin files for the
// merchant k names. The complaint's actor is the caller's key (or the
// caller). The complaint is audited (audit.ActionFileComplaint) after the
// queue stores it; a failed audit write is the call's error.
func (s *Service) FileComplaint(ctx context.Context, c Caller, k risk.Complaint, photo *risk.Photo) (risk.Complaint, error) {
	q, err := s.reviewQueue()
	if err != nil {
		return risk.Complaint{}, err
	}
	if err := mayFileComplaint(c); err != nil {
		return risk.Complaint{}, err
	}
	k.Actor = c.riskActor()
	if c.Role == auth.RoleMerchant {
		k.MerchantNo = c.MerchantNo
	}
	out, err := q.FileComplaint(ctx, k, photo)
	if err != nil {
		return risk.Complaint{}, err
	}
	detail := fmt.Sprintf("complaint=%d case=%d category=%s", out.ID, out.CaseID, out.Category)
	if err := s.record(ctx, c, audit.ActionFileComplaint, out.SN, detail); err != nil {
		return risk.Complaint{}, err
	}
	return out, nil
}
