package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
	"posid/internal/changes"
)

// Changes returns the change request store on d.
func (d *DB) Changes() changes.Store { return changeStore{d} }

// changeStore implements changes.Store.
type changeStore struct{ db *DB }

const changeColumns = `id, sn, merchant_no, actor, field, old_value, old_address, old_enc, new_value, new_address, new_enc,
	reason, photo_type, photo_size, state, filed_at, decided_at, decided_by, note`

// changeAAD binds an encrypted account of a request to its device and side.
func changeAAD(sn, side string) []byte { return []byte("change-request:" + side + ":" + sn) }

// Counts implements changes.Store.
func (s changeStore) Counts(ctx context.Context, sn, merchantNo string, now time.Time) (changes.Counts, error) {
	return countChanges(ctx, s.db.pool, sn, merchantNo, now)
}

func countChanges(ctx context.Context, q querier, sn, merchantNo string, now time.Time) (changes.Counts, error) {
	var n changes.Counts
	err := q.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM change_requests WHERE sn = $1 AND state = 'pending'),
		(SELECT count(*) FROM change_requests WHERE merchant_no = $2 AND filed_at > $3),
		(SELECT count(*) FROM change_requests WHERE merchant_no = $2 AND filed_at > $3 AND photo_size > 0),
		(SELECT coalesce(sum(photo_size), 0) FROM change_requests WHERE merchant_no = $2 AND filed_at > $3)`,
		sn, merchantNo, now.Add(-changes.Window)).
		Scan(&n.Pending, &n.Filed, &n.Photos, &n.PhotoBytes)
	if err != nil {
		return n, fmt.Errorf("count change requests: %w", err)
	}
	return n, nil
}

// AddRequest implements changes.Store.
func (s changeStore) AddRequest(ctx context.Context, r changes.Request, photo *changes.Photo, check func(changes.Counts) error, record func(changes.Request) audit.Entry) (changes.Request, error) {
	var oldEnc, newEnc, blob []byte
	if r.OldAccount != "" {
		oldEnc = s.db.box.Seal([]byte(r.OldAccount), changeAAD(r.SN, "old"))
	}
	if r.NewAccount != "" {
		newEnc = s.db.box.Seal([]byte(r.NewAccount), changeAAD(r.SN, "new"))
	}
	if photo != nil {
		blob, r.PhotoType, r.PhotoSize = photo.Data, photo.Type, len(photo.Data)
	}
	r.FiledAt = r.FiledAt.UTC().Truncate(time.Microsecond)
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		// One filing of a merchant at a time: the counts hold for the insert.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('change_requests:' || $1))`, r.MerchantNo); err != nil {
			return fmt.Errorf("lock change requests: %w", err)
		}
		n, err := countChanges(ctx, tx, r.SN, r.MerchantNo, r.FiledAt)
		if err != nil {
			return err
		}
		if err := check(n); err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO change_requests (sn, merchant_no, actor, field, old_value, old_address, old_enc,
			new_value, new_address, new_enc, reason, photo_type, photo_size, photo, state, filed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id`,
			r.SN, r.MerchantNo, r.Actor, string(r.Field), r.Old.Value, r.Old.Address, oldEnc, r.New.Value, r.New.Address, newEnc,
			r.Reason, r.PhotoType, r.PhotoSize, blob, string(r.State), r.FiledAt).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("insert change request: %w", mapErr(err))
		}
		if record == nil {
			return nil
		}
		return s.db.appendAudit(ctx, tx, []audit.Entry{record(r)})
	})
	if err != nil {
		return changes.Request{}, err
	}
	return r, nil
}

// Request implements changes.Store.
func (s changeStore) Request(ctx context.Context, id int64) (changes.Request, error) {
	return s.db.changeRequest(ctx, s.db.pool, id, false)
}

// changeRequest reads request id; lock keeps its row locked until the
// transaction ends.
func (d *DB) changeRequest(ctx context.Context, q querier, id int64, lock bool) (changes.Request, error) {
	query := `SELECT ` + changeColumns + ` FROM change_requests WHERE id = $1`
	if lock {
		query += ` FOR UPDATE`
	}
	r, err := d.scanChange(q.QueryRow(ctx, query, id), true)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("change request %d: %w", id, changes.ErrNotFound)
	}
	return r, err
}

// Requests implements changes.Store.
func (s changeStore) Requests(ctx context.Context, f changes.Filter) ([]changes.Request, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	if f.MerchantNo != "" {
		add("merchant_no =", f.MerchantNo)
	}
	if f.SN != "" {
		add("sn =", f.SN)
	}
	if f.State != "" {
		add("state =", string(f.State))
	}
	if f.Before > 0 {
		add("id <", f.Before)
	}
	q := `SELECT ` + changeColumns + ` FROM change_requests`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.PageSize())
	rows, err := s.db.pool.Query(ctx, q+` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("list change requests: %w", err)
	}
	defer rows.Close()
	out := []changes.Request{}
	for rows.Next() {
		r, err := s.db.scanChange(rows, false)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Photo implements changes.Store.
func (s changeStore) Photo(ctx context.Context, id int64) (changes.Photo, error) {
	var p changes.Photo
	err := s.db.pool.QueryRow(ctx, `SELECT photo_type, photo FROM change_requests WHERE id = $1 AND photo IS NOT NULL`, id).Scan(&p.Type, &p.Data)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("photo of change request %d: %w", id, changes.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("read photo: %w", err)
	}
	return p, nil
}

// Decide implements changes.Store.
func (s changeStore) Decide(ctx context.Context, id int64, state changes.State, by, note string, at time.Time, record func(changes.Request) audit.Entry) (changes.Request, error) {
	var out changes.Request
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if out, err = s.db.decideChange(ctx, tx, id, state, by, note, at); err != nil || record == nil {
			return err
		}
		return s.db.appendAudit(ctx, tx, []audit.Entry{record(out)})
	})
	return out, err
}

