package sqlite

import (
	"context"
	"testing"

	"posid/internal/registry"
	"posid/internal/registry/registrytest"
)

// BenchmarkGetDevice measures one device read by SN with its registration
// (the uncached path of a lookup) next to its baseline, the same query with
// the SN written into the SQL: a plan that SQLite re-prepares on every
// bind shows as a ratio well above 1.
func BenchmarkGetDevice(b *testing.B) {
	db, _ := openTest(b)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		b.Fatal(err)
	}
	b.Run("store", func(b *testing.B) {
		st := db.Store()
		for range b.N {
			if _, err := st.GetDevice(ctx, "PAX0001", registry.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline=literal-sn", func(b *testing.B) {
		st := db.Store().(deviceStore)
		q := `SELECT ` + deviceColumns + deviceFrom + ` WHERE d.sn = 'PAX0001'`
		for range b.N {
			if _, err := st.scan(db.sql.QueryRowContext(ctx, q), registry.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
