package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"posid/internal/audit"
	"posid/internal/auth"
)

// Keys returns the API key store of d.
func (d *DB) Keys() auth.Store { return keyStore{d} }

// keyStore implements auth.Store.
type keyStore struct{ db *DB }

const keyColumns = `id, name, role, merchant_no, supplier_code, hash, created_at, revoked_at`

// keySelect reads keys with their user's disabled flag.
const keySelect = `SELECT k.id, k.name, k.role, k.merchant_no, k.supplier_code, k.hash, k.created_at, k.revoked_at,
	COALESCE(ku.user_id, 0), COALESCE(u.disabled, 0) FROM api_keys k
	LEFT JOIN api_key_users ku ON ku.key_id = k.id LEFT JOIN users u ON u.id = ku.user_id`

// CreateKey implements auth.Store.
func (s keyStore) CreateKey(ctx context.Context, k auth.Key, log ...audit.Entry) (auth.Key, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.db.now()
	}
	var auditErr error
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, '')`,
			k.ID, k.Name, string(k.Role), k.MerchantNo, k.SupplierCode, k.Hash, fmtTime(k.CreatedAt)); err != nil {
			return err
		}
		if k.UserID != 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO api_key_users (key_id, user_id) VALUES (?, ?)`, k.ID, k.UserID); err != nil {
				return err
			}
		}
		auditErr = s.db.appendAudit(ctx, tx, log)
		return auditErr
	})
	if auditErr != nil {
		return auth.Key{}, fmt.Errorf("api key %s not created: %w", k.ID, auditErr)
	}
	if isUnique(err) {
		return auth.Key{}, fmt.Errorf("api key %s: %w", k.ID, auth.ErrInvalid)
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("insert api key: %w", err)
	}
	return k, nil
}

// Key implements auth.Store.
func (s keyStore) Key(ctx context.Context, id string) (auth.Key, error) {
	k, err := scanKey(s.db.sql.QueryRowContext(ctx, keySelect+` WHERE k.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Key{}, fmt.Errorf("api key %s: %w", id, auth.ErrNotFound)
	}
	return k, err
}

// Keys implements auth.Store.
func (s keyStore) Keys(ctx context.Context) ([]auth.Key, error) {
	rows, err := s.db.sql.QueryContext(ctx, keySelect+` ORDER BY k.created_at DESC, k.id`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	var ks []auth.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, rows.Err()
}

// RevokeKey implements auth.Store; the revocation counter moves in the
// same transaction, so every server's cache drops the key.
func (s keyStore) RevokeKey(ctx context.Context, id string, log ...audit.Entry) (auth.Key, error) {
	err := s.db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = ''`, fmtTime(s.db.now()), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			// Revoked already, or no such key: only a key is audited.
			var one int
			if err := tx.QueryRowContext(ctx, `SELECT 1 FROM api_keys WHERE id = ?`, id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
				return auth.ErrNotFound
			} else if err != nil {
				return err
			}
		} else if err := bumpRevocations(ctx, tx); err != nil {
			return err
		}
		return s.db.appendAudit(ctx, tx, log)
	})
	if err != nil {
		return auth.Key{}, fmt.Errorf("revoke api key %s: %w", id, err)
	}
	return s.Key(ctx, id)
}

func scanKey(row interface{ Scan(...any) error }) (auth.Key, error) {
	var k auth.Key
	var role, created, revoked string
	if err := row.Scan(&k.ID, &k.Name, &role, &k.MerchantNo, &k.SupplierCode, &k.Hash, &created, &revoked, &k.UserID, &k.OwnerDisabled); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return k, err
		}
		return k, fmt.Errorf("read api key: %w", err)
	}
	k.Role = auth.Role(role)
	k.CreatedAt = parseTime(created)
	if revoked != "" {
		t := parseTime(revoked)
		k.RevokedAt = &t
	}
	return k, nil
}
