package sqlite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"posid/internal/changes"
	"posid/internal/changes/changestest"
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

func openTest(t testing.TB) (*DB, string) {
	path := filepath.Join(t.TempDir(), "posid.db")
	db, err := Open(context.Background(), path, testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func TestStore(t *testing.T) {
	registrytest.Run(t, func(t *testing.T) registry.Store {
		db, _ := openTest(t)
		return db.Store()
	})
}

func TestAccountEncryptedAtRest(t *testing.T) {
	db, path := openTest(t)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(f)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(registrytest.Account)) || bytes.Contains(raw, []byte(registrytest.Account[4:12])) {
			t.Fatalf("%s holds the account number in clear", filepath.Base(f))
		}
		if f == path && !bytes.Contains(raw, []byte("老王餐馆")) {
			t.Fatalf("sanity: %s does not hold the merchant name; the check reads the wrong file", filepath.Base(f))
		}
	}
	// A different key is refused at open (see TestKeyCheck).
	db.Close()
	other, _ := secret.NewBox(bytes.Repeat([]byte{8}, secret.KeySize))
	if db2, err := Open(ctx, path, other); !errors.Is(err, secret.ErrWrongKey) {
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
	for _, q := range []string{"UPDATE history SET actor = 'x'", "DELETE FROM history"} {
		if _, err := db.SQL().ExecContext(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v", q, err)
		}
	}
}

func TestMigrationsIdempotent(t *testing.T) {
	db, path := openTest(t)
	db.Close()
	for i := 0; i < 2; i++ {
		db, err := Open(context.Background(), path, testBox(t))
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
	}
}

// TestConnectionsStayOpen: concurrent reads must not close and reopen
// connections (a reopened SQLite connection parses the schema again and
// loses its prepared statements).
func TestConnectionsStayOpen(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if _, err := db.Store().CreateDevice(ctx, "t", registrytest.Device("PAX0001")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 * maxConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := db.Store().GetDevice(ctx, "PAX0001", registry.ReadOptions{}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if st := db.sql.Stats(); st.MaxIdleClosed > 0 || st.OpenConnections > maxConns {
		t.Fatalf("pool: %d connections closed for want of idle slots, %d open (max %d)", st.MaxIdleClosed, st.OpenConnections, maxConns)
	}
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
				if err := db.SQL().QueryRow(`SELECT totp_enc FROM users WHERE id = ?`, id).Scan(&b); err != nil {
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
			err := db.SQL().QueryRow(`SELECT old_value, new_value, old_enc, new_enc FROM change_requests WHERE id = ?`, id).Scan(&oldV, &newV, &oldEnc, &newEnc)
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	})
}
