package service_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"posid/internal/printing"
	"posid/internal/printing/printingtest"
	"posid/internal/registry"
	"posid/internal/service"
	"posid/labels"
)

// rawPrinter is a raw print port on 127.0.0.1: every connection's bytes
// arrive on jobs.
type rawPrinter struct {
	ln   net.Listener
	jobs chan []byte
}

func newRawPrinter(t *testing.T) *rawPrinter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &rawPrinter{ln: ln, jobs: make(chan []byte, 8)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			p.jobs <- b
		}
	}()
	return p
}

func (p *rawPrinter) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-p.jobs:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("the printer got no job")
		return nil
	}
}

// testSigner is a fixed label key: ed25519 signatures are deterministic,
// so the same labels render to the same bytes.
func testSigner(t *testing.T) *labels.Signer {
	t.Helper()
	sg, err := labels.NewSigner(7, ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, ed25519.SeedSize)), "https://verify.posid.example")
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// TestPrintZPL sends labels to a raw 9100 listener and checks the job is
// byte for byte the ZPL the labels package renders for the registry's
// fields; the job is recorded and audited, and printing the same device
// again is a reprint.
func TestPrintZPL(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
			svc := service.New(b.store, b.log, service.Options{Printing: b.printing, Now: func() time.Time { return now }})
			zebra := newRawPrinter(t)
			if _, err := svc.AddPrinter(ctx, warehouse, printing.Printer{Name: "dock", Kind: printing.KindZPL, Address: zebra.ln.Addr().String()}); !errors.Is(err, service.ErrForbidden) {
				t.Fatalf("warehouse adds a printer: %v", err)
			}
			p, err := svc.AddPrinter(ctx, admin, printing.Printer{Name: "Dock", Kind: printing.KindZPL, Address: zebra.ln.Addr().String(), DPI: 300, Size: "50x30"})
			if err != nil || p.Name != "dock" || p.CreatedBy != admin.Actor {
				t.Fatalf("AddPrinter: %+v %v", p, err)
			}
			sg := testSigner(t)
			job, err := svc.Print(ctx, warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"own0001", "BARE0001", "OWN0001"}, Signer: sg})
			if err != nil {
				t.Fatal(err)
			}
			got := zebra.next(t)
			want := []labels.Label{
				{SN: "BARE0001", Model: "A920", Supplier: "SUP1", Manufacturer: "PAX", Batch: "B2", Date: now},
				{SN: "OWN0001", Model: "A920", Supplier: "SUP1", Manufacturer: "PAX", Batch: "B1", Date: now},
			}
			var golden bytes.Buffer
			sz, _ := labels.ParseSize("50x30")
			if _, err := labels.WriteZPL(ctx, &golden, labels.Sealed(labels.SliceSource(want[1:]), sg, time.Now), labels.Options{Size: sz, DPI: 300}); err != nil {
				t.Fatal(err)
			}
			// The labels come in the order asked (OWN0001 first), once each.
			var rest bytes.Buffer
			labels.WriteZPL(ctx, &rest, labels.Sealed(labels.SliceSource(want[:1]), sg, time.Now), labels.Options{Size: sz, DPI: 300})
			golden.Write(rest.Bytes())
			if !bytes.Equal(got, golden.Bytes()) {
				t.Fatalf("printer got %d bytes, the labels package renders %d:\n%.300s\nwant\n%.300s", len(got), golden.Len(), got, golden.Bytes())
			}
			if !job.OK || job.Reprint || job.Bytes != int64(len(got)) || job.Format != "zpl" || job.Size != "50x30" || job.DPI != 300 ||
				strings.Join(job.SNs, ",") != "OWN0001,BARE0001" || job.ID == 0 {
				t.Errorf("job %+v", job)
			}
			again, err := svc.Print(ctx, admin, service.PrintRequest{Printer: "dock", Batch: "B1", Signer: sg})
			if err != nil {
				t.Fatal(err)
			}
			zebra.next(t)
			if !again.Reprint || again.Reprints != 1 || len(again.SNs) != 2 || again.Target != "batch:B1" {
				t.Errorf("second job (OWN0001 printed before): %+v", again)
			}
			jobs, err := svc.PrintJobs(ctx, warehouse, printing.JobFilter{})
			if err != nil || len(jobs) != 2 || jobs[0].ID != again.ID || jobs[1].ID != job.ID {
				t.Errorf("PrintJobs = %+v, %v", jobs, err)
			}
			if issued := auditRows(t, b.log, "labels.print"); len(issued) != 2 || !strings.Contains(issued[0].Detail, "printer=dock") {
				t.Errorf("labels.print rows %+v", issued)
			}
			rows := auditRows(t, b.log, "labels.print_job")
			if len(rows) != 2 || !strings.Contains(rows[0].Detail, "reprints=1") || !strings.Contains(rows[0].Detail, "ok=true") || rows[0].Target != "dock:batch:B1" {
				t.Errorf("audit rows %+v", rows)
			}
		})
	}
}

