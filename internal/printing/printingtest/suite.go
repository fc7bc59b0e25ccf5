// Package printingtest is the shared test suite of printing.Store
// implementations: internal/sqlite and internal/postgres run it.
package printingtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"posid/internal/printing"
)

// Run checks the store that open returns (a new, empty one per call).
func Run(t *testing.T, open func(t *testing.T) printing.Store) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)
	t.Run("printers", func(t *testing.T) {
		st := open(t)
		a := printing.Printer{Name: "dock-1", Kind: printing.KindZPL, Address: "10.0.0.5:9100", DPI: 203, Size: "60x40", CreatedAt: at, CreatedBy: "cli:alice"}
		b := printing.Printer{Name: "office", Kind: printing.KindIPP, Address: "ipp://127.0.0.1:631/printers/posid-pdf", DPI: 600, Size: "a4", CreatedAt: at}
		for _, p := range []printing.Printer{b, a} {
			if err := st.AddPrinter(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.AddPrinter(ctx, a); !errors.Is(err, printing.ErrExists) {
			t.Fatalf("second dock-1: %v, want ErrExists", err)
		}
		got, err := st.Printer(ctx, "dock-1")
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Fatalf("Printer = %+v, %v; want %+v", got, err, a)
		}
		ps, err := st.Printers(ctx)
		if err != nil || !reflect.DeepEqual(ps, []printing.Printer{a, b}) {
			t.Fatalf("Printers = %+v, %v", ps, err)
		}
		if err := st.RemovePrinter(ctx, "dock-1"); err != nil {
			t.Fatal(err)
		}
		if err := st.RemovePrinter(ctx, "dock-1"); !errors.Is(err, printing.ErrNotFound) {
			t.Fatalf("second remove: %v, want ErrNotFound", err)
		}
		if _, err := st.Printer(ctx, "dock-1"); !errors.Is(err, printing.ErrNotFound) {
			t.Fatalf("removed printer: %v, want ErrNotFound", err)
		}
	})
	t.Run("jobs", func(t *testing.T) {
		st := open(t)
		var want []printing.Job
		for i := range 5 {
			j := printing.Job{At: at.Add(time.Duration(i) * time.Minute), Actor: "cli:alice", Printer: []string{"dock-1", "office"}[i%2],
				Format: "zpl", Size: "60x40", DPI: 203, Target: "batch:B1", SNs: []string{fmt.Sprintf("PAX%04d", i), "PAX9999"},
				Bytes: int64(1000 + i), Reprints: i % 2, Reprint: i%2 == 1, OK: i != 3}
			if !j.OK {
				j.Error = "printer failed: connection refused"
			}
			id, err := st.AddJob(ctx, j, nil)
			if err != nil {
				t.Fatal(err)
			}
			j.ID = id
			want = append([]printing.Job{j}, want...)
		}
		got, err := st.Jobs(ctx, printing.JobFilter{})
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Jobs = %+v, %v\nwant %+v", got, err, want)
		}
		got, err = st.Jobs(ctx, printing.JobFilter{Printer: "dock-1", Before: want[0].ID, Limit: 1})
		if err != nil || len(got) != 1 || got[0].ID != want[2].ID {
			t.Fatalf("Jobs(dock-1, before %d, 1) = %+v, %v; want job %d", want[0].ID, got, err, want[2].ID)
		}
		// The SNs of the jobs taken are issued with the job; the failed
		// job's own SN is not.
		issued, err := st.Issued(ctx, []string{"PAX0000", "PAX0003", "PAX0004", "PAX9999"})
		if w := map[string]bool{"PAX0000": true, "PAX0004": true, "PAX9999": true}; err != nil || !reflect.DeepEqual(issued, w) {
			t.Fatalf("Issued after the jobs = %v, %v; want %v", issued, err, w)
		}
	})
	t.Run("issued", func(t *testing.T) {
		st := open(t)
		if err := st.MarkIssued(ctx, []string{"PAX0001", "PAX0002"}, at); err != nil {
			t.Fatal(err)
		}
		if err := st.MarkIssued(ctx, []string{"PAX0002", "PAX0003"}, at.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		many := []string{"PAX0003", "NEW0001"}
		for i := range 1200 { // more than one query's worth
			many = append(many, fmt.Sprintf("X%05d", i))
		}
		got, err := st.Issued(ctx, append(many, "PAX0001"))
		want := map[string]bool{"PAX0001": true, "PAX0003": true}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Issued = %v, %v; want %v", got, err, want)
		}
		if got, err := st.Issued(ctx, nil); err != nil || len(got) != 0 {
			t.Fatalf("Issued(nil) = %v, %v", got, err)
		}
	})
}
