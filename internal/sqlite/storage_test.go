package sqlite

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/registry"
	"posid/internal/registry/registrytest"
	"posid/internal/secret"
)

func TestMigrationRewritesLegacyMasks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "posid.db")
	old, err := openVersion(ctx, path, testBox(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	createLegacy(t, old, registrytest.Device("PAX0001"))
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.SQL().ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`UPDATE registrations SET account_mask = '6222 **** **** 1234'`)
	for _, m := range registrytest.LegacyMasks {
		exec(`INSERT INTO history (sn, actor, at, field, old, new) VALUES ('PAX0001', 't', '2026-11-01T00:00:00.000000Z', 'registration.account', ?, ?)`, m.Old, m.Old)
	}
	// A field that is not an account keeps its text.
	exec(`INSERT INTO history (sn, actor, at, field, old, new) VALUES ('PAX0001', 't', '2026-11-01T00:00:00.000000Z', 'registration.merchant_name', '1234 **** 6789', '')`)
	old.Close()

	db, err := Open(ctx, path, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	registrytest.CheckMaskMigration(t, db.Store())
	// history is append-only again after the migration.
	if _, err := db.SQL().ExecContext(ctx, `UPDATE history SET old = 'x'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("update after migration: %v", err)
	}
}

func TestAppendOnlyRefusesReplace(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit().Append(ctx, audit.Entry{Actor: "admin", Action: "device.create", Target: "PAX0001"}); err != nil {
		t.Fatal(err)
	}
	attacks := []struct{ table, q string }{
		{"history", `INSERT OR REPLACE INTO history (id, sn, actor, at, field, old, new) VALUES (1, 'PAX0001', 'FORGED', '', 'created', '', '')`},
		{"history", `REPLACE INTO history (id, sn, actor, at, field) VALUES (1, 'PAX0001', 'FORGED', '', 'created')`},
		{"history", `INSERT INTO history (id, sn, actor, at, field) VALUES (1, 'PAX0001', 'FORGED', '', 'created') ON CONFLICT (id) DO UPDATE SET actor = 'FORGED'`},
		{"history", `INSERT INTO history (id, sn, actor, at, field) VALUES (-1, 'PAX0001', 'FORGED', '', 'created')`},
		{"history", `UPDATE OR REPLACE history SET actor = 'FORGED' WHERE id = 1`},
		{"audit", `INSERT OR REPLACE INTO audit (id, at, actor, action) VALUES (1, '', 'FORGED', 'x')`},
		{"audit", `REPLACE INTO audit (id, at, actor, action) VALUES (1, '', 'FORGED', 'x')`},
		{"audit", `INSERT INTO audit (id, at, actor, action) VALUES (1, '', 'FORGED', 'x') ON CONFLICT (id) DO UPDATE SET actor = 'FORGED'`},
		{"audit", `INSERT INTO audit (id, at, actor, action) VALUES (0, '', 'FORGED', 'x')`},
	}
	for _, a := range attacks {
		if _, err := db.SQL().ExecContext(ctx, a.q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v", a.q, err)
		}
	}
	for _, table := range []string{"history", "audit"} {
		var forged int
		if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM `+table+` WHERE actor = 'FORGED'`).Scan(&forged); err != nil || forged != 0 {
			t.Errorf("%s: %d forged rows, %v", table, forged, err)
		}
	}
	// Appends still work.
	if _, err := db.Store().SetStatus(ctx, "t", "PAX0001", registry.StatusSuspended); err != nil {
		t.Fatal(err)
	}
	if err := db.Audit().Append(ctx, audit.Entry{Actor: "admin", Action: "device.status", Target: "PAX0001"}); err != nil {
		t.Fatal(err)
	}
}

func TestKeyCheck(t *testing.T) {
	ctx := context.Background()
	boxA := testBox(t)
	boxB, _ := secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize))
	open := func(path string, box *secret.Box) error {
		db, err := Open(ctx, path, box)
		if err == nil {
			db.Close()
		}
		return err
	}

	registrytest.KeyCheck(t, registrytest.KeyDatabases{
		New:  func(t *testing.T) string { return filepath.Join(t.TempDir(), "posid.db") },
		Open: open,
		OpenV3: func(path string, box *secret.Box) error {
			old, err := openVersion(ctx, path, box, 3)
			if err != nil {
				return err
			}
			defer old.Close()
			return insertLegacy(old, registrytest.Device("PAX0001"))
		},
	}, boxA, boxB)
}

func TestFileModes(t *testing.T) {
	ctx := context.Background()
	t.Run("existing directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "posid.db")
		db, err := Open(ctx, path, testBox(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
			t.Fatal(err)
		}
		checkModes(t, path, true)
		db.Close()
	})
	t.Run("existing files opened up", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "posid.db")
		db, err := Open(ctx, path, testBox(t))
		if err != nil {
			t.Fatal(err)
		}
		db2, err := Open(ctx, path, testBox(t)) // holds -wal and -shm open
		if err != nil {
			t.Fatal(err)
		}
		defer db2.Close()
		db.Close()
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			if err := os.Chmod(f, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		db, err = Open(ctx, path, testBox(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		checkModes(t, path, true)
	})
	t.Run("new directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		db, err := Open(ctx, filepath.Join(dir, "posid.db"), testBox(t))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if st, err := os.Stat(dir); err != nil || st.Mode().Perm() != dirMode {
			t.Fatalf("data directory mode %v, %v", st.Mode().Perm(), err)
		}
	})
}

// checkModes fails t unless the database file and, when wal, its -wal and
// -shm files exist and only their owner may read them.
func checkModes(t *testing.T, path string, wal bool) {
	t.Helper()
	names := []string{path}
	if wal {
		names = append(names, path+"-wal", path+"-shm")
	}
	for _, name := range names {
		st, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s does not exist", filepath.Base(name))
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v", filepath.Base(name), st.Mode().Perm())
		}
	}
}
