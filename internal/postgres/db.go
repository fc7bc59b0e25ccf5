// Package postgres implements posid's stores on PostgreSQL
// (github.com/jackc/pgx/v5 with a pgxpool connection pool). The schema is
// created and upgraded by versioned migrations embedded in the binary,
// numbered like internal/sqlite's; a PostgreSQL advisory lock makes several
// processes starting together apply them once.
//
// Several `posid serve` processes may share one database. What they share
// lives in PostgreSQL: devices, registrations and history (every write is
// one transaction; concurrent changes of one device are serialized with
// SELECT ... FOR UPDATE, so of two processes making the same status change
// one wins and the other gets registry.ErrTransition), API keys, the audit
// log, risk events, cases (upserted on a partial unique index, so two
// processes flagging the same subject meet in one case) and complaints, and
// the schema version, and people who sign in with their sessions (each
// process caches sessions; ending one, or disabling a user, is announced
// like a key revocation). What each process keeps to itself: its connection
// pool (maxConns per process), and in the server the per-client rate-limit
// counters, the decode semaphore and queue that bound concurrent image
// decodes, the API-key and session caches (cleared by the revocation
// signal), the audit batcher, the risk monitor's throttles and the sign-in
// failure counts. With N processes the effective rate limits and decode
// concurrency are N times the configured ones. The account encryption key
// must be the same in every process (POSID_SECRET_KEY or the same key
// file), or one process cannot reveal what another wrote.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"posid/internal/registry"
	"posid/internal/secret"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Connection limits.
const (
	// maxConns bounds the pool of one process; several processes on one
	// server each hold up to this many connections.
	maxConns = 16
	// connectTimeout bounds the first connection attempt at Open.
	connectTimeout = 10 * time.Second
)

// migrationLock is the advisory lock key held while migrating ("posid" in ASCII).
const migrationLock int64 = 0x706f736964

// DB is an open posid database on PostgreSQL.
type DB struct {
	pool *pgxpool.Pool
	box  *secret.Box
	now  func() time.Time
}

// Open connects to the database at url (postgres://...; a search_path
// query parameter selects the schema) and applies pending migrations. box
// encrypts settlement accounts.
func Open(ctx context.Context, url string, box *secret.Box) (*DB, error) {
	return openVersion(ctx, url, box, latest)
}

// openVersion opens the database at schema version upTo; below latest it
// leaves the key check out (tests that build an older database).
func openVersion(ctx context.Context, url string, box *secret.Box, upTo int) (*DB, error) {
	if box == nil {
		return nil, errors.New("postgres: no encryption key")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	d := &DB{pool: pool, box: box, now: func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }}
	if err := d.migrate(ctx, upTo); err != nil {
		pool.Close()
		return nil, err
	}
	if upTo < latest {
		return d, nil
	}
	if err := d.checkKey(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return d, nil
}

// checkKey compares the key's check value with the one the database
// stores, and stores it when the database has none: a new database, or
// one from before check values, whose sealed accounts must then open under
// the key. Any mismatch is secret.ErrWrongKey. Processes opening together
// meet on the meta row: the first stores its value, the others compare.
func (d *DB) checkKey(ctx context.Context) error {
	return d.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE meta IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("key check: %w", err)
		}
		var stored string
		err := tx.QueryRow(ctx, `SELECT value FROM meta WHERE name = 'key_check'`).Scan(&stored)
		if err == nil {
			if stored != d.box.KeyCheck() {
				return secret.ErrWrongKey
			}
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("key check: %w", err)
		}
		var (
			sn  string
			enc []byte
		)
		err = tx.QueryRow(ctx, `SELECT sn, account_enc FROM registrations WHERE account_enc IS NOT NULL LIMIT 1`).Scan(&sn, &enc)
		if err == nil {
			if _, err := d.box.Open(enc, []byte(sn)); err != nil {
				return secret.ErrWrongKey
			}
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("key check: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO meta (name, value) VALUES ('key_check', $1)`, d.box.KeyCheck()); err != nil {
			return fmt.Errorf("key check: %w", err)
		}
		return nil
	})
}

// Close closes every connection of the pool.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error { return d.pool.Ping(ctx) }

// Pool returns the connection pool, for packages that keep their own tables.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// SetClock replaces the clock (tests).
func (d *DB) SetClock(now func() time.Time) { d.now = now }

// latest stands for the newest migration in migrate.
const latest = math.MaxInt

// migrate applies every embedded migration up to version upTo not yet
// recorded, each in its own transaction, while holding the migration advisory lock on one
// connection so that concurrent Opens wait instead of racing.
func (d *DB) migrate(ctx context.Context, upTo int) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("postgres: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := path.Base(name)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("postgres: migration %s: bad version", base)
		}
		if v > upTo {
			break
		}
		if err := d.apply(ctx, conn.Conn(), v, name); err != nil {
			return err
		}
	}
	return nil
}

// apply runs migration name as version unless it is already recorded.
func (d *DB) apply(ctx context.Context, conn *pgx.Conn, version int, name string) error {
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: migration %d: %w", version, err)
	}
	defer tx.Rollback(ctx)
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil {
		return fmt.Errorf("postgres: migration %d: %w", version, err)
	}
	if n > 0 {
		return nil
	}
	// Simple protocol: a migration file holds several statements.
	if _, err := tx.Exec(ctx, string(body), pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("postgres: migration %s: %w", path.Base(name), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, version, d.now()); err != nil {
		return fmt.Errorf("postgres: migration %d: %w", version, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: migration %d: %w", version, err)
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// PostgreSQL error codes the stores map to registry errors.
const (
	codeUniqueViolation = "23505"
	codeCheckViolation  = "23514"
	codeNotNull         = "23502"
	codeBadEncoding     = "22021" // invalid byte sequence (not UTF-8, or NUL)
	codeTooLong         = "22001"
)

// mapErr wraps err in the registry sentinel its SQLSTATE stands for.
func mapErr(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case codeUniqueViolation:
		return fmt.Errorf("%w: %s", registry.ErrExists, pe.Message)
	case codeCheckViolation, codeNotNull, codeBadEncoding, codeTooLong:
		return fmt.Errorf("%w: %s", registry.ErrInvalid, pe.Message)
	}
	return err
}

// isInvalid reports whether err is a constraint or encoding violation.
func isInvalid(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case codeCheckViolation, codeNotNull, codeBadEncoding, codeTooLong:
		return true
	}
	return false
}

// isUnique reports whether err is a unique or primary key violation.
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == codeUniqueViolation
}
