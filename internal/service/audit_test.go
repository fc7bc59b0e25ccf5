package service_test

import (
	"context"
	"errors"
	"testing"

	"posid/internal/audit"
	"posid/internal/registry"
	"posid/internal/service"
)

// TestWriteAndAuditCommitTogether breaks the audit log and checks that no
// write of the service is stored without its audit row, and that a
// working log gets one row per write, in the write's transaction.
func TestWriteAndAuditCommitTogether(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := updatedService(t, b)
			if es := auditRows(t, b.log, audit.ActionUpdateDevice); len(es) != 1 || es[0].Actor != admin.Actor {
				t.Fatalf("update audit rows: %+v", es)
			}
			recs := []registry.Record{
				{Line: 2, KeepStatus: true, Device: registry.Device{SN: "BARE0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP2", Batch: "B9"}},
				{Line: 3, Device: registry.Device{SN: "REG0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Registration: &registry.Registration{
					MerchantNo: "M003", MerchantName: "n", TerminalID: "T3", Acquirer: "a", Access: registry.Access4G}}},
			}
			if _, err := svc.Import(ctx, admin, recs, registry.ImportUpsert); err != nil {
				t.Fatal(err)
			}
			for action, want := range map[string]string{audit.ActionSetSupplier: "devices=1 sns=BARE0001", audit.ActionBindMerchant: "devices=1 sns=REG0001"} {
				if es := auditRows(t, b.log, action); len(es) != 1 || es[0].Detail != want {
					t.Errorf("import %s rows: %+v, want %q", action, es, want)
				}
			}
			b.exec(t, breakAudit[b.name])
			batch := "B10"
			if _, err := svc.Update(ctx, admin, "BARE0001", registry.Patch{Batch: &batch}); err == nil {
				t.Error("update with the audit log down succeeded")
			}
			if _, err := svc.SetStatus(ctx, warehouse, "BARE0001", registry.StatusShipped); err == nil {
				t.Error("status change with the audit log down succeeded")
			}
			if _, err := svc.Create(ctx, warehouse, registry.Device{SN: "NEW0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1"}); err == nil {
				t.Error("create with the audit log down succeeded")
			}
			if _, err := svc.Import(ctx, admin, []registry.Record{{Line: 2, Device: registry.Device{SN: "NEW0002", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1"}}}, registry.ImportCreate); err == nil {
				t.Error("import with the audit log down succeeded")
			}
			d, err := b.store.GetDevice(ctx, "BARE0001", registry.ReadOptions{})
			if err != nil || d.Batch != "B9" || d.SupplierCode != "SUP2" || d.Status != registry.StatusProvisioned {
				t.Errorf("unaudited change stored: %+v %v", d, err)
			}
			for _, sn := range []string{"NEW0001", "NEW0002"} {
				if _, err := b.store.GetDevice(ctx, sn, registry.ReadOptions{}); err == nil {
					t.Errorf("unaudited device %s stored", sn)
				}
			}
		})
	}
}

// TestAuditLogRead: only admins read the audit log; each read is logged
// with its filter before the page is returned, and a read that cannot be
// logged returns nothing.
func TestAuditLogRead(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := updatedService(t, b)
			f := audit.Filter{Action: audit.ActionUpdateDevice, Limit: 5}
			for _, c := range []service.Caller{warehouse, merchant, supplier, reviewer, {Actor: "anonymous"}} {
				if es, _, err := svc.AuditLog(ctx, c, f); !errors.Is(err, service.ErrForbidden) || es != nil {
					t.Errorf("%s read the audit log: %d entries, %v", c.Actor, len(es), err)
				}
			}
			if es := auditRows(t, b.log, audit.ActionReadAudit); len(es) != 0 {
				t.Fatalf("refused reads were logged: %+v", es)
			}
			es, _, err := svc.AuditLog(ctx, admin, f)
			if err != nil || len(es) != 1 || es[0].Target != "BARE0001" {
				t.Fatalf("admin read %+v, %v; want the one update", es, err)
			}
			reads := auditRows(t, b.log, audit.ActionReadAudit)
			if len(reads) != 1 || reads[0].Actor != admin.Actor || reads[0].Detail != "action=device.update&limit=5" {
				t.Fatalf("read rows %+v, want one by the admin with its filter", reads)
			}
			b.exec(t, auditDown(audit.ActionReadAudit)[b.name])
			if es, _, err := svc.AuditLog(ctx, admin, f); err == nil || es != nil {
				t.Errorf("read with its audit row refused: %d entries, %v", len(es), err)
			}
		})
	}
}

// updatedService seeds b and returns a service over it that has made one
// audited write: the batch of BARE0001 set to B9 by the admin.
func updatedService(t *testing.T, b backend) *service.Service {
	t.Helper()
	seed(t, b)
	svc := service.New(b.store, b.log, service.Options{})
	batch := "B9"
	if _, err := svc.Update(context.Background(), admin, "BARE0001", registry.Patch{Batch: &batch}); err != nil {
		t.Fatal(err)
	}
	return svc
}
