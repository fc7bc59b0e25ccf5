package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/users"
)

// Users returns the store of people who sign in and their sessions,
// shared by every process on the database. TOTP secrets are sealed with
// d's encryption key; password hashes are read only by Credentials.
func (d *DB) Users() users.Store { return userStore{d} }

// userStore implements users.Store.
type userStore struct{ db *DB }

const userColumns = `id, name, role, merchant_no, supplier_code, phone, email, disabled, totp_enc IS NOT NULL, created_at, updated_at`

// totpContext binds a sealed TOTP secret to its user.
func totpContext(id int64) []byte { return []byte("user-totp:" + strconv.FormatInt(id, 10)) }

// CreateUser implements users.Store.
func (s userStore) CreateUser(ctx context.Context, u users.User, hash string, log ...audit.Entry) (users.User, error) {
	now := s.db.now()
	u.CreatedAt, u.UpdatedAt, u.Disabled, u.TOTP = now, now, false, false
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO users (name, role, merchant_no, supplier_code, phone, email, password_hash, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id`, u.Name, string(u.Role), u.MerchantNo, u.SupplierCode, u.Phone, u.Email, hash, now).Scan(&u.ID)
		if isUnique(err) {
			return fmt.Errorf("user %s: %w", u.Name, users.ErrExists)
		}
		if isInvalid(err) {
			return fmt.Errorf("user %s: %w: %v", u.Name, users.ErrInvalid, err)
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		return s.db.appendAudit(ctx, tx, log)
	})
	return u, err
}

// User implements users.Store.
func (s userStore) User(ctx context.Context, name string) (users.User, error) {
	u, err := scanUser(s.db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("user %q: %w", name, users.ErrNotFound)
	}
	return u, err
}

// UserByID implements users.Store.
func (s userStore) UserByID(ctx context.Context, id int64) (users.User, error) {
	u, err := scanUser(s.db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return u, fmt.Errorf("user %d: %w", id, users.ErrNotFound)
	}
	return u, err
}

// Users implements users.Store.
func (s userStore) Users(ctx context.Context) ([]users.User, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	us := []users.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// Credentials implements users.Store.
func (s userStore) Credentials(ctx context.Context, id int64) (users.Credentials, error) {
	var (
		hash         string
		enc, pending []byte
	)
	err := s.db.pool.QueryRow(ctx, `SELECT password_hash, totp_enc, totp_pending_enc FROM users WHERE id = $1`, id).Scan(&hash, &enc, &pending)
	if errors.Is(err, pgx.ErrNoRows) {
		return users.Credentials{}, fmt.Errorf("user %d: %w", id, users.ErrNotFound)
	}
	if err != nil {
		return users.Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	c := users.Credentials{PasswordHash: users.Secret(hash)}
	for _, f := range []struct {
		enc []byte
		to  *users.Secret
	}{{enc, &c.TOTPSecret}, {pending, &c.PendingTOTP}} {
		if f.enc == nil {
			continue
		}
		plain, err := s.db.box.Open(f.enc, totpContext(id))
		if err != nil {
			return users.Credentials{}, fmt.Errorf("user %d totp: %w", id, err)
		}
		*f.to = users.Secret(plain)
	}
	return c, nil
}

// update runs one UPDATE of user id with its audit rows, and ends the
// user's sessions (announcing it) when endSessions is set.
func (s userStore) update(ctx context.Context, id int64, endSessions bool, log []audit.Entry, q string, args ...any) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("update user %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d: %w", id, users.ErrNotFound)
		}
		if endSessions {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("end sessions: %w", err)
			}
			if err := bumpRevocations(ctx, tx); err != nil {
				return err
			}
		}
		return s.db.appendAudit(ctx, tx, log)
	})
}

// SetPassword implements users.Store.
func (s userStore) SetPassword(ctx context.Context, id int64, hash string, log ...audit.Entry) error {
	return s.update(ctx, id, true, log, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, s.db.now(), id)
}

// ChangePassword implements users.Store; the revocation counter moves and
// is announced, so every server's session cache drops the sessions ended.
func (s userStore) ChangePassword(ctx context.Context, id int64, hash string, keep []byte, log ...audit.Entry) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, s.db.now(), id)
		if err != nil {
			return fmt.Errorf("change password of user %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d: %w", id, users.ErrNotFound)
		}
		q, args := `DELETE FROM sessions WHERE user_id = $1`, []any{id}
		if keep != nil {
			q, args = q+` AND id_hash <> $2`, append(args, keep)
		}
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		if err := bumpRevocations(ctx, tx); err != nil {
			return err
		}
		return s.db.appendAudit(ctx, tx, log)
	})
}

// SetDisabled implements users.Store.
func (s userStore) SetDisabled(ctx context.Context, id int64, disabled bool, log ...audit.Entry) error {
	return s.update(ctx, id, true, log, `UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3`, disabled, s.db.now(), id)
}

// SetPendingTOTP implements users.Store.
func (s userStore) SetPendingTOTP(ctx context.Context, id int64, secret string) error {
	var enc []byte
	if secret != "" {
		enc = s.db.box.Seal([]byte(secret), totpContext(id))
	}
	return s.update(ctx, id, false, nil, `UPDATE users SET totp_pending_enc = $1 WHERE id = $2`, enc, id)
}

// SetTOTP implements users.Store.
func (s userStore) SetTOTP(ctx context.Context, id int64, secret string, hashes [][]byte, log ...audit.Entry) error {
	var enc []byte
	if secret != "" {
		enc = s.db.box.Seal([]byte(secret), totpContext(id))
	}
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET totp_enc = $1, totp_pending_enc = NULL, updated_at = $2 WHERE id = $3`, enc, s.db.now(), id)
		if err != nil {
			return fmt.Errorf("set totp: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("user %d: %w", id, users.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = $1`, id); err != nil {
			return fmt.Errorf("set totp: %w", err)
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `INSERT INTO user_recovery_codes (user_id, hash) VALUES ($1, $2)`, id, h); err != nil {
				return fmt.Errorf("set totp: %w", err)
			}
		}
		return s.db.appendAudit(ctx, tx, log)
	})
}

