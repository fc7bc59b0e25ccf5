package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/risk"
)

// TestCaseWorkAuditedOverHTTP: a complaint, and the assignment, comment
// and resolution of its case over the API each leave one audit row by the
// calling key, written by the service.
func TestCaseWorkAuditedOverHTTP(t *testing.T) {
	e := newRiskEnv(t)
	var k risk.Complaint
	if st := e.do("POST", "/api/v1/complaints", "m1", map[string]string{"sn": knownSN, "category": "counterfeit", "text": "label smudged"}, &k); st != http.StatusCreated || k.CaseID == 0 || k.MerchantNo != "M001" {
		t.Fatalf("complaint: %d %+v", st, k)
	}
	if st := e.do("POST", "/api/v1/complaints", "rev", map[string]string{"sn": knownSN, "text": "x"}, nil); st != http.StatusForbidden {
		t.Fatalf("reviewer complaint: %d", st)
	}
	base := fmt.Sprintf("/api/v1/cases/%d", k.CaseID)
	var kc risk.Case
	if st := e.do("POST", base+"/assign", "rev", nil, &kc); st != http.StatusOK || !strings.HasSuffix(kc.Assignee, "(rev)") {
		t.Fatalf("assign to self: %d %+v", st, kc)
	}
	var cm risk.Comment
	if st := e.do("POST", base+"/comments", "rev", map[string]string{"text": "asked for a photo"}, &cm); st != http.StatusCreated {
		t.Fatalf("comment: %d", st)
	}
	if st := e.do("POST", base+"/resolve", "admin", map[string]string{"outcome": "confirmed", "note": "fake"}, &kc); st != http.StatusOK || kc.Status != risk.StatusResolved {
		t.Fatalf("resolve: %d %+v", st, kc)
	}
	target := fmt.Sprintf("case:%d", k.CaseID)
	for _, want := range []audit.Entry{
		{Action: audit.ActionFileComplaint, Actor: "(m1)", Target: knownSN, Detail: fmt.Sprintf("complaint=%d case=%d category=counterfeit", k.ID, k.CaseID)},
		{Action: audit.ActionAssignCase, Actor: "(rev)", Target: target, Detail: "assignee=" + kc.Assignee},
		{Action: audit.ActionCommentCase, Actor: "(rev)", Target: target, Detail: fmt.Sprintf("comment=%d", cm.ID)},
		{Action: audit.ActionResolveCase, Actor: "(admin)", Target: target, Detail: "outcome=confirmed"},
	} {
		es, _, err := e.s.deps.Audit.List(context.Background(), audit.Filter{Action: want.Action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || !strings.HasSuffix(es[0].Actor, want.Actor) || es[0].Target != want.Target || es[0].Detail != want.Detail || es[0].RequestID == "" {
			t.Errorf("%s audit rows: %+v, want one by %s on %s with %q", want.Action, es, want.Actor, want.Target, want.Detail)
		}
	}
}
