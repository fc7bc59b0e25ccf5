package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"posid/internal/audit"
	"posid/internal/registry"
)

// Store returns the registry store of d.
func (d *DB) Store() registry.Store { return deviceStore{d} }

// deviceStore implements registry.Store.
type deviceStore struct{ db *DB }

// querier is what *pgxpool.Pool and pgx.Tx share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

const deviceColumns = `d.sn, d.model, d.manufacturer, d.supplier_code, d.batch, d.produced_on, d.status, d.created_at, d.updated_at,
	r.sn, r.merchant_no, r.merchant_name, r.terminal_id, r.acquirer, r.branch_name, r.branch_address,
	r.account_enc, r.account_mask, r.access, r.registered_at`

const deviceFrom = ` FROM devices d LEFT JOIN registrations r ON r.sn = d.sn`

// InTx implements registry.Store.
func (s deviceStore) InTx(ctx context.Context, fn func(registry.Tx) error) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error { return fn(txStore{s: s, tx: tx}) })
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

// txStore implements registry.Tx on one PostgreSQL transaction.
type txStore struct {
	s  deviceStore
	tx pgx.Tx
}

// GetDevice implements registry.Tx: the device row stays locked until the
// transaction ends.
func (t txStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, norm, opt, true)
}

// CreateDevice implements registry.Tx.
func (t txStore) CreateDevice(ctx context.Context, actor string, dev registry.Device) (registry.Device, error) {
	if err := dev.Validate(); err != nil {
		return registry.Device{}, err
	}
	if err := t.s.insert(ctx, t.tx, actor, &dev); err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, dev.SN, registry.ReadOptions{}, false)
}

// UpdateDevice implements registry.Tx.
func (t txStore) UpdateDevice(ctx context.Context, actor, sn string, p registry.Patch) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	old, err := t.s.get(ctx, t.tx, norm, registry.ReadOptions{RevealAccount: true}, true)
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
	return t.s.get(ctx, t.tx, norm, registry.ReadOptions{}, false)
}

// SetStatus implements registry.Tx.
func (t txStore) SetStatus(ctx context.Context, actor, sn string, to registry.Status) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	old, err := t.s.get(ctx, t.tx, norm, registry.ReadOptions{}, true)
	if err != nil {
		return registry.Device{}, err
	}
	if err := old.Status.CheckTransition(to); err != nil {
		return registry.Device{}, err
	}
	now := t.s.db.now()
	if _, err := t.tx.Exec(ctx, `UPDATE devices SET status = $1, updated_at = $2 WHERE sn = $3`, string(to), now, norm); err != nil {
		return registry.Device{}, fmt.Errorf("set status %s: %w", norm, mapErr(err))
	}
	if err := t.s.db.appendHistory(ctx, t.tx, actor, now, []registry.Change{registry.StatusChange(old, to)}); err != nil {
		return registry.Device{}, err
	}
	return t.s.get(ctx, t.tx, norm, registry.ReadOptions{}, false)
}

// Audit implements registry.Tx.
func (t txStore) Audit(ctx context.Context, entries ...audit.Entry) error {
	return t.s.db.appendAudit(ctx, t.tx, entries)
}

