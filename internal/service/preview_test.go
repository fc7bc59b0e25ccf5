package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"posid/internal/registry"
	"posid/internal/service"
)

// TestPreviewImport checks an import without writing it: every row the
// import would reject is listed (the rows the caller's role may not
// write among them, on every store), and a clean file returns the
// summary the import would have.
func TestPreviewImport(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := service.New(b.store, b.log, service.Options{})
			dev := func(sn, supplier string, st registry.Status) registry.Device {
				return registry.Device{SN: sn, Model: "A920", Manufacturer: "PAX", SupplierCode: supplier, Batch: "B3", Status: st}
			}
			reg := dev("BARE0001", "SUP1", registry.StatusActive)
			reg.Registration = &registry.Registration{MerchantNo: "M009", MerchantName: "n", TerminalID: "T9", Acquirer: "a", Access: registry.Access4G}
			recs := []registry.Record{
				{Line: 2, Device: dev("NEW0001", "SUP1", registry.StatusProvisioned)},
				{Line: 3, Device: dev("OWN0001", "SUP2", registry.StatusActive)},
				{Line: 4, Device: reg},
				{Line: 5, Device: dev("GONE0001", "SUP1", registry.StatusActive)},
				{Line: 6, Device: dev("OTHER0001", "SUP1", registry.StatusActive)},
			}
			_, err := svc.PreviewImport(ctx, warehouse, recs, registry.ImportUpsert, &registry.ImportError{Rows: []registry.RowError{{Line: 7, SN: "BAD", Reason: "model is required"}}})
			var ie *registry.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("preview: %v, want an ImportError", err)
			}
			lines, cols := map[int]string{}, map[int]string{}
			for _, r := range ie.Rows {
				lines[r.Line] = r.Reason
				for _, c := range r.Columns {
					cols[r.Line] += c.Name + " "
				}
			}
			for line, want := range map[int]string{3: "another supplier", 4: "only admins may import registrations", 5: "revoked", 6: "another supplier", 7: "model is required"} {
				if !strings.Contains(lines[line], want) {
					t.Errorf("line %d: %q, want %q", line, lines[line], want)
				}
			}
			// The rule a row breaks names its column (line 4 breaks two, and
			// only the status one is about a column).
			for line, want := range map[int]string{3: "supplier_code ", 4: "status ", 5: "status ", 6: "supplier_code "} {
				if cols[line] != want {
					t.Errorf("line %d (%s): columns %q, want %q", line, lines[line], cols[line], want)
				}
			}
			if _, ok := lines[2]; ok || len(ie.Rows) != 5 {
				t.Errorf("rows %+v", ie.Rows)
			}
			sum, err := svc.PreviewImport(ctx, admin, recs[:1], registry.ImportCreate, nil)
			if err != nil || sum.Created != 1 || sum.Rows != 1 {
				t.Fatalf("clean preview: %+v %v", sum, err)
			}
			if _, err := b.store.GetDevice(ctx, "NEW0001", registry.ReadOptions{}); !errors.Is(err, registry.ErrNotFound) {
				t.Errorf("a preview wrote NEW0001: %v", err)
			}
			if _, err := svc.PreviewImport(ctx, merchant, recs[:1], registry.ImportCreate, nil); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("merchant preview: %v", err)
			}
			if rows := auditRows(t, b.log, "device.import_preview"); len(rows) != 2 {
				t.Errorf("%d preview audit rows, want 2", len(rows))
			}
			if rows := auditRows(t, b.log, "device.import"); len(rows) != 0 {
				t.Errorf("import audit rows after previews: %+v", rows)
			}
		})
	}
}
