package service_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"posid/internal/registry"
	"posid/internal/service"
	"posid/labels"
)

// TestAuthorizationMatrix runs every operation of the service as every
// role (admin, warehouse, merchant, supplier, reviewer) on its own
// record, another merchant's and supplier's record, and
// an unregistered one. A cell is the visibility a read returns, "ok" for
// a write, or "403" / "409" for ErrForbidden / registry.ErrTransition.
func TestAuthorizationMatrix(t *testing.T) {
	callers := []service.Caller{admin, warehouse, merchant, supplier, reviewer}
	batch, sup2 := "B9", "SUP2"
	name := "新名字"
	type op func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error)
	view := func(v service.DeviceView, err error) (string, error) { return string(v.Visibility), err }
	write := func(_ service.DeviceView, err error) (string, error) { return "ok", err }
	ops := []struct {
		name string
		op   op
		// want by record (own, other, unregistered), then by caller.
		want [3][5]string
	}{
		{"get", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return view(s.Device(ctx, c, sn, false))
		}, [3][5]string{{"full", "device", "full", "no-account", "full"}, {"full", "device", "public", "public", "full"}, {"full", "device", "public", "no-account", "full"}}},
		{"scan", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			out, err := s.Scan(ctx, c, service.Read{SN: sn, Via: "manual"})
			if out.Device == nil {
				return "none", err
			}
			return string(out.Device.Visibility), err
		}, [3][5]string{{"full", "device", "full", "no-account", "full"}, {"full", "device", "public", "public", "full"}, {"full", "device", "public", "no-account", "full"}}},
		{"reveal", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return view(s.Device(ctx, c, sn, true))
		}, [3][5]string{{"full", "403", "403", "403", "403"}, {"full", "403", "403", "403", "403"}, {"full", "403", "403", "403", "403"}}},
		{"history", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			_, err := s.History(ctx, c, sn)
			return "ok", err
		}, [3][5]string{{"ok", "ok", "ok", "ok", "ok"}, {"ok", "ok", "403", "403", "ok"}, {"ok", "ok", "403", "ok", "ok"}}},
		{"patch batch", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.Update(ctx, c, sn, registry.Patch{Batch: &batch}))
		}, [3][5]string{{"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}}},
		{"patch supplier", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.Update(ctx, c, sn, registry.Patch{SupplierCode: &sup2}))
		}, [3][5]string{{"ok", "403", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}}},
		{"patch registration", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.Update(ctx, c, sn, registry.Patch{Registration: &registry.RegistrationPatch{MerchantName: &name}}))
		}, [3][5]string{{"ok", "403", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}, {"err", "403", "403", "403", "403"}}},
		{"ship", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.SetStatus(ctx, c, sn, registry.StatusShipped))
		}, [3][5]string{{"409", "409", "403", "403", "403"}, {"409", "409", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}}},
		{"suspend", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.SetStatus(ctx, c, sn, registry.StatusSuspended))
		}, [3][5]string{{"ok", "403", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}, {"409", "409", "403", "403", "403"}}},
		{"revoke", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.SetStatus(ctx, c, sn, registry.StatusRevoked))
		}, [3][5]string{{"ok", "403", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}}},
		{"list by merchant", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			d, err := s.Device(ctx, admin, sn, false)
			if err != nil {
				return "", err
			}
			f := registry.Filter{}
			if d.Registration != nil {
				f.MerchantNo = d.Registration.MerchantNo
			}
			p, err := s.Devices(ctx, c, f, "")
			return fmt.Sprint(len(p.Devices) > 0), err
		}, [3][5]string{{"true", "403", "true", "true", "true"}, {"true", "403", "403", "false", "true"}, {"true", "true", "true", "true", "true"}}},
		{"label", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			_, err := s.Label(ctx, c, sn, false, labels.Label{})
			return "ok", err
		}, [3][5]string{{"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}}},
		{"create beside", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			return write(s.Create(ctx, c, registry.Device{SN: sn + "-N", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1"}))
		}, [3][5]string{{"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}}},
		{"import upsert batch", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			d, err := s.Device(ctx, admin, sn, false)
			if err != nil {
				return "", err
			}
			rec := registry.Record{Line: 2, KeepStatus: true, Device: registry.Device{SN: sn, Model: d.Model, Manufacturer: d.Manufacturer, SupplierCode: d.SupplierCode, Batch: "B9"}}
			_, err = s.Import(ctx, c, []registry.Record{rec}, registry.ImportUpsert)
			return "ok", err
		}, [3][5]string{{"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}, {"ok", "ok", "403", "403", "403"}}},
		{"import moves supplier", func(ctx context.Context, s *service.Service, c service.Caller, sn string) (string, error) {
			rec := registry.Record{Line: 2, KeepStatus: true, Device: registry.Device{SN: sn, Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP3"}}
			_, err := s.Import(ctx, c, []registry.Record{rec}, registry.ImportUpsert)
			return "ok", err
		}, [3][5]string{{"ok", "403", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}, {"ok", "403", "403", "403", "403"}}},
	}
	records := []string{"OWN0001", "OTHER0001", "BARE0001"}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := service.New(b.store, b.log, service.Options{})
			n := 0
			for _, o := range ops {
				for ri, rec := range records {
					for ci, c := range callers {
						n++
						prefix := fmt.Sprintf("C%d-", n)
						seedAs(t, b, prefix)
						got, err := o.op(ctx, svc, c, prefix+rec)
						switch {
						case errors.Is(err, service.ErrForbidden):
							got = "403"
						case errors.Is(err, registry.ErrTransition):
							got = "409"
						case err != nil:
							got = "err"
						}
						if want := o.want[ri][ci]; got != want {
							t.Errorf("%s %s as %s: %s (%v), want %s", o.name, rec, c.Role, got, err, want)
						}
					}
				}
			}
		})
	}
}
