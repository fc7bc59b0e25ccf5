package sqlite

import (
	"context"
	"fmt"
	"testing"

	"posid/internal/audit"
)

// BenchmarkAuditAppend measures one audit transaction of N rows, as the
// server's group commit writes them; ns/row is the cost a read pays.
func BenchmarkAuditAppend(b *testing.B) {
	for _, n := range []int{1, 2, 8, 32, 128} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			db, _ := openTest(b)
			log := db.Audit()
			batch := make([]audit.Entry, n)
			for i := range batch {
				batch[i] = audit.Entry{Actor: "apikey:0123456789ab(admin bench)", Action: audit.ActionReadDevice,
					Target: fmt.Sprintf("PAX%09d", i%36), ClientIP: "127.0.0.1", RequestID: "5f0c2a9e1b7d3c48", Detail: "full"}
			}
			ctx := context.Background()
			b.ResetTimer()
			for range b.N {
				if err := log.Append(ctx, batch...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/row")
		})
	}
}
