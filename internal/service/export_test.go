package service_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"posid/internal/registry"
	"posid/internal/service"
)

// TestExportDevices checks that an export shows each role what its
// device list shows, page after page, and is audited once up front.
func TestExportDevices(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := service.New(b.store, b.log, service.Options{})
			for _, tc := range []struct {
				c    service.Caller
				want map[string]service.Visibility
			}{
				{admin, map[string]service.Visibility{"BARE0001": service.SeeFull, "GONE0001": service.SeeFull, "OTHER0001": service.SeeFull, "OWN0001": service.SeeFull}},
				{warehouse, map[string]service.Visibility{"BARE0001": service.SeeDevice, "GONE0001": service.SeeDevice, "OTHER0001": service.SeeDevice, "OWN0001": service.SeeDevice}},
				{merchant, map[string]service.Visibility{"OWN0001": service.SeeFull}},
				{supplier, map[string]service.Visibility{"BARE0001": service.SeeNoAccount, "GONE0001": service.SeeNoAccount, "OWN0001": service.SeeNoAccount}},
			} {
				e, err := svc.ExportDevices(ctx, tc.c, registry.Filter{}, "", "csv")
				if err != nil {
					t.Fatalf("%s: %v", tc.c.Role, err)
				}
				got := map[string]service.DeviceView{}
				for {
					vs, err := e.Next(ctx)
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					for _, v := range vs {
						got[v.SN] = v
					}
				}
				if len(got) != len(tc.want) || e.Rows != len(tc.want) {
					t.Errorf("%s exports %d devices (%d rows), want %v", tc.c.Role, len(got), e.Rows, tc.want)
				}
				for sn, vis := range tc.want {
					v := got[sn]
					if v.Visibility != vis {
						t.Errorf("%s sees %s as %q, want %q", tc.c.Role, sn, v.Visibility, vis)
					}
					if r := v.Registration; r != nil && (r.AccountRevealed || (r.Account != "" && !strings.HasPrefix(r.Account, "****"))) {
						t.Errorf("%s sees %s's account %q", tc.c.Role, sn, r.Account)
					}
					if tc.c.Role == "supplier" && v.Registration != nil && v.Registration.Account != "" {
						t.Errorf("supplier sees an account of %s", sn)
					}
				}
			}
			if _, err := svc.ExportDevices(ctx, merchant, registry.Filter{MerchantNo: "M002"}, "merchant=M002", "csv"); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("merchant exports another merchant: %v", err)
			}
			if _, err := svc.ExportDevices(ctx, admin, registry.Filter{ReadOptions: registry.ReadOptions{RevealAccount: true}}, "reveal=account", "csv"); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("export with revealed accounts: %v", err)
			}
			if rows := auditRows(t, b.log, "device.export"); len(rows) != 4 {
				t.Errorf("%d export audit rows, want 4", len(rows))
			}
		})
	}
}
