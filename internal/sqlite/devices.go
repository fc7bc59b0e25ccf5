package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/internal/registry"
)

// Store returns the registry store of d.
func (d *DB) Store() registry.Store { return deviceStore{d} }

// deviceStore implements registry.Store.
type deviceStore struct{ db *DB }

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const deviceColumns = `d.sn, d.model, d.manufacturer, d.supplier_code, d.batch, d.produced_on, d.status, d.created_at, d.updated_at,
	r.sn, r.merchant_no, r.merchant_name, r.terminal_id, r.acquirer, r.branch_name, r.branch_address,
	r.account_enc, r.account_mask, r.access, r.registered_at`

const deviceFrom = ` FROM devices d LEFT JOIN registrations r ON r.sn = d.sn`

// deviceBySN reads one device. The CAST keeps SQLite from propagating the
// bound SN into the join as a constant: a plan built on a parameter's value
// is thrown away and prepared again whenever the parameter is bound, which
// made every read parse and plan the query anew (40 µs a read instead of 11).
const deviceBySN = `SELECT ` + deviceColumns + deviceFrom + ` WHERE d.sn = CAST(? AS TEXT)`

// InTx implements registry.Store.
func (s deviceStore) InTx(ctx context.Context, fn func(registry.Tx) error) error {
	return s.db.inTx(ctx, func(tx *sql.Tx) error { return fn(txStore{s: s, tx: tx}) })
}

// inOneTx runs one Tx method as a transaction of its own.
func inOneTx[T any](ctx context.Context, s deviceStore, fn func(tx registry.Tx) (T, error)) (T, error) {
	var out T
	err := s.InTx(ctx, func(tx registry.Tx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// CreateDevice implements registry.Store.
func (s deviceStore) CreateDevice(ctx context.Context, actor string, dev registry.Device) (registry.Device, error) {
	return inOneTx(ctx, s, func(tx registry.Tx) (registry.Device, error) { return tx.CreateDevice(ctx, actor, dev) })
}

// UpdateDevice implements registry.Store.
func (s deviceStore) UpdateDevice(ctx context.Context, actor, sn string, p registry.Patch) (registry.Device, error) {
	return inOneTx(ctx, s, func(tx registry.Tx) (registry.Device, error) { return tx.UpdateDevice(ctx, actor, sn, p) })
}

// SetStatus implements registry.Store.
func (s deviceStore) SetStatus(ctx context.Context, actor, sn string, to registry.Status) (registry.Device, error) {
	return inOneTx(ctx, s, func(tx registry.Tx) (registry.Device, error) { return tx.SetStatus(ctx, actor, sn, to) })
}

// Import implements registry.Store.
func (s deviceStore) Import(ctx context.Context, actor string, recs []registry.Record, mode registry.ImportMode) (registry.ImportSummary, error) {
	return inOneTx(ctx, s, func(tx registry.Tx) (registry.ImportSummary, error) { return tx.Import(ctx, actor, recs, mode, nil) })
}

// txStore implements registry.Tx on one SQLite transaction.
type txStore struct {
	s  deviceStore
	tx *sql.Tx
}

// GetDevice implements registry.Tx.
func (t txStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, norm, opt)
}

// CreateDevice implements registry.Tx.
func (t txStore) CreateDevice(ctx context.Context, actor string, dev registry.Device) (registry.Device, error) {
	if err := dev.Validate(); err != nil {
		return registry.Device{}, err
	}
	if err := t.s.insert(ctx, t.tx, actor, &dev); err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, dev.SN, registry.ReadOptions{})
}

// UpdateDevice implements registry.Tx.
func (t txStore) UpdateDevice(ctx context.Context, actor, sn string, p registry.Patch) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	old, err := t.s.get(ctx, t.tx, norm, registry.ReadOptions{RevealAccount: true})
	if err != nil {
		return registry.Device{}, err
	}
	dev, err := p.Apply(old, t.s.db.now())
	if err != nil {
		return registry.Device{}, err
	}
	if err := t.s.write(ctx, t.tx, actor, old, dev); err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, norm, registry.ReadOptions{})
}

// SetStatus implements registry.Tx.
func (t txStore) SetStatus(ctx context.Context, actor, sn string, to registry.Status) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	old, err := t.s.get(ctx, t.tx, norm, registry.ReadOptions{})
	if err != nil {
		return registry.Device{}, err
	}
	if err := old.Status.CheckTransition(to); err != nil {
		return registry.Device{}, err
	}
	now := t.s.db.now()
	if _, err := t.tx.ExecContext(ctx, `UPDATE devices SET status = ?, updated_at = ? WHERE sn = ?`, string(to), fmtTime(now), norm); err != nil {
		return registry.Device{}, fmt.Errorf("set status %s: %w", norm, err)
	}
	if err := t.s.db.appendHistory(ctx, t.tx, actor, now, []registry.Change{registry.StatusChange(old, to)}); err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, norm, registry.ReadOptions{})
}