// TestPrintFails records and audits a job the printer does not take.
func TestPrintFails(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
			ln, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := ln.Addr().String()
			ln.Close() // nobody listens
			if _, err := svc.AddPrinter(ctx, admin, printing.Printer{Name: "gone", Kind: printing.KindZPL, Address: addr}); err != nil {
				t.Fatal(err)
			}
			job, err := svc.Print(ctx, warehouse, service.PrintRequest{Printer: "gone", SNs: []string{"OWN0001"}, Signer: testSigner(t)})
			if !errors.Is(err, printing.ErrPrinter) || job.OK || job.ID == 0 || job.Error == "" || job.Bytes == 0 {
				t.Fatalf("job %+v, %v", job, err)
			}
			rows := auditRows(t, b.log, "labels.print_job")
			if len(rows) != 1 || !strings.Contains(rows[0].Detail, "ok=false") || !strings.Contains(rows[0].Detail, "error=") {
				t.Errorf("audit rows %+v", rows)
			}
			// A failed job issued no label: the next one is no reprint.
			if is, _ := b.printing.Issued(ctx, []string{"OWN0001"}); is["OWN0001"] {
				t.Error("a failed job marked OWN0001 issued")
			}
		})
	}
}

// addDock adds the raw printer "dock" (as admin) to svc, listening on a
// new rawPrinter, and returns the printer.
func addDock(t *testing.T, svc *service.Service) *rawPrinter {
	t.Helper()
	zebra := newRawPrinter(t)
	if _, err := svc.AddPrinter(context.Background(), admin, printing.Printer{Name: "dock", Kind: printing.KindZPL, Address: zebra.ln.Addr().String()}); err != nil {
		t.Fatal(err)
	}
	return zebra
}

// TestPrintRules: the label issuance rules of the label endpoint hold for
// print jobs, and a refused request is no job.
func TestPrintRules(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
			zebra := addDock(t, svc)
			sg := testSigner(t)
			active := &registry.Filter{Status: registry.StatusActive}
			for _, tc := range []struct {
				name string
				c    service.Caller
				req  service.PrintRequest
				want error
			}{
				{"merchant", merchant, service.PrintRequest{Printer: "dock", SNs: []string{"OWN0001"}}, service.ErrForbidden},
				{"supplier", supplier, service.PrintRequest{Printer: "dock", SNs: []string{"OWN0001"}}, service.ErrForbidden},
				{"revoked", warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"GONE0001"}}, service.ErrNotPrintable},
				{"unregistered", warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"NOPE0001"}}, service.ErrUnregistered},
				{"batch with a revoked device", warehouse, service.PrintRequest{Printer: "dock", Batch: "B2"}, service.ErrNotPrintable},
				{"no printer", warehouse, service.PrintRequest{Printer: "nope", SNs: []string{"OWN0001"}}, printing.ErrNotFound},
				{"two selections", warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"OWN0001"}, Batch: "B1"}, registry.ErrInvalid},
				{"no selection", warehouse, service.PrintRequest{Printer: "dock"}, registry.ErrInvalid},
				{"empty filter", warehouse, service.PrintRequest{Printer: "dock", Filter: &registry.Filter{}}, registry.ErrInvalid},
				{"warehouse by merchant", warehouse, service.PrintRequest{Printer: "dock", Filter: &registry.Filter{MerchantNo: "M001"}}, service.ErrForbidden},
				{"filter matches revoked", warehouse, service.PrintRequest{Printer: "dock", Filter: &registry.Filter{SupplierCode: "sup1"}}, service.ErrNotPrintable},
				{"sheet size on ZPL", warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"OWN0001"}, Size: "a4"}, labels.ErrInvalid},
			} {
				tc.req.Signer = sg
				if _, err := svc.Print(ctx, tc.c, tc.req); !errors.Is(err, tc.want) {
					t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
				}
			}
			job, err := svc.Print(ctx, warehouse, service.PrintRequest{Printer: "dock", Filter: active, Signer: sg})
			if err != nil || len(job.SNs) != 2 || job.Target != "status=active" {
				t.Errorf("filter status=active: %+v %v", job, err)
			}
			zebra.next(t)
			// Refused requests are no jobs.
			if jobs, _ := svc.PrintJobs(ctx, admin, printing.JobFilter{}); len(jobs) != 1 || !jobs[0].OK {
				t.Errorf("jobs %+v", jobs)
			}
			if _, err := svc.PrintJobs(ctx, merchant, printing.JobFilter{}); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("merchant lists jobs: %v", err)
			}
		})
	}
}

