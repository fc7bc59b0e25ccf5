package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"posid/internal/audit"
	"posid/internal/registry/registrytest"
	"posid/internal/secret"
)

func TestMigrationRewritesLegacyMasks(t *testing.T) {
	ctx := context.Background()
	u := testURL(t)
	old, err := openVersion(ctx, u, testBox(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	createLegacy(t, old, registrytest.Device("PAX0001"))
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.Pool().Exec(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`UPDATE registrations SET account_mask = '6222 **** **** 1234'`)
	for _, m := range registrytest.LegacyMasks {
		exec(`INSERT INTO history (sn, actor, at, field, old, new) VALUES ('PAX0001', 't', now(), 'registration.account', $1, $1)`, m.Old)
	}
	// A field that is not an account keeps its text.
	exec(`INSERT INTO history (sn, actor, at, field, old, new) VALUES ('PAX0001', 't', now(), 'registration.merchant_name', '1234 **** 6789', '')`)
	old.Close()

	db, err := Open(ctx, u, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	registrytest.CheckMaskMigration(t, db.Store())
	// history is append-only again after the migration.
	if _, err := db.Pool().Exec(ctx, `UPDATE history SET old = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update after migration: %v", err)
	}
}

// TestAppendOnlyRefusesReplace tries the rewrites that bypassed SQLite's
// triggers, in their PostgreSQL forms: upserts, MERGE, and an insert that
// names an existing id.
func TestAppendOnlyRefusesReplace(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit().Append(ctx, audit.Entry{Actor: "admin", Action: "device.create", Target: "PAX0001"}); err != nil {
		t.Fatal(err)
	}
	var hid, aid int64
	if err := db.Pool().QueryRow(ctx, `SELECT min(id) FROM history`).Scan(&hid); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool().QueryRow(ctx, `SELECT min(id) FROM audit`).Scan(&aid); err != nil {
		t.Fatal(err)
	}
	attacks := []struct {
		q  string
		id int64
	}{
		{`INSERT INTO history (id, sn, actor, at, field) OVERRIDING SYSTEM VALUE VALUES ($1, 'PAX0001', 'FORGED', now(), 'created') ON CONFLICT (id) DO UPDATE SET actor = 'FORGED'`, hid},
		{`INSERT INTO history (id, sn, actor, at, field) OVERRIDING SYSTEM VALUE VALUES ($1, 'PAX0001', 'FORGED', now(), 'created')`, hid},
		{`MERGE INTO history h USING (SELECT $1::bigint AS id) s ON h.id = s.id WHEN MATCHED THEN UPDATE SET actor = 'FORGED'`, hid},
		{`MERGE INTO history h USING (SELECT $1::bigint AS id) s ON h.id = s.id WHEN MATCHED THEN DELETE`, hid},
		{`INSERT INTO audit (id, at, actor, action) OVERRIDING SYSTEM VALUE VALUES ($1, now(), 'FORGED', 'x') ON CONFLICT (id) DO UPDATE SET actor = 'FORGED'`, aid},
		{`INSERT INTO audit (id, at, actor, action) OVERRIDING SYSTEM VALUE VALUES ($1, now(), 'FORGED', 'x')`, aid},
		{`MERGE INTO audit a USING (SELECT $1::bigint AS id) s ON a.id = s.id WHEN MATCHED THEN UPDATE SET actor = 'FORGED'`, aid},
		{`MERGE INTO audit a USING (SELECT $1::bigint AS id) s ON a.id = s.id WHEN MATCHED THEN DELETE`, aid},
	}
	for _, a := range attacks {
		if _, err := db.Pool().Exec(ctx, a.q, a.id); err == nil {
			t.Errorf("%s: no error", a.q)
		}
	}
	for _, q := range []string{"TRUNCATE history RESTART IDENTITY CASCADE", "TRUNCATE audit RESTART IDENTITY CASCADE"} {
		if _, err := db.Pool().Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v", q, err)
		}
	}
	for _, table := range []string{"history", "audit"} {
		var forged int
		if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM `+table+` WHERE actor = 'FORGED'`).Scan(&forged); err != nil || forged != 0 {
			t.Errorf("%s: %d forged rows, %v", table, forged, err)
		}
	}
}

func TestKeyCheck(t *testing.T) {
	ctx := context.Background()
	boxA := testBox(t)
	boxB, _ := secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize))
	open := func(u string, box *secret.Box) error {
		db, err := Open(ctx, u, box)
		if err == nil {
			db.Close()
		}
		return err
	}

	registrytest.KeyCheck(t, registrytest.KeyDatabases{
		New:  func(t *testing.T) string { return testURL(t) },
		Open: open,
		OpenV3: func(u string, box *secret.Box) error {
			old, err := openVersion(ctx, u, box, 3)
			if err != nil {
				return err
			}
			defer old.Close()
			return insertLegacy(old, registrytest.Device("PAX0001"))
		},
	}, boxA, boxB)

	// Processes starting together on a new database with different keys:
	// one key wins, every process with another is refused.
	t.Run("concurrent first opens", func(t *testing.T) {
		u := testURL(t)
		boxes := []*secret.Box{boxA, boxB, boxA, boxB, boxA, boxB}
		errs := make([]error, len(boxes))
		var wg sync.WaitGroup
		for i, box := range boxes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = open(u, box)
			}()
		}
		wg.Wait()
		okA, okB := 0, 0
		for i, err := range errs {
			switch {
			case err == nil && boxes[i] == boxA:
				okA++
			case err == nil:
				okB++
			case !errors.Is(err, secret.ErrWrongKey):
				t.Fatalf("open %d: %v", i, err)
			}
		}
		if !(okA == 3 && okB == 0 || okA == 0 && okB == 3) {
			t.Fatalf("%d opens with key A and %d with key B succeeded", okA, okB)
		}
	})
}
