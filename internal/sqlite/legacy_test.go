package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"posid/internal/registry"
	"posid/internal/registry/registrytest"
)

// createLegacy stores d the way stores did before history rows named
// their merchant (schema version 6 and older), for migration tests.
func createLegacy(t testing.TB, db *DB, d registry.Device) {
	t.Helper()
	if err := insertLegacy(db, d); err != nil {
		t.Fatal(err)
	}
}

// insertLegacy is createLegacy returning its error.
func insertLegacy(db *DB, d registry.Device) error {
	ctx := context.Background()
	if err := d.Validate(); err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		now := fmtTime(db.now())
		if _, err := tx.ExecContext(ctx, `INSERT INTO devices (sn, model, manufacturer, supplier_code, batch, produced_on, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.SN, d.Model, d.Manufacturer, d.SupplierCode, d.Batch, d.ProducedOn.String(), string(d.Status), now, now); err != nil {
			return err
		}
		if d.Registration != nil {
			if err := (deviceStore{db}).putRegistration(ctx, tx, d.SN, d.Registration); err != nil {
				return err
			}
		}
		for _, c := range registry.Created(d) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO history (sn, actor, at, field, old, new) VALUES (?, 't', ?, ?, ?, ?)`, c.SN, now, c.Field, c.Old, c.New); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestMigrationStampsHistoryMerchants builds a version-6 history with a
// move from one merchant to another and checks the merchant each row
// gets: the merchant of its time, and LegacyMixedMerchant for the rows of
// the move, which hold both merchants' values.
func TestMigrationStampsHistoryMerchants(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "posid.db")
	old, err := openVersion(ctx, path, testBox(t), 6)
	if err != nil {
		t.Fatal(err)
	}
	createLegacy(t, old, registrytest.Device("PAX0001"))
	for _, r := range [][4]string{
		{"2030-01-01T00:00:00.000000Z", "status", "active", "suspended"},
		{"2030-02-01T00:00:00.000000Z", "registration.merchant_no", "M001", "M002"},
		{"2030-02-01T00:00:00.000000Z", "registration.merchant_name", "老王餐馆", "新商户"},
		{"2030-03-01T00:00:00.000000Z", "status", "suspended", "active"},
	} {
		if _, err := old.SQL().ExecContext(ctx, `INSERT INTO history (sn, actor, at, field, old, new) VALUES ('PAX0001', 't', ?, ?, ?, ?)`, r[0], r[1], r[2], r[3]); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(ctx, path, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, err := db.Store().History(ctx, "PAX0001")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"M001", "M001", "M001", "*", "*", "M002"}
	if len(cs) != len(want) {
		t.Fatalf("history %+v", cs)
	}
	for i, c := range cs {
		if c.MerchantNo != want[i] {
			t.Errorf("row %d (%s %s→%s): merchant %q, want %q", i, c.Field, c.Old, c.New, c.MerchantNo, want[i])
		}
	}
}
