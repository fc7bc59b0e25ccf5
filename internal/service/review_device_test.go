package service_test

import (
	"errors"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/service"
)

// TestReviewDevice: an admin reviewing a case reads its device audited,
// without handing a lookup to the risk monitor (no evidence, no
// enumeration count); other roles may not review.
func TestReviewDevice(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			seed(t, b)
			mon := &fakeMonitor{}
			s := service.New(b.store, b.log, service.Options{Now: func() time.Time { return now }, Risk: mon})
			ctx := t.Context()
			v, err := s.ReviewDevice(ctx, admin, "own0001")
			if err != nil || v.SN != "OWN0001" || v.Registration == nil {
				t.Fatalf("review as admin: %+v, %v", v, err)
			}
			if es := mon.take(); len(es) != 0 {
				t.Errorf("review handed the monitor %+v", es)
			}
			es, _, err := b.log.List(ctx, audit.Filter{Action: audit.ActionReadDevice, Target: "OWN0001"})
			if err != nil || len(es) != 1 {
				t.Errorf("audit rows of the review: %+v, %v", es, err)
			}
			for _, c := range []service.Caller{merchant, warehouse, supplier} {
				if _, err := s.ReviewDevice(ctx, c, "OWN0001"); !errors.Is(err, service.ErrForbidden) {
					t.Errorf("review as %s: %v", c.Role, err)
				}
			}
			if _, err := s.Device(ctx, admin, "OWN0001", false); err != nil {
				t.Fatal(err)
			}
			if es := mon.take(); len(es) != 1 {
				t.Errorf("a lookup (not a review) handed the monitor %d events, want 1", len(es))
			}
		})
	}
}
