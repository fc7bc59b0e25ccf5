package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

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
	return db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		if _, err := tx.Exec(ctx, `INSERT INTO devices (sn, model, manufacturer, supplier_code, batch, produced_on, status, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, d.SN, d.Model, d.Manufacturer, d.SupplierCode, d.Batch, dateArg(d.ProducedOn), string(d.Status), now); err != nil {
			return err
		}
		if d.Registration != nil {
			if err := (deviceStore{db}).putRegistration(ctx, tx, d.SN, d.Registration); err != nil {
				return err
			}
		}
		for _, c := range registry.Created(d) {
			if _, err := tx.Exec(ctx, `INSERT INTO history (sn, actor, at, field, old, new) VALUES ($1, 't', $2, $3, $4, $5)`, c.SN, now, c.Field, c.Old, c.New); err != nil {
				return err
			}
		}
		return nil
	})
}

// TestMigrationStampsHistoryMerchants is the SQLite test of the same name
// on PostgreSQL.
func TestMigrationStampsHistoryMerchants(t *testing.T) {
	ctx := context.Background()
	u := testURL(t)
	old, err := openVersion(ctx, u, testBox(t), 6)
	if err != nil {
		t.Fatal(err)
	}
	createLegacy(t, old, registrytest.Device("PAX0001"))
	for _, r := range [][4]string{
		{"2030-01-01T00:00:00Z", "status", "active", "suspended"},
		{"2030-02-01T00:00:00Z", "registration.merchant_no", "M001", "M002"},
		{"2030-02-01T00:00:00Z", "registration.merchant_name", "老王餐馆", "新商户"},
		{"2030-03-01T00:00:00Z", "status", "suspended", "active"},
	} {
		if _, err := old.Pool().Exec(ctx, `INSERT INTO history (sn, actor, at, field, old, new) VALUES ('PAX0001', 't', $1, $2, $3, $4)`, r[0], r[1], r[2], r[3]); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(ctx, u, testBox(t))
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