// insert writes a validated new device, its registration and its history rows.
func (s deviceStore) insert(ctx context.Context, q querier, actor string, dev *registry.Device) error {
	now := s.db.now()
	dev.CreatedAt, dev.UpdatedAt = now, now
	_, err := q.Exec(ctx, `INSERT INTO devices (sn, model, manufacturer, supplier_code, batch, produced_on, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
		dev.SN, dev.Model, dev.Manufacturer, dev.SupplierCode, dev.Batch, dateArg(dev.ProducedOn), string(dev.Status), now)
	if isUnique(err) {
		return fmt.Errorf("device %s: %w", dev.SN, registry.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("insert device %s: %w", dev.SN, mapErr(err))
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
	_, err := q.Exec(ctx, upsertRegistration, s.registrationRow(sn, r)...)
	if err != nil {
		return fmt.Errorf("write registration %s: %w", sn, mapErr(err))
	}
	return nil
}

// upsertRegistration inserts or replaces a registration; its parameters are a registrationRow.
const upsertRegistration = `INSERT INTO registrations (sn, merchant_no, merchant_name, terminal_id, acquirer, branch_name, branch_address, account_enc, account_mask, access, registered_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
	ON CONFLICT (sn) DO UPDATE SET merchant_no = excluded.merchant_no, merchant_name = excluded.merchant_name,
		terminal_id = excluded.terminal_id, acquirer = excluded.acquirer, branch_name = excluded.branch_name,
		branch_address = excluded.branch_address, account_enc = excluded.account_enc, account_mask = excluded.account_mask,
		access = excluded.access, registered_at = excluded.registered_at`

// registrationColumns are the registrations columns in registrationRow order.
var registrationColumns = []string{"sn", "merchant_no", "merchant_name", "terminal_id", "acquirer", "branch_name", "branch_address",
	"account_enc", "account_mask", "access", "registered_at"}

// registrationRow is the stored form of r: the account sealed with sn as
// associated data, so a ciphertext moved to another device does not open.
func (s deviceStore) registrationRow(sn string, r *registry.Registration) []any {
	var enc []byte
	if r.Account != "" {
		enc = s.db.box.Seal([]byte(r.Account), []byte(sn))
	}
	return []any{sn, r.MerchantNo, r.MerchantName, r.TerminalID, r.Acquirer, r.BranchName, r.BranchAddress,
		enc, registry.MaskAccount(r.Account), string(r.Access), r.RegisteredAt.UTC().Truncate(time.Microsecond)}
}

// appendHistory writes history rows stamped with actor and at, in one round trip.
func (d *DB) appendHistory(ctx context.Context, q querier, actor string, at time.Time, changes []registry.Change) error {
	if len(changes) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO history (sn, actor, at, field, old, new, merchant_no) VALUES `)
	args := make([]any, 0, 3+4*len(changes))
	args = append(args, changes[0].SN, actor, at)
	for i, c := range changes {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($1, $2, $3, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
		args = append(args, c.Field, c.Old, c.New, c.MerchantNo)
	}
	if _, err := q.Exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("append history %s: %w", changes[0].SN, mapErr(err))
	}
	return nil
}

// GetDevice implements registry.Store.
func (s deviceStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	norm, err := registry.NormalizeSN(sn)
	if err != nil {
		return registry.Device{}, err
	}
	return s.get(ctx, s.db.pool, norm, opt, false)
}

// get reads device sn; forUpdate locks its row until the transaction ends.
func (s deviceStore) get(ctx context.Context, q querier, sn string, opt registry.ReadOptions, forUpdate bool) (registry.Device, error) {
	query := `SELECT ` + deviceColumns + deviceFrom + ` WHERE d.sn = $1`
	if forUpdate {
		query += ` FOR UPDATE OF d`
	}
	dev, err := s.scan(q.QueryRow(ctx, query, sn), opt)
	if errors.Is(err, pgx.ErrNoRows) {
		return registry.Device{}, fmt.Errorf("device %s: %w", sn, registry.ErrNotFound)
	}
	if err != nil {
		return registry.Device{}, fmt.Errorf("device %s: %w", sn, err)
	}
	return dev, nil
}

// scan reads one device row; the account is decrypted only when revealed.
func (s deviceStore) scan(row pgx.Row, opt registry.ReadOptions) (registry.Device, error) {
	var (
		dev                                             registry.Device
		produced, regAt                                 *time.Time
		status                                          string
		rsn, mno, mname, tid, acq, bname, baddr, access *string
		mask                                            *string
		enc                                             []byte
	)
	if err := row.Scan(&dev.SN, &dev.Model, &dev.Manufacturer, &dev.SupplierCode, &dev.Batch, &produced, &status, &dev.CreatedAt, &dev.UpdatedAt,
		&rsn, &mno, &mname, &tid, &acq, &bname, &baddr, &enc, &mask, &access, &regAt); err != nil {
		return registry.Device{}, err
	}
	if produced != nil {
		p := produced.UTC()
		dev.ProducedOn = registry.Date{Time: time.Date(p.Year(), p.Month(), p.Day(), 0, 0, 0, 0, time.UTC)}
	}
	dev.Status = registry.Status(status)
	dev.CreatedAt, dev.UpdatedAt = dev.CreatedAt.UTC(), dev.UpdatedAt.UTC()
	if rsn != nil {
		r := &registry.Registration{
			MerchantNo: str(mno), MerchantName: str(mname), TerminalID: str(tid), Acquirer: str(acq),
			BranchName: str(bname), BranchAddress: str(baddr), Access: registry.AccessMethod(str(access)),
			Account: str(mask),
		}
		if regAt != nil {
			r.RegisteredAt = regAt.UTC()
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
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if f.Status != "" {
		add("d.status =", string(f.Status))
	}
	if f.MerchantNo != "" {
		add("r.merchant_no =", f.MerchantNo)
	}
	if f.SupplierCode != "" {
		add("d.supplier_code =", strings.ToUpper(f.SupplierCode))
	}
	if f.Batch != "" {
		add("d.batch =", f.Batch)
	}
	if f.Model != "" {
		add("d.model =", f.Model)
	}
	if f.SNPrefix != "" {
		add("starts_with(d.sn,", f.SNPrefix)
		where[len(where)-1] += ")"
	}
	if f.Cursor != "" {
		after, err := registry.AfterCursor(f.Cursor)
		if err != nil {
			return registry.Page{}, err
		}
		add("d.sn >", after)
	}
	query := `SELECT ` + deviceColumns + deviceFrom
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := f.PageSize()
	args = append(args, limit+1)
	query += ` ORDER BY d.sn LIMIT $` + strconv.Itoa(len(args))
	rows, err := s.db.pool.Query(ctx, query, args...)
	if err != nil {
		return registry.Page{}, fmt.Errorf("list devices: %w", mapErr(err))
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
		return registry.Page{}, fmt.Errorf("list devices: %w", mapErr(err))
	}
	return registry.PageOf(devs, limit), nil
}

// write stores dev over old and appends the differences to history.
func (s deviceStore) write(ctx context.Context, q querier, actor string, old, dev registry.Device) error {
	changes := registry.Diff(old, dev)
	if len(changes) == 0 {
		return nil
	}
	now := s.db.now()
	if _, err := q.Exec(ctx, `UPDATE devices SET model = $1, manufacturer = $2, supplier_code = $3, batch = $4, produced_on = $5, status = $6, updated_at = $7 WHERE sn = $8`,
		dev.Model, dev.Manufacturer, dev.SupplierCode, dev.Batch, dateArg(dev.ProducedOn), string(dev.Status), now, dev.SN); err != nil {
		return fmt.Errorf("update device %s: %w", dev.SN, mapErr(err))
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
	rows, err := s.db.pool.Query(ctx, `SELECT id, sn, actor, at, field, old, new, merchant_no FROM history WHERE sn = $1 ORDER BY id`, norm)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", norm, err)
	}
	defer rows.Close()
	out := []registry.Change{}
	for rows.Next() {
		var c registry.Change
		if err := rows.Scan(&c.ID, &c.SN, &c.Actor, &c.At, &c.Field, &c.Old, &c.New, &c.MerchantNo); err != nil {
			return nil, fmt.Errorf("history %s: %w", norm, err)
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history %s: %w", norm, err)
	}
	if len(out) == 0 {
		if _, err := s.get(ctx, s.db.pool, norm, registry.ReadOptions{}, false); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// dateArg is the DATE parameter for d: NULL for the zero date.
func dateArg(d registry.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.Time
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