// Audit implements registry.Tx.
func (t txStore) Audit(ctx context.Context, entries ...audit.Entry) error {
	return t.s.db.appendAudit(ctx, t.tx, entries)
}

// insert writes a validated new device, its registration and its "created" history row.
func (s deviceStore) insert(ctx context.Context, q querier, actor string, dev *registry.Device) error {
	now := s.db.now()
	dev.CreatedAt, dev.UpdatedAt = now, now
	_, err := q.ExecContext(ctx, `INSERT INTO devices (sn, model, manufacturer, supplier_code, batch, produced_on, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		dev.SN, dev.Model, dev.Manufacturer, dev.SupplierCode, dev.Batch, dev.ProducedOn.String(), string(dev.Status), fmtTime(now), fmtTime(now))
	if isUnique(err) {
		return fmt.Errorf("device %s: %w", dev.SN, registry.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert device %s: %w", dev.SN, err)
	}
	if dev.Registration != nil {
		if err := s.putRegistration(ctx, q, dev.SN, dev.Registration); err != nil {
			return err
		}
	}
	return s.db.appendHistory(ctx, q, actor, now, registry.Created(*dev))
}

// putRegistration inserts or replaces the registration of sn.
func (s deviceStore) putRegistration(ctx context.Context, q querier, sn string, r *registry.Registration) error {
	var enc []byte
	if r.Account != "" {
		enc = s.db.box.Seal([]byte(r.Account), []byte(sn))
	}
	_, err := q.ExecContext(ctx, `INSERT INTO registrations (sn, merchant_no, merchant_name, terminal_id, acquirer, branch_name, branch_address, account_enc, account_mask, access, registered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (sn) DO UPDATE SET merchant_no = excluded.merchant_no, merchant_name = excluded.merchant_name,
			terminal_id = excluded.terminal_id, acquirer = excluded.acquirer, branch_name = excluded.branch_name,
			branch_address = excluded.branch_address, account_enc = excluded.account_enc, account_mask = excluded.account_mask,
			access = excluded.access, registered_at = excluded.registered_at`,
		sn, r.MerchantNo, r.MerchantName, r.TerminalID, r.Acquirer, r.BranchName, r.BranchAddress,
		enc, registry.MaskAccount(r.Account), string(r.Access), fmtTime(r.RegisteredAt))
	if err != nil {
		return fmt.Errorf("write registration %s: %w", sn, err)
	}
	return nil
}

// appendHistory writes history rows stamped with actor and at.
func (d *DB) appendHistory(ctx context.Context, q querier, actor string, at time.Time, changes []registry.Change) error {
	for _, c := range changes {
		if _, err := q.ExecContext(ctx, `INSERT INTO history (sn, actor, at, field, old, new, merchant_no) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			c.SN, actor, fmtTime(at), c.Field, c.Old, c.New, c.MerchantNo); err != nil {
			return fmt.Errorf("append history %s: %w", c.SN, err)
		}
	}
	return nil
}

// GetDevice implements registry.Store.
func (s deviceStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	return s.get(ctx, s.db.sql, norm, opt)
}

func (s deviceStore) get(ctx context.Context, q querier, sn string, opt registry.ReadOptions) (registry.Device, error) {
	row := q.QueryRowContext(ctx, deviceBySN, sn)
	dev, err := s.scan(row, opt)
	if errors.Is(err, sql.ErrNoRows) {
		return registry.Device{}, fmt.Errorf("device %s: %w", sn, registry.ErrNotFound)
	}
	return dev, err
}

