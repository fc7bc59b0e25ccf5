package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/risk"
	"posid/internal/service"
)

// caseActions are the audit actions of review-queue work.
var caseActions = []string{audit.ActionFileComplaint, audit.ActionAssignCase, audit.ActionCommentCase, audit.ActionResolveCase}

// caseAuditCounts returns how many audit rows each case action has.
func caseAuditCounts(t *testing.T, log audit.Log) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, a := range caseActions {
		n[a] = len(auditRows(t, log, a))
	}
	return n
}

// newCaseService returns a service whose risk monitor keeps its review
// queue in b's risk store.
func newCaseService(t *testing.T, b backend) (*service.Service, *risk.Monitor) {
	t.Helper()
	seed(t, b)
	mon := risk.NewMonitor(b.risk, risk.Config{}, nil)
	return service.New(b.store, b.log, service.Options{Risk: mon}), mon
}

// TestCaseWorkRolesAndAudit: merchants file complaints under their own
// merchant number and admins for the merchant they name; admins and
// reviewers assign, comment on and resolve cases; every other role is
// refused and leaves nothing. Each act leaves exactly one audit row with
// its action, target, actor and detail.
func TestCaseWorkRolesAndAudit(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc, mon := newCaseService(t, b)
			keyed := merchant
			keyed.KeyID = "mkey01"
			for _, c := range []service.Caller{warehouse, supplier, reviewer, {Actor: "anonymous"}} {
				if _, err := svc.FileComplaint(ctx, c, risk.Complaint{SN: "OWN0001", Category: risk.CategoryCounterfeit, Text: "x"}, nil); !errors.Is(err, service.ErrForbidden) {
					t.Errorf("complaint by %q: %v, want forbidden", c.Role, err)
				}
			}
			if cs, err := mon.Complaints(ctx, ""); err != nil || len(cs) != 0 {
				t.Fatalf("refused complaints stored: %+v %v", cs, err)
			}

			// A merchant's claim of another merchant number is ignored.
			k, err := svc.FileComplaint(ctx, keyed, risk.Complaint{MerchantNo: "M002", SN: "own0001", Category: risk.CategoryCounterfeit, Text: "label smudged"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if k.MerchantNo != "M001" || k.Actor != "mkey01" || k.SN != "OWN0001" || k.CaseID == 0 {
				t.Fatalf("merchant complaint: %+v", k)
			}
			if es := auditRows(t, b.log, audit.ActionFileComplaint); len(es) != 1 || es[0].Actor != keyed.Actor || es[0].Target != "OWN0001" ||
				es[0].Detail != fmt.Sprintf("complaint=%d case=%d category=counterfeit", k.ID, k.CaseID) {
				t.Fatalf("complaint audit rows: %+v", es)
			}
			a, err := svc.FileComplaint(ctx, admin, risk.Complaint{MerchantNo: "M002", SN: "OTHER0001", Category: risk.CategoryOther, Text: "on behalf"}, nil)
			if err != nil || a.MerchantNo != "M002" || a.Actor != admin.Actor {
				t.Fatalf("admin complaint for M002: %+v %v", a, err)
			}

			id, target := k.CaseID, fmt.Sprintf("case:%d", k.CaseID)
			before := caseAuditCounts(t, b.log)
			for _, c := range []service.Caller{merchant, warehouse, supplier, {Actor: "anonymous"}} {
				if _, err := svc.AssignCase(ctx, c, id, "alice"); !errors.Is(err, service.ErrForbidden) {
					t.Errorf("assign by %q: %v, want forbidden", c.Role, err)
				}
				if _, err := svc.CommentCase(ctx, c, id, "hi"); !errors.Is(err, service.ErrForbidden) {
					t.Errorf("comment by %q: %v, want forbidden", c.Role, err)
				}
				if _, err := svc.ResolveCase(ctx, c, id, risk.OutcomeConfirmed, "done"); !errors.Is(err, service.ErrForbidden) {
					t.Errorf("resolve by %q: %v, want forbidden", c.Role, err)
				}
			}
			if after := caseAuditCounts(t, b.log); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("refused case work was audited: %v → %v", before, after)
			}
			if kc, err := mon.Case(ctx, id); err != nil || kc.Status != risk.StatusOpen || kc.Assignee != "" || len(kc.Comments) != 0 {
				t.Fatalf("refused case work changed the case: %+v %v", kc, err)
			}

			// A blank assignee is the caller.
			kc, err := svc.AssignCase(ctx, reviewer, id, "  ")
			if err != nil || kc.Assignee != reviewer.Actor || kc.Status != risk.StatusAssigned {
				t.Fatalf("assign to self: %+v %v", kc, err)
			}
			cm, err := svc.CommentCase(ctx, reviewer, id, "asked for a photo")
			if err != nil || cm.Actor != reviewer.Actor {
				t.Fatalf("comment: %+v %v", cm, err)
			}
			if _, err := svc.ResolveCase(ctx, admin, id, "maybe", "x"); !errors.Is(err, risk.ErrInvalid) {
				t.Errorf("unknown outcome: %v, want invalid", err)
			}
			if _, err := svc.AssignCase(ctx, admin, 999999, "bob"); !errors.Is(err, risk.ErrNotFound) {
				t.Errorf("assign of a missing case: %v, want not found", err)
			}
			kc, err = svc.ResolveCase(ctx, admin, id, "", "label reprinted")
			if err != nil || kc.Status != risk.StatusResolved || kc.Outcome != risk.OutcomeDismissed || kc.ResolvedBy != admin.Actor {
				t.Fatalf("resolve: %+v %v", kc, err)
			}
			for _, want := range []audit.Entry{
				{Action: audit.ActionAssignCase, Actor: reviewer.Actor, Detail: "assignee=" + reviewer.Actor},
				{Action: audit.ActionCommentCase, Actor: reviewer.Actor, Detail: fmt.Sprintf("comment=%d", cm.ID)},
				{Action: audit.ActionResolveCase, Actor: admin.Actor, Detail: "outcome=dismissed"},
			} {
				es := auditRows(t, b.log, want.Action)
				if len(es) != 1 || es[0].Actor != want.Actor || es[0].Target != target || es[0].Detail != want.Detail {
					t.Errorf("%s audit rows: %+v, want one by %s on %s with %q", want.Action, es, want.Actor, target, want.Detail)
				}
			}
		})
	}
}

