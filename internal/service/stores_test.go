package service_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/postgres"
	"posid/internal/postgres/pgtest"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/secret"
	"posid/internal/service"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/labels"
)

// backend is one store the service tests run on.
type backend struct {
	name  string
	store registry.Store
	log   audit.Log
	// printing keeps printers, print jobs and issued labels.
	printing printing.Store
	// changes keeps change requests on the same database.
	changes changes.Store
	// users keeps people and sessions on the same database.
	users users.Store
	// risk keeps risk events, review cases and complaints.
	risk risk.Store
	// keys keeps API keys; labelKeyStatus shares label key retirements
	// and revocations, on the same database.
	keys           auth.Store
	labelKeyStatus labels.KeyStatusLog
	// exec runs SQL on the database (to break it on purpose).
	exec func(t *testing.T, sql string)
}

// backends opens a fresh SQLite database, and a PostgreSQL schema when
// POSID_TEST_POSTGRES names a database.
func backends(t testing.TB) []backend {
	t.Helper()
	ctx := context.Background()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "posid.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	bs := []backend{{name: "sqlite", store: db.Store(), log: db.Audit(), printing: db.Printing(), changes: db.Changes(), users: db.Users(), keys: db.Keys(), labelKeyStatus: db.LabelKeyStatus(), risk: db.RiskStore(), exec: func(t *testing.T, q string) {
		if _, err := db.SQL().ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}}}
	if os.Getenv(pgtest.EnvURL) == "" && os.Getenv("POSID_REQUIRE_TOOLS") == "" {
		return bs // SQLite only
	}
	u, _ := pgtest.Schema(t, "svc_")
	pg, err := postgres.Open(ctx, u, box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return append(bs, backend{name: "postgres", store: pg.Store(), log: pg.Audit(), printing: pg.Printing(), changes: pg.Changes(), users: pg.Users(), keys: pg.Keys(), labelKeyStatus: pg.LabelKeyStatus(), risk: pg.RiskStore(), exec: func(t *testing.T, q string) {
		if _, err := pg.Pool().Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}})
}

// Fixture devices: OWN0001 registered to merchant M001 (supplier SUP1),
// OTHER0001 registered to M002 (SUP2), BARE0001 unregistered (SUP1,
// provisioned), GONE0001 revoked (SUP1).
func seed(t testing.TB, b backend) { seedAs(t, b, "") }

// seedAs stores the fixture devices with prefix before each SN.
func seedAs(t testing.TB, b backend, prefix string) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []registry.Device{
		{SN: "OWN0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B1", Status: registry.StatusActive, Registration: &registry.Registration{
			MerchantNo: "M001", MerchantName: "老王餐馆", TerminalID: "T001", Acquirer: "银联商务", Access: registry.Access4G, Account: "6222021234561234", RegisteredAt: at}},
		{SN: "OTHER0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP2", Batch: "B1", Status: registry.StatusActive, Registration: &registry.Registration{
			MerchantNo: "M002", MerchantName: "张三便利店", TerminalID: "T002", Acquirer: "拉卡拉", Access: registry.AccessWiFi, Account: "6222029999999999", RegisteredAt: at}},
		{SN: "BARE0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B2"},
		{SN: "GONE0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "B2", Status: registry.StatusRevoked},
	} {
		d.SN = prefix + d.SN
		if _, err := b.store.CreateDevice(ctx, "seed", d); err != nil {
			t.Fatal(err)
		}
	}
}

// Callers of the tests.
var (
	admin     = service.Caller{Role: "admin", Actor: "apikey:a(admin)"}
	warehouse = service.Caller{Role: "warehouse", Actor: "apikey:w(warehouse)"}
	merchant  = service.Caller{Role: "merchant", Actor: "apikey:m(M001)", MerchantNo: "M001"}
	merchant2 = service.Caller{Role: "merchant", Actor: "apikey:m2(M002)", MerchantNo: "M002"}
	supplier  = service.Caller{Role: "supplier", Actor: "apikey:s(SUP1)", SupplierCode: "SUP1"}
	reviewer  = service.Caller{Role: "reviewer", Actor: "apikey:r(reviewer)"}
)

// auditRows returns the audit entries with action.
func auditRows(t *testing.T, log audit.Log, action string) []audit.Entry {
	t.Helper()
	es, _, err := log.List(context.Background(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}