// scan reads one device row; the account is decrypted only when revealed.
func (s deviceStore) scan(row interface{ Scan(...any) error }, opt registry.ReadOptions) (registry.Device, error) {
	var (
		dev                                             registry.Device
		produced, status, created, updated              string
		rsn, mno, mname, tid, acq, bname, baddr, access sql.NullString
		mask, regAt                                     sql.NullString
		enc                                             []byte
	)
	if err := row.Scan(&dev.SN, &dev.Model, &dev.Manufacturer, &dev.SupplierCode, &dev.Batch, &produced, &status, &created, &updated,
		&rsn, &mno, &mname, &tid, &acq, &bname, &baddr, &enc, &mask, &access, &regAt); err != nil {
		return registry.Device{}, err
	}
	dev.ProducedOn, _ = registry.ParseDate(produced)
	dev.Status = registry.Status(status)
	dev.CreatedAt, dev.UpdatedAt = parseTime(created), parseTime(updated)
	if rsn.Valid {
		r := &registry.Registration{
			MerchantNo: mno.String, MerchantName: mname.String, TerminalID: tid.String, Acquirer: acq.String,
			BranchName: bname.String, BranchAddress: baddr.String, Access: registry.AccessMethod(access.String),
			RegisteredAt: parseTime(regAt.String), Account: mask.String,
		}
		if opt.RevealAccount && len(enc) > 0 {
			plain, err := s.db.box.Open(enc, []byte(dev.SN))
			if err != nil {
				return registry.Device{}, fmt.Errorf("device %s account: %w", dev.SN, err)
			}
			r.Account, r.AccountRevealed = string(plain), true
		}
		dev.Registration = r
	}
	return dev, nil
}

// ListDevices implements registry.Store.
func (s deviceStore) ListDevices(ctx context.Context, f registry.Filter) (registry.Page, error) {
	var (
		where []string
		args  []any
	)
	if f.Status != "" {
		where, args = append(where, "d.status = ?"), append(args, string(f.Status))
	}
	if f.MerchantNo != "" {
		where, args = append(where, "r.merchant_no = ?"), append(args, f.MerchantNo)
	}
	if f.SupplierCode != "" {
		where, args = append(where, "d.supplier_code = ?"), append(args, strings.ToUpper(f.SupplierCode))
	}
	if f.Batch != "" {
		where, args = append(where, "d.batch = ?"), append(args, f.Batch)
	}
	if f.Model != "" {
		where, args = append(where, "d.model = ?"), append(args, f.Model)
	}
	if f.SNPrefix != "" {
		where, args = append(where, "substr(d.sn, 1, ?) = ?"), append(args, len(f.SNPrefix), f.SNPrefix)
	}
	if f.Cursor != "" {
		after, err := registry.AfterCursor(f.Cursor)
		if err != nil {
			return registry.Page{}, err
		}
		where, args = append(where, "d.sn > ?"), append(args, after)
	}
	query := `SELECT ` + deviceColumns + deviceFrom
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.PageSize()
	query += " ORDER BY d.sn LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return registry.Page{}, fmt.Errorf("list devices: %w", err)
	}
	defer rows.Close()
	var devs []registry.Device
	for rows.Next() {
		dev, err := s.scan(rows, f.ReadOptions)
		if err != nil {
			return registry.Page{}, fmt.Errorf("list devices: %w", err)
		}
		devs = append(devs, dev)
	}
	if err := rows.Err(); err != nil {
		return registry.Page{}, fmt.Errorf("list devices: %w", err)
	}
	return registry.PageOf(devs, limit), nil
}

// write stores dev over old and appends the differences to history. It
// reports whether anything changed.
func (s deviceStore) write(ctx context.Context, q querier, actor string, old, dev registry.Device) error {
	changes := registry.Diff(old, dev)
	if len(changes) == 0 {
		return nil
	}
	now := s.db.now()
	if _, err := q.ExecContext(ctx, `UPDATE devices SET model = ?, manufacturer = ?, supplier_code = ?, batch = ?, produced_on = ?, status = ?, updated_at = ? WHERE sn = ?`,
		dev.Model, dev.Manufacturer, dev.SupplierCode, dev.Batch, dev.ProducedOn.String(), string(dev.Status), fmtTime(now), dev.SN); err != nil {
		return fmt.Errorf("update device %s: %w", dev.SN, err)
	}
	if dev.Registration != nil {
		if err := s.putRegistration(ctx, q, dev.SN, dev.Registration); err != nil {
			return err
		}
	}
	return s.db.appendHistory(ctx, q, actor, now, changes)
}

// History implements registry.Store.
func (s deviceStore) History(ctx context.Context, sn string) ([]registry.Change, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.sql.QueryContext(ctx, `SELECT id, sn, actor, at, field, old, new, merchant_no FROM history WHERE sn = ? ORDER BY id`, norm)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", norm, err)
	}
	defer rows.Close()
	out := []registry.Change{}
	for rows.Next() {
		var c registry.Change
		var at string
		if err := rows.Scan(&c.ID, &c.SN, &c.Actor, &at, &c.Field, &c.Old, &c.New, &c.MerchantNo); err != nil {
			return nil, fmt.Errorf("history %s: %w", norm, err)
		}
		c.At = parseTime(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		if _, err := s.get(ctx, s.db.sql, norm, registry.ReadOptions{}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inTx runs fn in a write transaction, committing when it returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