// UseTOTPStep implements users.Store: one conditional UPDATE, so two
// servers given the same code accept it once.
func (s userStore) UseTOTPStep(ctx context.Context, id, step int64) (bool, error) {
	tag, err := s.db.pool.Exec(ctx, `UPDATE users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, id)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// UseRecoveryCode implements users.Store.
func (s userStore) UseRecoveryCode(ctx context.Context, id int64, hash []byte, log ...audit.Entry) (bool, error) {
	used := false
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM user_recovery_codes WHERE user_id = $1 AND hash = $2`, id, hash)
		if err != nil {
			return fmt.Errorf("use recovery code: %w", err)
		}
		if used = tag.RowsAffected() == 1; !used {
			return nil
		}
		return s.db.appendAudit(ctx, tx, log)
	})
	return used, err
}

// RecoveryCodesLeft implements users.Store.
func (s userStore) RecoveryCodesLeft(ctx context.Context, id int64) (int, error) {
	var n int
	err := s.db.pool.QueryRow(ctx, `SELECT count(*) FROM user_recovery_codes WHERE user_id = $1`, id).Scan(&n)
	return n, err
}

// CreateSession implements users.Store.
func (s userStore) CreateSession(ctx context.Context, ss users.Session, log ...audit.Entry) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)`,
			ss.Hash, ss.UserID, ss.CreatedAt, ss.LastSeen); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		return s.db.appendAudit(ctx, tx, log)
	})
}

// Session implements users.Store.
func (s userStore) Session(ctx context.Context, hash []byte) (users.Session, error) {
	ss := users.Session{Hash: hash}
	err := s.db.pool.QueryRow(ctx, `SELECT user_id, created_at, last_seen_at FROM sessions WHERE id_hash = $1`, hash).Scan(&ss.UserID, &ss.CreatedAt, &ss.LastSeen)
	if errors.Is(err, pgx.ErrNoRows) {
		return ss, users.ErrNoSession
	}
	if err != nil {
		return ss, fmt.Errorf("read session: %w", err)
	}
	ss.CreatedAt, ss.LastSeen = ss.CreatedAt.UTC(), ss.LastSeen.UTC()
	return ss, nil
}

// TouchSession implements users.Store.
func (s userStore) TouchSession(ctx context.Context, hash []byte, at time.Time) error {
	_, err := s.db.pool.Exec(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, at, hash)
	return err
}

// EndSession implements users.Store; the revocation counter moves and is
// announced, so every server's session cache drops it.
func (s userStore) EndSession(ctx context.Context, hash []byte, log ...audit.Entry) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if err := bumpRevocations(ctx, tx); err != nil {
			return err
		}
		return s.db.appendAudit(ctx, tx, log)
	})
}

// EndSessions implements users.Store.
func (s userStore) EndSessions(ctx context.Context, id int64, log ...audit.Entry) (int, error) {
	var n int64
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, id)
		if err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		n = tag.RowsAffected()
		if err := bumpRevocations(ctx, tx); err != nil {
			return err
		}
		return s.db.appendAudit(ctx, tx, log)
	})
	return int(n), err
}

// PurgeSessions implements users.Store.
func (s userStore) PurgeSessions(ctx context.Context, idleBefore, createdBefore time.Time) error {
	_, err := s.db.pool.Exec(ctx, `DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2`, idleBefore, createdBefore)
	return err
}

func scanUser(row pgx.Row) (users.User, error) {
	var u users.User
	var role string
	if err := row.Scan(&u.ID, &u.Name, &role, &u.MerchantNo, &u.SupplierCode, &u.Phone, &u.Email, &u.Disabled, &u.TOTP, &u.CreatedAt, &u.UpdatedAt); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return u, err
		}
		return u, fmt.Errorf("read user: %w", err)
	}
	u.Role = auth.Role(role)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, nil
}
