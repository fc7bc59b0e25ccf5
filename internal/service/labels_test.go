package service_test

import (
	"context"
	"errors"
	"testing"

	"posid/internal/registry"
	"posid/internal/service"
	"posid/labels"
)

// TestLabelRules checks label issuance on every store: fields from the
// registry, no label for a revoked device or an unknown SN (unless an
// admin allows unregistered SNs), and only admins and the warehouse.
func TestLabelRules(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := service.New(b.store, b.log, service.Options{})
			given := labels.Label{Model: "X9", Supplier: "OTHER"}
			l, err := svc.Label(ctx, warehouse, "own0001", false, given)
			if err != nil || l.SN != "OWN0001" || l.Model != "A920" || l.Supplier != "SUP1" || l.Manufacturer != "PAX" || l.Batch != "B1" {
				t.Errorf("registered: %+v %v", l, err)
			}
			for _, tc := range []struct {
				c     service.Caller
				sn    string
				unreg bool
				want  error
			}{
				{warehouse, "GONE0001", false, service.ErrNotPrintable},
				{admin, "GONE0001", true, service.ErrNotPrintable},
				{admin, "NOPE0001", false, service.ErrUnregistered},
				{warehouse, "NOPE0001", true, service.ErrForbidden},
				{merchant, "OWN0001", false, service.ErrForbidden},
				{supplier, "OWN0001", false, service.ErrForbidden},
			} {
				if _, err := svc.Label(ctx, tc.c, tc.sn, tc.unreg, given); !errors.Is(err, tc.want) {
					t.Errorf("%s %s unregistered=%v: %v, want %v", tc.c.Role, tc.sn, tc.unreg, err, tc.want)
				}
			}
			if l, err := svc.Label(ctx, admin, "NOPE0001", true, given); err != nil || l.Model != "X9" || l.SN != "NOPE0001" {
				t.Errorf("unregistered allowed: %+v %v", l, err)
			}
			if _, err := svc.Labels(ctx, warehouse, service.LabelRequest{Batch: "B2"}); !errors.Is(err, service.ErrNotPrintable) {
				t.Errorf("batch with a revoked device: %v", err)
			}
			ls, err := svc.Labels(ctx, warehouse, service.LabelRequest{Batch: "B1"})
			if err != nil || len(ls) != 2 {
				t.Errorf("batch B1: %+v %v", ls, err)
			}
			if es := auditRows(t, b.log, "labels.print"); len(es) != 1 || es[0].Target != "B1" {
				t.Errorf("label audit rows: %+v", es)
			}
		})
	}
}

// TestJudge checks the verdict on a genuine seal with the registry and
// the printed SN.
func TestJudge(t *testing.T) {
	genuine := labels.Verification{Verdict: labels.Genuine, Seal: labels.Seal{SN: "PAX0001"}}
	active := &registry.Device{SN: "PAX0001", Status: registry.StatusActive}
	for _, tc := range []struct {
		name    string
		v       labels.Verification
		d       *registry.Device
		printed []string
		want    labels.Verdict
	}{
		{"genuine", genuine, active, []string{"pax0001"}, labels.Genuine},
		{"unregistered stays genuine", genuine, nil, nil, labels.Genuine},
		{"revoked device", genuine, &registry.Device{SN: "PAX0001", Status: registry.StatusRevoked}, nil, labels.Withdrawn},
		{"retired device", genuine, &registry.Device{SN: "PAX0001", Status: registry.StatusRetired}, nil, labels.Withdrawn},
		{"printed SN differs", genuine, active, []string{"PAX0002"}, labels.Mismatch},
		{"printed text that is no SN", genuine, active, []string{"#!"}, labels.Genuine},
		{"forged stays forged", labels.Verification{Verdict: labels.Forged}, active, []string{"PAX0002"}, labels.Forged},
	} {
		if got := service.Judge(tc.v, tc.d, tc.printed); got.Verdict != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.name, got.Verdict, got.Reason, tc.want)
		}
	}
}