// TestLabelsCountAsIssued: labels rendered by the label endpoint make a
// later print of the device a reprint.
func TestLabelsCountAsIssued(t *testing.T) {
	b := backends(t)[0]
	ctx := context.Background()
	seed(t, b)
	svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
	if _, err := svc.Labels(ctx, warehouse, service.LabelRequest{SNs: []string{"OWN0001"}}); err != nil {
		t.Fatal(err)
	}
	addDock(t, svc)
	job, err := svc.Print(ctx, warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"OWN0001", "BARE0001"}, Signer: testSigner(t)})
	if err != nil || !job.Reprint || job.Reprints != 1 {
		t.Fatalf("job %+v, %v", job, err)
	}
	if err := svc.RemovePrinter(ctx, admin, "dock"); err != nil {
		t.Fatal(err)
	}
	if jobs, _ := svc.PrintJobs(ctx, admin, printing.JobFilter{}); len(jobs) != 1 {
		t.Errorf("jobs after removing the printer: %+v", jobs)
	}
	if _, err := service.New(b.store, b.log, service.Options{}).Printers(ctx, admin); !errors.Is(err, service.ErrNoPrinting) {
		t.Errorf("no printing store: %v", err)
	}
}

// TestLabelsIssuedWithTheirAuditRow: the label endpoint's audit row and
// the SNs marked issued are one write. With the issue table down, Labels
// fails and leaves no labels.print row (regression: the row was written
// first, then marking the SNs failed, and the log recorded labels that
// never left); with that row refused, no SN is marked issued.
func TestLabelsIssuedWithTheirAuditRow(t *testing.T) {
	issuesDown := map[string]string{
		"sqlite": `CREATE TRIGGER issues_down BEFORE INSERT ON label_issues BEGIN SELECT RAISE(ABORT, 'label issues unavailable'); END`,
		"postgres": `CREATE FUNCTION issues_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'label issues unavailable'; END $$;
		CREATE TRIGGER issues_down BEFORE INSERT ON label_issues FOR EACH ROW EXECUTE FUNCTION issues_down()`,
	}
	for _, tc := range []struct {
		name   string
		broken func(string) string
		want   string
	}{
		{"issues down", func(b string) string { return issuesDown[b] }, "label issues unavailable"},
		{"audit down", func(b string) string { return auditDown("labels.print")[b] }, "audit log unavailable"},
	} {
		for _, b := range backends(t) {
			t.Run(tc.name+"/"+b.name, func(t *testing.T) {
				ctx := context.Background()
				seed(t, b)
				svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
				b.exec(t, tc.broken(b.name))
				ls, err := svc.Labels(ctx, warehouse, service.LabelRequest{SNs: []string{"OWN0001"}})
				if err == nil || !strings.Contains(err.Error(), tc.want) || ls != nil {
					t.Fatalf("labels with %s: %d labels, %v; want none and %q", tc.name, len(ls), err, tc.want)
				}
				if rows := auditRows(t, b.log, "labels.print"); len(rows) != 0 {
					t.Errorf("labels.print rows %+v for labels that never left", rows)
				}
				if is, err := b.printing.Issued(ctx, []string{"OWN0001"}); err != nil || is["OWN0001"] {
					t.Errorf("OWN0001 marked issued (%v) for a label that never left", err)
				}
			})
		}
	}
}

// TestPrintIPP prints a device's label through the service to the
// cups-pdf queue: an IPP printer gets a PDF, the job is recorded with the
// printer's job id, and cups-pdf writes the file.
func TestPrintIPP(t *testing.T) {
	queue := printingtest.CUPS(t)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			tag := make([]byte, 4)
			rand.Read(tag)
			prefix := strings.ToUpper(hex.EncodeToString(tag))
			seedAs(t, b, prefix)
			svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
			if _, err := svc.AddPrinter(ctx, admin, printing.Printer{Name: "office", Kind: printing.KindIPP, Address: queue, DPI: 300}); err != nil {
				t.Fatal(err)
			}
			job, err := svc.Print(ctx, warehouse, service.PrintRequest{Printer: "office", SNs: []string{prefix + "OWN0001"}, Signer: testSigner(t)})
			if err != nil || !job.OK || job.Format != "pdf" || job.PrinterJobID <= 0 {
				t.Fatalf("job %+v, %v", job, err)
			}
			pdf, err := os.ReadFile(printingtest.CUPSOutput(t, prefix+"OWN0001"))
			if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF")) {
				t.Fatalf("cups-pdf output: %.20q %v", pdf, err)
			}
		})
	}
}

