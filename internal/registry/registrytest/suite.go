// Package registrytest is the conformance suite every registry.Store
// implementation runs: the same behaviour on SQLite and PostgreSQL.
package registrytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/registry"
)

// Opener returns a new, empty store for one test.
type Opener func(t *testing.T) registry.Store

// Run runs the suite against stores made by open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, registry.Store)
	}{
		{"CreateGet", testCreateGet},
		{"Masking", testMasking},
		{"Status", testStatus},
		{"UpdateHistory", testUpdateHistory},
		{"List", testList},
		{"ImportAllOrNothing", testImportAllOrNothing},
		{"ImportUpsert", testImportUpsert},
		{"ImportUpsertKeepsOmitted", testImportUpsertKeepsOmitted},
		{"ImportColumns", testImportColumns},
		{"Concurrent", testConcurrent},
		{"HistoryMerchant", testHistoryMerchant},
		{"TxRollback", testTxRollback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// Account is the settlement account the suite's devices use.
const Account = "6222021234561234"

// Device returns a registered test device.
func Device(sn string) registry.Device {
	return registry.Device{SN: sn, Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B2026",
		Status: registry.StatusActive,
		Registration: &registry.Registration{MerchantNo: "M001", MerchantName: "老王餐馆", TerminalID: "T0001",
			Acquirer: "银联商务", BranchName: "工商银行朝阳支行", BranchAddress: "北京市朝阳区建国路1号",
			Account: Account, Access: registry.Access4G, RegisteredAt: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}}
}

func testCreateGet(t *testing.T, s registry.Store) {
	ctx := context.Background()
	got, err := s.CreateDevice(ctx, "tester", Device("pax-0001"))
	if err != nil {
		t.Fatal(err)
	}
	if got.SN != "PAX-0001" || got.Registration == nil || got.Registration.MerchantName != "老王餐馆" {
		t.Fatalf("created = %+v", got)
	}
	if _, err := s.CreateDevice(ctx, "tester", Device("PAX-0001")); !errors.Is(err, registry.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := s.GetDevice(ctx, "NOPE0000", registry.ReadOptions{}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	if _, err := s.GetDevice(ctx, "x'; --", registry.ReadOptions{}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("bad sn: %v", err)
	}
	bad := Device("PAX-0002")
	bad.Model = ""
	if _, err := s.CreateDevice(ctx, "tester", bad); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("invalid device: %v", err)
	}
	if _, err := s.GetDevice(ctx, "PAX-0002", registry.ReadOptions{}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("invalid device was stored: %v", err)
	}
}

func testMasking(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0001"))
	d, err := s.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Registration.Account != "**** 1234" || d.Registration.AccountRevealed {
		t.Fatalf("default read shows %q", d.Registration.Account)
	}
	d, err = s.GetDevice(ctx, "PAX0001", registry.ReadOptions{RevealAccount: true})
	if err != nil {
		t.Fatal(err)
	}
	if d.Registration.Account != Account || !d.Registration.AccountRevealed {
		t.Fatalf("revealed read shows %q", d.Registration.Account)
	}
	page, err := s.ListDevices(ctx, registry.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if page.Devices[0].Registration.Account != "**** 1234" {
		t.Fatalf("list shows %q", page.Devices[0].Registration.Account)
	}

	// A short account shows at most a third of its digits, in reads and
	// in history alike.
	short := "123456789"
	d, err = s.UpdateDevice(ctx, "tester", "PAX0001", registry.Patch{Registration: &registry.RegistrationPatch{Account: &short}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Registration.Account != "**** 789" {
		t.Fatalf("9-digit account read shows %q", d.Registration.Account)
	}
	hist, err := s.History(ctx, "PAX0001")
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Field != "registration.account" || last.Old != "**** 1234" || last.New != "**** 789" {
		t.Fatalf("account history row %+v", last)
	}
}

func testStatus(t *testing.T, s registry.Store) {
	ctx := context.Background()
	dev := Device("PAX0001")
	dev.Status, dev.Registration = registry.StatusProvisioned, nil
	mustCreate(t, s, dev)
	steps := []struct {
		to registry.Status
		ok bool
	}{
		{registry.StatusActive, false}, // must ship first
		{registry.StatusShipped, true},
		{registry.StatusActive, true},
		{registry.StatusSuspended, true},
		{registry.StatusActive, true},
		{registry.StatusRetired, true},
		{registry.StatusActive, false}, // retired is final
	}
	for _, st := range steps {
		_, err := s.SetStatus(ctx, "ops", "PAX0001", st.to)
		if (err == nil) != st.ok {
			t.Fatalf("→ %s: err = %v, want ok=%v", st.to, err, st.ok)
		}
		if err != nil && !errors.Is(err, registry.ErrTransition) {
			t.Fatalf("→ %s: %v does not wrap ErrTransition", st.to, err)
		}
	}
	h, err := s.History(ctx, "PAX0001")
	if err != nil {
		t.Fatal(err)
	}
	// created + 5 accepted changes; the refused ones leave no trace.
	if len(h) != 6 || h[0].Field != "created" || h[5].Old != "active" || h[5].New != "retired" || h[5].Actor != "ops" {
		t.Fatalf("history = %+v", h)
	}
	if _, err := s.SetStatus(ctx, "ops", "NOPE0000", registry.StatusShipped); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("missing device: %v", err)
	}
}

func testUpdateHistory(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0001"))
	name, acct, model := "王记餐馆", "6222029999995678", "A920Pro"
	d, err := s.UpdateDevice(ctx, "alice", "pax0001", registry.Patch{Model: &model,
		Registration: &registry.RegistrationPatch{MerchantName: &name, Account: &acct}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Model != "A920Pro" || d.Registration.MerchantName != "王记餐馆" || d.Registration.Account != "**** 5678" {
		t.Fatalf("updated = %+v", d)
	}
	full, _ := s.GetDevice(ctx, "PAX0001", registry.ReadOptions{RevealAccount: true})
	if full.Registration.Account != acct {
		t.Fatalf("stored account = %q", full.Registration.Account)
	}
	h, err := s.History(ctx, "PAX0001")
	if err != nil {
		t.Fatal(err)
	}
	byField := map[string]registry.Change{}
	for _, c := range h {
		byField[c.Field] = c
		if c.Old == Account || c.New == acct || c.New == Account {
			t.Fatalf("history holds a full account number: %+v", c)
		}
	}
	if c := byField["model"]; c.Old != "A920" || c.New != "A920Pro" || c.Actor != "alice" || c.At.IsZero() {
		t.Fatalf("model change = %+v", c)
	}
	if c := byField["registration.merchant_name"]; c.Old != "老王餐馆" || c.New != "王记餐馆" {
		t.Fatalf("name change = %+v", c)
	}
	if c := byField["registration.account"]; c.Old != "**** 1234" || c.New != "**** 5678" {
		t.Fatalf("account change = %+v", c)
	}
	// A no-op patch writes no history.
	n := len(h)
	if _, err := s.UpdateDevice(ctx, "alice", "PAX0001", registry.Patch{Model: &model}); err != nil {
		t.Fatal(err)
	}
	if h2, _ := s.History(ctx, "PAX0001"); len(h2) != n {
		t.Fatalf("no-op patch added history: %d → %d", n, len(h2))
	}
	empty := ""
	if _, err := s.UpdateDevice(ctx, "alice", "PAX0001", registry.Patch{Model: &empty}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("empty model: %v", err)
	}
	if _, err := s.History(ctx, "NOPE0000"); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("history of missing device: %v", err)
	}
}

func testList(t *testing.T, s registry.Store) {
	ctx := context.Background()
	for i := 0; i < 25; i++ {
		d := Device(fmt.Sprintf("PAX%04d", i))
		if i%5 == 0 {
			d.Registration.MerchantNo = "M999"
		}
		if i%2 == 0 {
			d.Status = registry.StatusSuspended
		}
		mustCreate(t, s, d)
	}
	var all []registry.Device
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		p, err := s.ListDevices(ctx, registry.Filter{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Devices...)
		if p.Next == "" {
			break
		}
		cursor = p.Next
	}
	if len(all) != 25 || all[0].SN != "PAX0000" || all[24].SN != "PAX0024" {
		t.Fatalf("paged %d devices", len(all))
	}
	p, err := s.ListDevices(ctx, registry.Filter{MerchantNo: "M999"})
	if err != nil || len(p.Devices) != 5 {
		t.Fatalf("merchant filter: %d, %v", len(p.Devices), err)
	}
	p, err = s.ListDevices(ctx, registry.Filter{Status: registry.StatusSuspended, MerchantNo: "M999"})
	if err != nil || len(p.Devices) != 3 {
		t.Fatalf("status+merchant filter: %d, %v", len(p.Devices), err)
	}
	p, err = s.ListDevices(ctx, registry.Filter{SNPrefix: "PAX001"})
	if err != nil || len(p.Devices) != 10 || p.Devices[0].SN != "PAX0010" {
		t.Fatalf("SN prefix filter: %d, %v", len(p.Devices), err)
	}
	p, err = s.ListDevices(ctx, registry.Filter{SNPrefix: "PAX002", Model: "A920", Limit: 2})
	if err != nil || len(p.Devices) != 2 || p.Next == "" {
		t.Fatalf("SN prefix and model filter, first page: %d, %v", len(p.Devices), err)
	}
	p, err = s.ListDevices(ctx, registry.Filter{SNPrefix: "PAX002", Model: "A920", Limit: 10, Cursor: p.Next})
	if err != nil || len(p.Devices) != 3 || p.Devices[0].SN != "PAX0022" {
		t.Fatalf("SN prefix and model filter, second page: %d, %v", len(p.Devices), err)
	}
	p, err = s.ListDevices(ctx, registry.Filter{Model: "NOPE"})
	if err != nil || len(p.Devices) != 0 {
		t.Fatalf("model filter: %d, %v", len(p.Devices), err)
	}
	p, err = s.ListDevices(ctx, registry.Filter{SNPrefix: "PAX%"})
	if err != nil || len(p.Devices) != 0 {
		t.Fatalf("SN prefix is not a pattern: %d, %v", len(p.Devices), err)
	}
	if _, err := s.ListDevices(ctx, registry.Filter{Cursor: "%%%"}); !errors.Is(err, registry.ErrInvalid) {
		t.Fatalf("bad cursor: %v", err)
	}
}

func testImportAllOrNothing(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0003"))
	recs := []registry.Record{
		{Line: 2, Device: Device("PAX0001")},
		{Line: 3, Device: Device("PAX0002")},
		{Line: 4, Device: Device("PAX0003")}, // exists
	}
	_, err := s.Import(ctx, "importer", recs, registry.ImportCreate)
	var ie *registry.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0].Line != 4 {
		t.Fatalf("import err = %v", err)
	}
	for _, sn := range []string{"PAX0001", "PAX0002"} {
		if _, err := s.GetDevice(ctx, sn, registry.ReadOptions{}); !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("%s written by a rejected import: %v", sn, err)
		}
	}
	sum, err := s.Import(ctx, "importer", recs[:2], registry.ImportCreate)
	if err != nil || sum.Created != 2 {
		t.Fatalf("import = %+v, %v", sum, err)
	}
	h, _ := s.History(ctx, "PAX0001")
	if len(h) == 0 || h[0].Actor != "importer" {
		t.Fatalf("import history = %+v", h)
	}
}

func testImportUpsert(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0001"))
	changed := Device("PAX0001")
	changed.Registration.MerchantName = "新名字"
	sum, err := s.Import(ctx, "importer", []registry.Record{{Line: 2, Device: changed}, {Line: 3, Device: Device("PAX0002")}}, registry.ImportUpsert)
	if err != nil || sum.Updated != 1 || sum.Created != 1 {
		t.Fatalf("upsert = %+v, %v", sum, err)
	}
	sum, err = s.Import(ctx, "importer", []registry.Record{{Line: 2, Device: changed}}, registry.ImportUpsert)
	if err != nil || sum.Unchanged != 1 {
		t.Fatalf("repeat upsert = %+v, %v", sum, err)
	}
	retired := Device("PAX0001")
	retired.Status = registry.StatusProvisioned // active → provisioned is not allowed
	_, err = s.Import(ctx, "importer", []registry.Record{{Line: 7, Device: retired}}, registry.ImportUpsert)
	var ie *registry.ImportError
	if !errors.As(err, &ie) || ie.Rows[0].Line != 7 {
		t.Fatalf("bad transition in upsert: %v", err)
	}
}

// testImportColumns: the rows a store rejects name their columns as the
// file's header does: a taken SN the SN column, a refused status change
// the status column, a field the store finds invalid that field's column.
func testImportColumns(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0001")) // active
	recs, err := registry.ParseCSV(strings.NewReader("状态,序列号,型号,厂商,供应商代码\n"+
		"provisioned,PAX0001,A920,PAX,SUP1\n,PAX0002,A920,PAX,SUP1\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bad := recs[1]
	bad.Line, bad.Device.Model = 4, "" // not read from the file: the store finds it
	recs = append(recs, bad)
	for _, tc := range []struct {
		mode registry.ImportMode
		want []string // line 2 then line 4: "name=header,..."
	}{
		{registry.ImportCreate, []string{"sn=序列号", "model=型号"}},
		{registry.ImportUpsert, []string{"status=状态", "model=型号"}},
	} {
		_, err := s.Import(ctx, "importer", recs, tc.mode)
		var ie *registry.ImportError
		if !errors.As(err, &ie) || len(ie.Rows) != 2 || ie.Rows[0].Line != 2 || ie.Rows[1].Line != 4 {
			t.Fatalf("mode %v: %v", tc.mode, err)
		}
		for i, r := range ie.Rows {
			var got []string
			for _, c := range r.Columns {
				got = append(got, c.Name+"="+c.Header)
			}
			if strings.Join(got, ",") != tc.want[i] {
				t.Errorf("mode %v, line %d (%s): columns %q, want %q", tc.mode, r.Line, r.Reason, got, tc.want[i])
			}
		}
	}
}

// testImportUpsertKeepsOmitted: a CSV row that leaves out the status, the
// registration or its time keeps the stored values.
func testImportUpsertKeepsOmitted(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0001")) // active, registered 2026-11-01
	bare := Device("PAX0002")
	bare.Registration = nil
	mustCreate(t, s, bare)
	if _, err := s.SetStatus(ctx, "ops", "PAX0002", registry.StatusRevoked); err != nil {
		t.Fatal(err)
	}
	csv := "sn,model,manufacturer,supplier_code,batch\n" +
		"PAX0001,A920,PAX,SUP1,B2027\n" + // batch changes; status and registration not given
		"PAX0002,A920,PAX,SUP1,B2027\n"
	recs, err := registry.ParseCSV(strings.NewReader(csv), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := s.Import(ctx, "importer", recs, registry.ImportUpsert)
	if err != nil || sum.Updated != 2 {
		t.Fatalf("upsert = %+v, %v", sum, err)
	}
	d, _ := s.GetDevice(ctx, "PAX0001", registry.ReadOptions{RevealAccount: true})
	want := Device("PAX0001").Registration
	if d.Batch != "B2027" || d.Status != registry.StatusActive || d.Registration == nil ||
		d.Registration.Account != Account || !d.Registration.RegisteredAt.Equal(want.RegisteredAt) {
		t.Fatalf("after upsert: %+v %+v", d, d.Registration)
	}
	if d, _ := s.GetDevice(ctx, "PAX0002", registry.ReadOptions{}); d.Status != registry.StatusRevoked {
		t.Fatalf("revoked device became %s", d.Status)
	}
	h, _ := s.History(ctx, "PAX0001")
	for _, c := range h {
		if strings.HasPrefix(c.Field, "registration.") || c.Field == "status" {
			t.Fatalf("upsert recorded a change it did not make: %+v", c)
		}
	}
	// A registration row without registered_at keeps the stored time.
	csv = "sn,model,manufacturer,supplier_code,batch,merchant_no,merchant_name,terminal_id,acquirer,account,access\n" +
		"PAX0001,A920,PAX,SUP1,B2027,M001,新店名,T0001,银联商务," + Account + ",4G\n"
	if recs, err = registry.ParseCSV(strings.NewReader(csv), time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx, "importer", recs, registry.ImportUpsert); err != nil {
		t.Fatal(err)
	}
	d, _ = s.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	if d.Registration.MerchantName != "新店名" || !d.Registration.RegisteredAt.Equal(want.RegisteredAt) {
		t.Fatalf("registration after upsert: %+v", d.Registration)
	}
}

func testConcurrent(t *testing.T, s registry.Store) {
	ctx := context.Background()
	mustCreate(t, s, Device("PAX0001"))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			_, err := s.CreateDevice(ctx, "w", Device(fmt.Sprintf("PAXC%03d", i)))
			errs <- err
		}(i)
		go func(i int) {
			defer wg.Done()
			name := fmt.Sprintf("商户%d", i)
			_, err := s.UpdateDevice(ctx, "w", "PAX0001", registry.Patch{Registration: &registry.RegistrationPatch{MerchantName: &name}})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	h, _ := s.History(ctx, "PAX0001")
	if len(h) < 2 {
		t.Fatalf("concurrent updates lost history: %d rows", len(h))
	}
}

func mustCreate(t *testing.T, s registry.Store, d registry.Device) {
	t.Helper()
	if _, err := s.CreateDevice(context.Background(), "tester", d); err != nil {
		t.Fatal(err)
	}
}

// testHistoryMerchant checks that history rows carry the merchant of the
// registration they belong to, and that a move to another merchant puts
// no two merchants' values in one row.
func testHistoryMerchant(t *testing.T, s registry.Store) {
	ctx := context.Background()
	if _, err := s.CreateDevice(ctx, "tester", Device("PAX-0001")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetStatus(ctx, "tester", "PAX-0001", registry.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	no, name := "M002", "新商户"
	if _, err := s.UpdateDevice(ctx, "tester", "PAX-0001", registry.Patch{Registration: &registry.RegistrationPatch{MerchantNo: &no, MerchantName: &name}}); err != nil {
		t.Fatal(err)
	}
	cs, err := s.History(ctx, "PAX-0001")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, c := range cs {
		seen[c.MerchantNo]++
		switch c.MerchantNo {
		case "M001":
			if strings.Contains(c.Old+c.New, "M002") || strings.Contains(c.Old+c.New, name) {
				t.Errorf("M001 row holds M002's values: %+v", c)
			}
		case "M002":
			if strings.Contains(c.Old+c.New, "M001") || strings.Contains(c.Old+c.New, "老王餐馆") {
				t.Errorf("M002 row holds M001's values: %+v", c)
			}
		default:
			t.Errorf("row without merchant: %+v", c)
		}
	}
	if seen["M001"] < 3 || seen["M002"] < 2 {
		t.Errorf("rows by merchant %v: %+v", seen, cs)
	}
}

// testTxRollback checks that a transaction's reads see its writes and
// that nothing it wrote stays when its function fails (the service tests
// check its audit rows on both stores).
func testTxRollback(t *testing.T, s registry.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.InTx(ctx, func(tx registry.Tx) error {
		if _, err := tx.CreateDevice(ctx, "tester", Device("PAX-0001")); err != nil {
			return err
		}
		if d, err := tx.GetDevice(ctx, "PAX-0001", registry.ReadOptions{}); err != nil || d.SN != "PAX-0001" {
			t.Errorf("read inside the transaction: %+v %v", d, err)
		}
		if err := tx.Audit(ctx, audit.Entry{Actor: "tester", Action: audit.ActionCreateDevice, Target: "PAX-0001"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx: %v", err)
	}
	if _, err := s.GetDevice(ctx, "PAX-0001", registry.ReadOptions{}); !errors.Is(err, registry.ErrNotFound) {
		t.Fatalf("device of a failed transaction: %v", err)
	}
}
