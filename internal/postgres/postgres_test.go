package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"posid/internal/changes"
	"posid/internal/changes/changestest"
	"posid/internal/postgres/pgtest"
	"posid/internal/printing"
	"posid/internal/printing/printingtest"
	"posid/internal/registry"
	"posid/internal/registry/registrytest"
	"posid/internal/secret"
	"posid/internal/users/userstest"
)

func testBox(t testing.TB) *secret.Box {
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// testURL creates a schema of its own for t, dropped when t ends, and
// returns a URL whose search_path selects it. Tests skip without POSID_TEST_POSTGRES.
func testURL(t testing.TB) string {
	t.Helper()
	u, _ := pgtest.Schema(t, "t_")
	return u
}

func openTest(t testing.TB) (*DB, string) {
	u := testURL(t)
	db, err := Open(context.Background(), u, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}

func TestStore(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store {
		db, _ := openTest(t)
		return db.Store()
	})
}

func TestAccountEncryptedAtRest(t *testing.T) {
	db, u := openTest(t)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		t.Fatal(err)
	}
	var enc []byte
	var mask, name string
	if err := db.Pool().QueryRow(ctx, `SELECT account_enc, account_mask, merchant_name FROM registrations WHERE sn = 'PAX0001'`).Scan(&enc, &mask, &name); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte(registrytest.Account)) || bytes.Contains(enc, []byte(registrytest.Account[4:12])) || strings.Contains(mask, registrytest.Account[4:12]) {
		t.Fatal("registrations holds the account number in clear")
	}
	if name != "老王餐馆" {
		t.Fatalf("sanity: merchant name %q", name)
	}
	// A ciphertext moved to another device does not open (the SN is bound as AAD).
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0002")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE registrations SET account_enc = $1 WHERE sn = 'PAX0002'`, enc); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store().GetDevice(ctx, "PAX0002", registry.ReadOptions{RevealAccount: true}); !errors.Is(err, secret.ErrDecrypt) {
		t.Fatalf("moved ciphertext: %v", err)
	}
	// A different key is refused at open (see TestKeyCheck).
	other, _ := secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize))
	if db2, err := Open(ctx, u, other); !errors.Is(err, secret.ErrWrongKey) {
		if err == nil {
			db2.Close()
		}
		t.Fatalf("wrong key: %v", err)
	}
}

func TestHistoryAppendOnly(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE history SET actor = 'x'", "DELETE FROM history", "TRUNCATE history"} {
		if _, err := db.Pool().Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v", q, err)
		}
	}
}

