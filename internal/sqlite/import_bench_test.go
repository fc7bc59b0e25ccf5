package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posid/internal/registry"
)

// benchCSV returns a device CSV with n fully registered rows.
func benchCSV(n int) string {
	var b strings.Builder
	b.WriteString("sn,model,manufacturer,supplier_code,batch,merchant_no,merchant_name,terminal_id,acquirer,branch_name,branch_address,account,access\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "BENCH%010d,A920Pro,PAX,SUP-PAX,B%03d,M%06d,测试商户%d号店,%08d,银联商务,工商银行朝阳支行,北京市朝阳区建国路%d号,6222021%09d,4G\n",
			i, i/1000, i%5000, i, i, i%500, i)
	}
	return b.String()
}

// BenchmarkImport measures ParseCSV + Store.Import of a 10k-row file into a
// new database, next to a baseline of bare INSERTs of the same device rows
// (one table, no validation, encryption or history) in the same run.
func BenchmarkImport(b *testing.B) {
	const rows = 10000
	data := benchCSV(rows)
	ctx := context.Background()
	b.Run("posid", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "b.db"), testBox(b))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			recs, err := registry.ParseCSV(strings.NewReader(data), time.Now())
			if err != nil {
				b.Fatal(err)
			}
			if _, err := db.Store().Import(ctx, "bench", recs, registry.ImportCreate); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("bare-insert", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db, err := Open(ctx, filepath.Join(b.TempDir(), "b.db"), testBox(b))
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			err = db.inTx(ctx, func(tx *sql.Tx) error {
				st, err := tx.PrepareContext(ctx, `INSERT INTO devices (sn, model, manufacturer, supplier_code, batch, produced_on, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', 'active', '', '')`)
				if err != nil {
					return err
				}
				for r := 0; r < rows; r++ {
					if _, err := st.ExecContext(ctx, fmt.Sprintf("BENCH%010d", r), "A920Pro", "PAX", "SUP-PAX", "B1"); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			db.Close()
		}
		b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