// TestCaseWorkFailsWithoutAudit: with the audit log down, every act on
// the review queue returns the audit error and changes nothing: the case
// is neither assigned nor resolved, and no comment, complaint or case is
// stored, since each act and its audit row are one transaction.
func TestCaseWorkFailsWithoutAudit(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc, _ := newCaseService(t, b)
			k, err := svc.FileComplaint(ctx, merchant, risk.Complaint{SN: "OWN0001", Category: risk.CategoryOther, Text: "first"}, nil)
			if err != nil {
				t.Fatal(err)
			}
			b.exec(t, breakAudit[b.name])
			_, errFile := svc.FileComplaint(ctx, merchant, risk.Complaint{SN: "OWN0001", Category: risk.CategoryOther, Text: "second"}, nil)
			_, errNewCase := svc.FileComplaint(ctx, merchant2, risk.Complaint{SN: "OTHER0001", Category: risk.CategoryCounterfeit, Text: "new case"}, nil)
			_, errAssign := svc.AssignCase(ctx, reviewer, k.CaseID, "alice")
			_, errComment := svc.CommentCase(ctx, reviewer, k.CaseID, "note")
			_, errResolve := svc.ResolveCase(ctx, admin, k.CaseID, risk.OutcomeConfirmed, "done")
			for name, err := range map[string]error{"complaint": errFile, "complaint on a new case": errNewCase, "assign": errAssign, "comment": errComment, "resolve": errResolve} {
				if err == nil || !strings.Contains(err.Error(), "audit log unavailable") {
					t.Errorf("%s with the audit log down: %v, want the audit error", name, err)
				}
			}
			kc, err := b.risk.GetCase(ctx, k.CaseID)
			if err != nil {
				t.Fatal(err)
			}
			if kc.Status != risk.StatusOpen || kc.Assignee != "" || kc.Outcome != "" || kc.ResolvedBy != "" {
				t.Errorf("case after failed acts: status %s assignee %q outcome %q by %q, want open and unassigned", kc.Status, kc.Assignee, kc.Outcome, kc.ResolvedBy)
			}
			if len(kc.Comments) != 0 || len(kc.Complaints) != 1 {
				t.Errorf("case after failed acts: %d comments, %d complaints, want 0 and 1", len(kc.Comments), len(kc.Complaints))
			}
			if cs, err := b.risk.ListComplaints(ctx, "", risk.MaxPageSize); err != nil || len(cs) != 1 {
				t.Errorf("complaints after failed filings: %d %v, want 1", len(cs), err)
			}
			if cs, err := b.risk.ListCases(ctx, risk.CaseFilter{}); err != nil || len(cs) != 1 {
				t.Errorf("cases after failed filings: %d %v, want 1", len(cs), err)
			}
		})
	}
}

// TestCaseWorkWithoutQueue: a service without a risk monitor refuses
// case work with ErrNoRisk.
func TestCaseWorkWithoutQueue(t *testing.T) {
	b := backends(t)[0]
	svc := service.New(b.store, b.log, service.Options{Risk: &fakeMonitor{}})
	if _, err := svc.AssignCase(context.Background(), admin, 1, "alice"); !errors.Is(err, service.ErrNoRisk) {
		t.Errorf("assign without a review queue: %v", err)
	}
	if _, err := service.New(b.store, b.log, service.Options{}).FileComplaint(context.Background(), merchant, risk.Complaint{SN: "OWN0001", Text: "x"}, nil); !errors.Is(err, service.ErrNoRisk) {
		t.Errorf("complaint without a risk monitor: %v", err)
	}
}
