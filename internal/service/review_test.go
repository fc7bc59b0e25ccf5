package service_test

import (
	"context"
	"errors"
	"testing"

	"posid/internal/audit"
	"posid/internal/risk"
	"posid/internal/service"
)

// caseMonitor is a fakeMonitor with review cases.
type caseMonitor struct {
	fakeMonitor
	cases []risk.Case
}

func (m *caseMonitor) Cases(_ context.Context, f risk.CaseFilter) ([]risk.Case, error) {
	var out []risk.Case
	for _, c := range m.cases {
		if (f.SN == "" || c.SN == f.SN) && (f.Status == "" || c.Status == f.Status) {
			out = append(out, c)
		}
	}
	return out, nil
}

// TestReviewerReveal: a reviewer sees registrations masked, reveals the
// account of a device under review (an open or assigned case) and of no
// other, and every reveal is audited with what put the device under
// review.
func TestReviewerReveal(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			mon := &caseMonitor{cases: []risk.Case{
				{ID: 7, SN: "OWN0001", Status: risk.StatusAssigned},
				{ID: 8, SN: "OTHER0001", Status: risk.StatusResolved},
			}}
			svc := service.New(b.store, b.log, service.Options{Risk: mon})
			v, err := svc.Device(ctx, reviewer, "OWN0001", false)
			if err != nil || v.Registration == nil || v.Registration.Account != "**** 1234" || v.Registration.AccountRevealed {
				t.Fatalf("reviewer read: %+v %v", v.Registration, err)
			}
			v, err = svc.Device(ctx, reviewer, "OWN0001", true)
			if err != nil || v.Registration.Account != "6222021234561234" || !v.Registration.AccountRevealed {
				t.Fatalf("reviewer reveal under review: %+v %v", v.Registration, err)
			}
			if es := auditRows(t, b.log, audit.ActionRevealAccount); len(es) != 1 || es[0].Actor != reviewer.Actor || es[0].Target != "OWN0001" || es[0].Detail != "case=7" {
				t.Fatalf("reveal audit rows: %+v", es)
			}
			for _, sn := range []string{"OTHER0001", "BARE0001"} {
				if _, err := svc.Device(ctx, reviewer, sn, true); !errors.Is(err, service.ErrForbidden) {
					t.Errorf("reviewer reveal of %s (no open case): %v, want forbidden", sn, err)
				}
			}
			if _, err := svc.Device(ctx, merchant, "OWN0001", true); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("merchant reveal: %v", err)
			}
			if es := auditRows(t, b.log, audit.ActionRevealAccount); len(es) != 1 {
				t.Errorf("refused reveals were audited: %+v", es)
			}
		})
	}
}