// decideChange moves pending request id to state within q's transaction.
func (d *DB) decideChange(ctx context.Context, q querier, id int64, state changes.State, by, note string, at time.Time) (changes.Request, error) {
	tag, err := q.Exec(ctx, `UPDATE change_requests SET state = $1, decided_at = $2, decided_by = $3, note = $4 WHERE id = $5 AND state = 'pending'`,
		string(state), at.UTC().Truncate(time.Microsecond), by, note, id)
	if err != nil {
		return changes.Request{}, fmt.Errorf("decide change request %d: %w", id, mapErr(err))
	}
	if tag.RowsAffected() == 0 {
		r, err := d.changeRequest(ctx, q, id, false)
		if err != nil {
			return changes.Request{}, err
		}
		return changes.Request{}, fmt.Errorf("%w: change request %d is %s", changes.ErrConflict, id, r.State)
	}
	return d.changeRequest(ctx, q, id, false)
}

// ChangeRequest implements changes.Tx.
func (t txStore) ChangeRequest(ctx context.Context, id int64) (changes.Request, error) {
	return t.s.db.changeRequest(ctx, t.tx, id, true)
}

// DecideChange implements changes.Tx.
func (t txStore) DecideChange(ctx context.Context, id int64, state changes.State, by, note string, at time.Time) (changes.Request, error) {
	return t.s.db.decideChange(ctx, t.tx, id, state, by, note, at)
}

// scanChange reads one request row; reveal decrypts its accounts.
func (d *DB) scanChange(row interface{ Scan(...any) error }, reveal bool) (changes.Request, error) {
	var (
		r              changes.Request
		field, state   string
		filed          time.Time
		decided        *time.Time
		oldEnc, newEnc []byte
	)
	if err := row.Scan(&r.ID, &r.SN, &r.MerchantNo, &r.Actor, &field, &r.Old.Value, &r.Old.Address, &oldEnc, &r.New.Value, &r.New.Address, &newEnc,
		&r.Reason, &r.PhotoType, &r.PhotoSize, &state, &filed, &decided, &r.DecidedBy, &r.Note); err != nil {
		return r, err
	}
	r.Field, r.State, r.FiledAt = changes.Field(field), changes.State(state), filed.UTC()
	if decided != nil {
		r.DecidedAt = decided.UTC()
	}
	if !reveal {
		return r, nil
	}
	for _, a := range []struct {
		enc  []byte
		side string
		dst  *string
	}{{oldEnc, "old", &r.OldAccount}, {newEnc, "new", &r.NewAccount}} {
		if len(a.enc) == 0 {
			continue
		}
		plain, err := d.box.Open(a.enc, changeAAD(r.SN, a.side))
		if err != nil {
			return r, fmt.Errorf("change request %d account: %w", r.ID, err)
		}
		*a.dst = string(plain)
	}
	return r, nil
}
