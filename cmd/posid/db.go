package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/secret"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/labels"
)

// dbFlags are the flags every command that opens the database shares.
type dbFlags struct {
	db        string // SQLite file path or postgres:// URL
	secretKey string // file holding the account encryption key
}

// register adds -db and -secret-key-file to fs, with POSID_* env defaults.
func (f *dbFlags) register(app *cli, fs *flag.FlagSet) {
	fs.StringVar(&f.db, "db", app.envOr("POSID_DB", "data/posid.db"), "SQLite database file, or a postgres:// URL (env POSID_DB)")
	fs.StringVar(&f.secretKey, "secret-key-file", app.envOr("POSID_SECRET_KEY_FILE", ""),
		"file with the 32-byte account encryption key, created if missing (env POSID_SECRET_KEY_FILE; default: secret.key beside the SQLite file; env POSID_SECRET_KEY gives the key itself)")
}

// stores is the open database and the stores on it.
type stores struct {
	Registry registry.Store
	// Keys holds the API keys, Audit the audit log, Risk the risk events,
	// cases and complaints: on SQLite or PostgreSQL alike.
	Keys  auth.Store
	Audit audit.Log
	// Users keeps people who sign in and their sessions.
	Users users.Store
	Risk  risk.Store
	// Changes holds merchants' change requests.
	Changes changes.Store
	// Revocations tells when a key was revoked by any process on the
	// database; LabelKeyStatus shares label key retirements and revocations.
	Revocations    auth.Revocations
	LabelKeyStatus labels.KeyStatusLog
	// Printing keeps printers, print jobs and which SNs had labels.
	Printing printing.Store
	// SQLite is the embedded database, nil when running on PostgreSQL.
	SQLite *sqlite.DB
	ping   func(context.Context) error
	close  func() error
}

// Ping checks the database answers.
func (s *stores) Ping(ctx context.Context) error { return s.ping(ctx) }

// Close closes the database.
func (s *stores) Close() error { return s.close() }

// open opens the database named by the flags. A key file it had to create
// is removed again when the database turns out to belong to another key, so
// a lost key is reported instead of being replaced.
func (f *dbFlags) open(ctx context.Context, app *cli) (*stores, error) {
	box, createdKey, err := f.box(app)
	if err != nil {
		return nil, err
	}
	s, err := f.openStores(ctx, box)
	if err != nil && createdKey != "" && errors.Is(err, secret.ErrWrongKey) {
		os.Remove(createdKey)
		return nil, fmt.Errorf("key file %s is missing and the database holds data sealed with another key: restore that key file or set POSID_SECRET_KEY", createdKey)
	}
	return s, err
}

// openExisting is open for commands that read or change records already
// there: on SQLite it refuses a database file that does not exist, instead
// of creating an empty database (and a key file) where a typo or a wrong
// working directory pointed. Only serve, demo, import, apikeys create,
// keys new, users add, printers add and label create a database.
func (f *dbFlags) openExisting(ctx context.Context, app *cli) (*stores, error) {
	if !strings.Contains(f.db, "://") {
		if _, err := os.Stat(f.db); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s: start with posid serve, posid demo or posid import, or pass --db", f.db)
		}
	}
	return f.open(ctx, app)
}

// openStores opens the SQLite file or PostgreSQL database of the flags.
func (f *dbFlags) openStores(ctx context.Context, box *secret.Box) (*stores, error) {
	if strings.HasPrefix(f.db, "postgres://") || strings.HasPrefix(f.db, "postgresql://") {
		return openPostgres(ctx, f.db, box)
	}
	db, err := sqlite.Open(ctx, f.db, box)
	if err != nil {
		return nil, err
	}
	return &stores{Registry: db.Store(), Keys: db.Keys(), Users: db.Users(), Audit: db.Audit(), Risk: db.RiskStore(), Changes: db.Changes(),
		Revocations: db.Revocations(), LabelKeyStatus: db.LabelKeyStatus(), Printing: db.Printing(), SQLite: db, ping: db.Ping, close: db.Close}, nil
}

// box loads the account encryption key: POSID_SECRET_KEY, else the key
// file. createdKey names the key file when box had to create it.
func (f *dbFlags) box(app *cli) (box *secret.Box, createdKey string, err error) {
	if k := app.getenv("POSID_SECRET_KEY"); k != "" {
		key, err := secret.ParseKey(k)
		if err != nil {
			return nil, "", fmt.Errorf("POSID_SECRET_KEY: %w", err)
		}
		box, err := secret.NewBox(key)
		return box, "", err
	}
	path := f.secretKey
	if path == "" {
		dir := "data"
		if !strings.Contains(f.db, "://") {
			dir = filepath.Dir(f.db)
		}
		path = filepath.Join(dir, "secret.key")
	}
	key, created, err := secret.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, "", err
	}
	if created {
		createdKey = path
	}
	box, err = secret.NewBox(key)
	return box, createdKey, err
}

// openPostgres is replaced when the PostgreSQL store lands.
var openPostgres = func(ctx context.Context, url string, box *secret.Box) (*stores, error) {
	return nil, fmt.Errorf("postgres is not supported in this build")
}
