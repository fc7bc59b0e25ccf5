package postgres

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"posid/internal/registry"
)

// createLegacy stores d the way stores did before history rows named
// their merchant (schema version 6 and older), for migration tests.
func createLegacy(t testing.TB, db *DB, d registry.Device) {
	t.Helper()
	ctx := context.Background()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
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
	if err != nil {
		t.Fatal(err)
	}
}