// TestPrintAuditDown: with the audit log down no label leaves for the
// printer (regression: the job used to be sent before anything was
// audited), and no job is recorded: a job row is never without its audit
// row (regression: the failed job used to be stored, then its audit row
// refused).
func TestPrintAuditDown(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc, zebra, job, err := printBroken(t, b, breakAudit)
			if err == nil || !strings.Contains(err.Error(), "audit log unavailable") || job.ID != 0 {
				t.Fatalf("print with the audit log down: job %d, %v; want no job and the audit error", job.ID, err)
			}
			select {
			case b := <-zebra.jobs:
				t.Fatalf("the printer got %d bytes with the audit log down", len(b))
			case <-time.After(300 * time.Millisecond):
			}
			if jobs, err := svc.PrintJobs(ctx, admin, printing.JobFilter{}); err != nil || len(jobs) != 0 {
				t.Errorf("jobs recorded with the audit log down: %+v %v", jobs, err)
			}
			if is, _ := b.printing.Issued(ctx, []string{"OWN0001"}); is["OWN0001"] {
				t.Error("OWN0001 marked issued")
			}
		})
	}
}

// breakJobAudit makes the audit rows of print jobs fail, by backend: the
// labels are audited as issued and sent, then the job cannot be recorded.
var breakJobAudit = auditDown("labels.print_job")

// printBroken prints OWN0001 on a test printer "dock" after running the
// trigger SQL broken, and returns the service, the printer and what Print
// returned.
func printBroken(t *testing.T, b backend, broken map[string]string) (*service.Service, *rawPrinter, printing.Job, error) {
	t.Helper()
	seed(t, b)
	svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
	zebra := addDock(t, svc)
	b.exec(t, broken[b.name])
	job, err := svc.Print(context.Background(), warehouse, service.PrintRequest{Printer: "dock", SNs: []string{"OWN0001"}, Signer: testSigner(t)})
	return svc, zebra, job, err
}

// TestPrintJobNotRecordedWithoutAudit: when the job's audit row cannot be
// written after the printer took the labels, Print fails saying so, and
// no job is recorded (regression: the job row used to commit before its
// audit row was refused); the labels stay audited as issued and count as
// issued.
func TestPrintJobNotRecordedWithoutAudit(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc, zebra, job, err := printBroken(t, b, breakJobAudit)
			if err == nil || !strings.Contains(err.Error(), "audit log unavailable") || !strings.Contains(err.Error(), "took the labels") || job.ID != 0 {
				t.Fatalf("print with the job audit down: job %d, %v; want no job and an error saying the labels went out", job.ID, err)
			}
			if got := zebra.next(t); len(got) == 0 {
				t.Error("the printer got no labels")
			}
			if jobs, err := svc.PrintJobs(ctx, admin, printing.JobFilter{}); err != nil || len(jobs) != 0 {
				t.Errorf("jobs recorded without their audit row: %+v %v", jobs, err)
			}
			if rows := auditRows(t, b.log, "labels.print"); len(rows) != 1 {
				t.Errorf("labels.print rows %+v, want the one of the labels sent", rows)
			}
			if rows := auditRows(t, b.log, "labels.print_job"); len(rows) != 0 {
				t.Errorf("labels.print_job rows %+v, want none", rows)
			}
			if is, _ := b.printing.Issued(ctx, []string{"OWN0001"}); !is["OWN0001"] {
				t.Error("OWN0001, printed, is not marked issued")
			}
		})
	}
}

// TestPrinterWriteFailsWithoutAudit: with the audit log down adding and
// removing a printer fail with the audit error and change nothing, since
// each write and its audit row are one transaction.
func TestPrinterWriteFailsWithoutAudit(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := service.New(b.store, b.log, service.Options{Printing: b.printing})
			dock, err := svc.AddPrinter(ctx, admin, printing.Printer{Name: "dock", Kind: printing.KindZPL, Address: "127.0.0.1:9100"})
			if err != nil {
				t.Fatal(err)
			}
			b.exec(t, breakAudit[b.name])
			_, errAdd := svc.AddPrinter(ctx, admin, printing.Printer{Name: "office", Kind: printing.KindIPP, Address: "ipp://127.0.0.1:631/printers/posid-pdf"})
			errRemove := svc.RemovePrinter(ctx, admin, "dock")
			for name, err := range map[string]error{"add": errAdd, "remove": errRemove} {
				if err == nil || !strings.Contains(err.Error(), "audit log unavailable") {
					t.Errorf("%s a printer with the audit log down: %v, want the audit error", name, err)
				}
			}
			ps, err := svc.Printers(ctx, admin)
			if err != nil || len(ps) != 1 || ps[0].Name != dock.Name {
				t.Errorf("printers after failed writes: %+v %v, want only dock", ps, err)
			}
			if err := svc.RemovePrinter(ctx, admin, "nope"); !errors.Is(err, printing.ErrNotFound) {
				t.Errorf("remove an unknown printer with the audit log down: %v, want ErrNotFound", err)
			}
			if rows := auditRows(t, b.log, "printer.add"); len(rows) != 1 {
				t.Errorf("printer.add rows %+v, want dock's", rows)
			}
		})
	}
}
