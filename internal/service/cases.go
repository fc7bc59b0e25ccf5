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
// stores, appending the audit rows it is given in the transaction of the
// act; who may act, and what each audit row says, are the service's.
type ReviewQueue interface {
	// Assign gives case id to assignee.
	Assign(ctx context.Context, id int64, assignee string, log ...audit.Entry) (risk.Case, error)
	// Resolve closes case id with outcome and note, by the reviewer by.
	Resolve(ctx context.Context, id int64, by string, outcome risk.Outcome, note string, log ...audit.Entry) (risk.Case, error)
	// Comment adds a comment by by to case id; log makes the audit rows
	// of the stored comment.
	Comment(ctx context.Context, id int64, by, text string, log func(risk.Comment) []audit.Entry) (risk.Comment, error)
	// FileComplaint stores c with photo (optional) and opens or joins the
	// complaint case of its SN; log makes the audit rows of the stored
	// complaint.
	FileComplaint(ctx context.Context, c risk.Complaint, photo *risk.Photo, log func(risk.Complaint) []audit.Entry) (risk.Complaint, error)
}

var _ ReviewQueue = (*risk.Monitor)(nil)

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
// is blank (admins and reviewers). The assignment and its audit row
// (audit.ActionAssignCase) commit in one transaction: when the row cannot
// be written the case is not assigned.
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
	return q.Assign(ctx, id, assignee, c.entry(s.now(), audit.ActionAssignCase, caseTarget(id), "assignee="+assignee))
}

// ResolveCase closes review case id with outcome (dismissed when empty)
// and note, by the caller (admins and reviewers). The resolution and its
// audit row (audit.ActionResolveCase) commit in one transaction: when the
// row cannot be written the case stays open.
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
	return q.Resolve(ctx, id, c.Actor, o, note, c.entry(s.now(), audit.ActionResolveCase, caseTarget(id), "outcome="+string(o)))
}

// CommentCase adds the caller's comment to review case id (admins and
// reviewers). The comment and its audit row (audit.ActionCommentCase)
// commit in one transaction: when the row cannot be written the comment
// is not stored.
func (s *Service) CommentCase(ctx context.Context, c Caller, id int64, text string) (risk.Comment, error) {
	q, err := s.reviewQueue()
	if err != nil {
		return risk.Comment{}, err
	}
	if err := mayWorkCases(c); err != nil {
		return risk.Comment{}, err
	}
	at := s.now()
	return q.Comment(ctx, id, c.Actor, text, func(cm risk.Comment) []audit.Entry {
		return []audit.Entry{c.entry(at, audit.ActionCommentCase, caseTarget(id), "comment="+strconv.FormatInt(cm.ID, 10))}
	})
}

// FileComplaint files complaint k with photo (optional) about a device;
// it opens or joins the complaint case of the SN. A merchant files under
// its own merchant number whatever k names; an admin files for the
// merchant k names. The complaint's actor is the caller's key (or the
// caller). The complaint and its audit row (audit.ActionFileComplaint)
// commit in one transaction: when the row cannot be written the complaint
// is not filed.
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
	return q.FileComplaint(ctx, k, photo, func(out risk.Complaint) []audit.Entry {
		detail := fmt.Sprintf("complaint=%d case=%d category=%s", out.ID, out.CaseID, out.Category)
		return []audit.Entry{c.entry(s.now(), audit.ActionFileComplaint, out.SN, detail)}
	})
}
