// Package sqlite implements posid's stores on an embedded SQLite database
// (github.com/mattn/go-sqlite3) in WAL mode with foreign keys on. The schema
// is created and upgraded by versioned migrations embedded in the binary.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"

	"posid/internal/secret"
)

//go:embed migrations/*.sql
var migrations embed.FS

// stmtCacheSize is how many prepared statements each connection keeps, so
// hot queries (device reads, audit inserts) are parsed once per connection.
const stmtCacheSize = 64

// maxConns bounds the connections to the database file (readers run in
// parallel in WAL mode; writers take turns).
const maxConns = 8

// busyTimeout is how long a write waits for another writer before failing.
const busyTimeout = 10 * time.Second

// timeLayout is how times are stored: UTC, fixed width, so text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// DB is an open posid database.
type DB struct {
	sql *sql.DB
	box *secret.Box
	now func() time.Time
}

// Open opens (creating if needed) the database file at path and applies
// pending migrations. box encrypts settlement accounts.
func Open(ctx context.Context, path string, box *secret.Box) (*DB, error) {
	return openVersion(ctx, path, box, latest)
}

// openVersion opens the database at schema version upTo; below latest it
// leaves the key check out (tests that build an older database).
func openVersion(ctx context.Context, path string, box *secret.Box, upTo int) (*DB, error) {
	if box == nil {
		return nil, errors.New("sqlite: no encryption key")
	}
	if err := prepareFiles(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", strconv.Itoa(int(busyTimeout/time.Millisecond)))
	q.Set("_txlock", "immediate")
	q.Set("_synchronous", "NORMAL")
	q.Set("_stmt_cache_size", strconv.Itoa(stmtCacheSize))
	db, err := sql.Open("sqlite3", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Every open connection stays open: database/sql keeps only two idle
	// by default, and a reopened SQLite connection parses the schema again
	// and starts with an empty statement cache.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	d := &DB{sql: db, box: box, now: func() time.Time { return time.Now().UTC() }}
	if err := d.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	if upTo < latest {
		return d, nil
	}
	if err := d.checkKey(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return d, nil
}

// File modes: the database holds merchant data, API key hashes and the
// audit log, so only its owner may read it.
const (
	dirMode  = 0o700 // a data directory Open creates
	fileMode = 0o600 // the database file and its -wal and -shm files
)

// prepareFiles creates the directory of path (dirMode) and the database
// file (fileMode) when they do not exist, and takes group and other access
// away from the database, -wal and -shm files that do. SQLite creates the
// -wal and -shm files with the database file's mode.
func prepareFiles(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(name, st.Mode().Perm()&fileMode); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkKey compares the key's check value with the one the database
// stores, and stores it when the database has none: a new database, or
// one from before check values, whose sealed accounts must then open under
// the key. Any mismatch is secret.ErrWrongKey.
func (d *DB) checkKey(ctx context.Context) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var stored string
		err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&stored)
		if err == nil {
			if stored != d.box.KeyCheck() {
				return secret.ErrWrongKey
			}
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("key check: %w", err)
		}
		var (
			sn  string
			enc []byte
		)
		err = tx.QueryRowContext(ctx, `SELECT sn, account_enc FROM registrations WHERE account_enc IS NOT NULL LIMIT 1`).Scan(&sn, &enc)
		if err == nil {
			if _, err := d.box.Open(enc, []byte(sn)); err != nil {
				return secret.ErrWrongKey
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("key check: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ('key_check', ?)`, d.box.KeyCheck()); err != nil {
			return fmt.Errorf("key check: %w", err)
		}
		return nil
	})
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.sql.PingContext(ctx) }

// SQL returns the underlying handle, for packages that keep their own tables.
func (d *DB) SQL() *sql.DB { return d.sql }

// SetClock replaces the clock (tests).
func (d *DB) SetClock(now func() time.Time) { d.now = now }

// latest stands for the newest migration in migrate.
const latest = math.MaxInt

// migrate applies every embedded migration up to version upTo not yet
// recorded, each in its own transaction.
func (d *DB) migrate(ctx context.Context, upTo int) error {
	if _, err := d.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := filepath.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: bad version", base)
		}
		if v > upTo {
			break
		}
		if err := d.apply(ctx, v, name); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) apply(ctx context.Context, version int, name string) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: migration %d: %w", version, err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: migration %d: %w", version, err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", filepath.Base(name), err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, d.now().Format(timeLayout)); err != nil {
		return err
	}
	return tx.Commit()
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t.UTC()
}