// TestMigrationsConcurrent opens one new schema from several goroutines at
// once, as several processes starting together do: each Open succeeds and
// the migrations are recorded once.
func TestMigrationsConcurrent(t *testing.T) {
	u := testURL(t)
	ctx := context.Background()
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := Open(ctx, u, testBox(t))
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(ctx, u, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != distinct || rows == 0 {
		t.Fatalf("schema_migrations: %d rows, %d versions", rows, distinct)
	}
}

func TestErrorMapping(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	bad := registrytest.Device("PAX0001")
	bad.Registration.MerchantName = "bad \xff utf-8"
	tests := []struct {
		name string
		fn   func() error
		want error
	}{
		{"invalid utf-8", func() error { _, err := db.Store().CreateDevice(ctx, "t", bad); return err }, registry.ErrInvalid},
		{"duplicate", func() error {
			if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0002")); err != nil {
				return err
			}
			_, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0002"))
			return err
		}, registry.ErrExists},
		{"bad status row", func() error {
			_, err := db.Pool().Exec(ctx, `UPDATE devices SET status = 'lost' WHERE sn = 'PAX0002'`)
			return mapErr(err)
		}, registry.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.fn(); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// importRecords returns n registered devices, SNs IMP0000000000...
func importRecords(n int) []registry.Record {
	recs := make([]registry.Record, n)
	for i := range recs {
		d := registrytest.Device(fmt.Sprintf("IMP%010d", i))
		d.Registration.TerminalID = fmt.Sprintf("%08d", i)
		d.Registration.Account = fmt.Sprintf("6222021%09d", i)
		recs[i] = registry.Record{Line: i + 2, Device: d}
	}
	return recs
}

func TestImportLarge(t *testing.T) {
	n := 20_000
	if testing.Short() {
		n = 2_000
	}
	db, _ := openTest(t)
	ctx := context.Background()
	s := db.Store()
	start := time.Now()
	sum, err := s.Import(ctx, "importer", importRecords(n), registry.ImportCreate)
	if err != nil || sum.Created != n {
		t.Fatalf("import = %+v, %v", sum, err)
	}
	t.Logf("created %d rows in %v", n, time.Since(start).Round(time.Millisecond))

	// One bad row and one duplicate among n: nothing written, both reported.
	recs := importRecords(n)
	for i := range recs {
		recs[i].Device.SN = fmt.Sprintf("NEW%010d", i)
	}
	recs[n/2].Device.Model = ""
	recs[n-1].Device.SN = "IMP0000000007"
	_, err = s.Import(ctx, "importer", recs, registry.ImportCreate)
	var ie *registry.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 2 || ie.Rows[0].Line != n/2+2 || ie.Rows[1].Line != n+1 {
		t.Fatalf("bad import = %v", err)
	}
	var devices, history int
	db.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM devices), (SELECT count(*) FROM history WHERE sn LIKE 'NEW%')`).Scan(&devices, &history)
	if devices != n || history != 0 {
		t.Fatalf("rejected import wrote: %d devices, %d history rows", devices, history)
	}

	// Upsert: every row changes its merchant name, half are new.
	recs = importRecords(n + n/2)
	for i := range recs {
		recs[i].Device.Registration.MerchantName = "新名字"
	}
	start = time.Now()
	sum, err = s.Import(ctx, "importer", recs, registry.ImportUpsert)
	if err != nil || sum.Updated != n || sum.Created != n/2 {
		t.Fatalf("upsert = %+v, %v", sum, err)
	}
	t.Logf("upserted %d rows in %v", len(recs), time.Since(start).Round(time.Millisecond))
	d, err := s.GetDevice(ctx, "IMP0000000003", registry.ReadOptions{RevealAccount: true})
	if err != nil || d.Registration.MerchantName != "新名字" || d.Registration.Account != "6222021000000003" {
		t.Fatalf("upserted device = %+v, %v", d.Registration, err)
	}
	h, err := s.History(ctx, "IMP0000000003")
	if err != nil || len(h) != 3 || h[2].Field != "registration.merchant_name" {
		t.Fatalf("history = %+v, %v", h, err)
	}
}

// TestImportDuplicateInFile matches the SQLite store: a repeated SN is an
// error when creating, and a later update of the earlier row when upserting.
func TestImportDuplicateInFile(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	s := db.Store()
	a, b := registrytest.Device("PAX0001"), registrytest.Device("PAX0001")
	b.Model = "A80"
	recs := []registry.Record{{Line: 2, Device: a}, {Line: 3, Device: b}}
	_, err := s.Import(ctx, "i", recs, registry.ImportCreate)
	var ie *registry.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || ie.Rows[0].Line != 3 || !strings.Contains(ie.Rows[0].Reason, "exists") {
		t.Fatalf("create = %v", err)
	}
	sum, err := s.Import(ctx, "i", []registry.Record{{Line: 2, Device: registrytest.Device("PAX0001")}, {Line: 3, Device: b}}, registry.ImportUpsert)
	if err != nil || sum.Created != 1 || sum.Updated != 1 {
		t.Fatalf("upsert = %+v, %v", sum, err)
	}
	d, _ := s.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	h, _ := s.History(ctx, "PAX0001")
	if d.Model != "A80" || len(h) != 3 || h[2].Field != "model" {
		t.Fatalf("device %+v, history %+v", d, h)
	}
}

func BenchmarkImport100k(b *testing.B) {
	const n = 100_000
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, _ := openTest(b)
		recs := importRecords(n)
		b.StartTimer()
		if _, err := db.Store().Import(ctx, "bench", recs, registry.ImportCreate); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
}

func TestPrintingStore(t *testing.T) {
	printingtest.Run(t, func(t *testing.T) printing.Store {
		db, _ := openTest(t)
		return db.Printing()
	})
}

func TestUserStore(t *testing.T) {
	userstest.Run(t, func(t *testing.T) userstest.Env {
		db, _ := openTest(t)
		return userstest.Env{Users: db.Users(), Keys: db.Keys(), Audit: db.Audit(), Revocations: db.Revocations(),
			RawTOTP: func(id int64) []byte {
				var b []byte
				if err := db.Pool().QueryRow(context.Background(), `SELECT totp_enc FROM users WHERE id = $1`, id).Scan(&b); err != nil {
					t.Fatal(err)
				}
				return b
			}}
	})
}

func TestChangeStore(t *testing.T) {
	changestest.Run(t, func(t *testing.T) (changes.Store, registry.Store, changestest.Raw) {
		db, _ := openTest(t)
		return db.Changes(), db.Store(), func(t *testing.T, id int64) (oldV, newV string, oldEnc, newEnc []byte) {
			err := db.Pool().QueryRow(context.Background(), `SELECT old_value, new_value, old_enc, new_enc FROM change_requests WHERE id = $1`, id).Scan(&oldV, &newV, &oldEnc, &newEnc)
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	})
}
