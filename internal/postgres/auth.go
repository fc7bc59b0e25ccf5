package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/audit"
	"posid/internal/auth"
)

// Keys returns the API key store of d. Keys are shared by every process on
// the database; the auth.Cache in front of it is per process and follows
// d.Revocations, so a revoked key is refused everywhere at once.
func (d *DB) Keys() auth.Store { return keyStore{d} }

// keyStore implements auth.Store.
type keyStore struct{ db *DB }

const keyColumns = `id, name, role, merchant_no, supplier_code, hash, created_at, revoked_at`

// keySelect reads keys with their user's disabled flag.
const keySelect = `SELECT k.id, k.name, k.role, k.merchant_no, k.supplier_code, k.hash, k.created_at, k.revoked_at,
	COALESCE(ku.user_id, 0), COALESCE(u.disabled, FALSE) FROM api_keys k
	LEFT JOIN api_key_users ku ON ku.key_id = k.id LEFT JOIN users u ON u.id = ku.user_id`

// CreateKey implements auth.Store.
func (s keyStore) CreateKey(ctx context.Context, k auth.Key, log ...audit.Entry) (auth.Key, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = s.db.now()
	}
	var auditErr error
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)`,
			k.ID, k.Name, string(k.Role), k.MerchantNo, k.SupplierCode, k.Hash, k.CreatedAt); err != nil {
			return err
		}
		if k.UserID != 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO api_key_users (key_id, user_id) VALUES ($1, $2)`, k.ID, k.UserID); err != nil {
				return err
			}
		}
		auditErr = s.db.appendAudit(ctx, tx, log)
		return auditErr
	})
	if auditErr != nil {
		return auth.Key{}, fmt.Errorf("api key %s not created: %w", k.ID, auditErr)
	}
	if isUnique(err) || isInvalid(err) {
		return auth.Key{}, fmt.Errorf("api key %s: %w", k.ID, auth.ErrInvalid)
	}
	if err != nil {
		return auth.Key{}, fmt.Errorf("insert api key: %w", err)
	}
	return k, nil
}

// Key implements auth.Store.
func (s keyStore) Key(ctx context.Context, id string) (auth.Key, error) {
	k, err := scanKey(s.db.pool.QueryRow(ctx, keySelect+` WHERE k.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Key{}, fmt.Errorf("api key %s: %w", id, auth.ErrNotFound)
	}
	return k, err
}

// Keys implements auth.Store.
func (s keyStore) Keys(ctx context.Context) ([]auth.Key, error) {
	rows, err := s.db.pool.Query(ctx, keySelect+` ORDER BY k.created_at DESC, k.id`)
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

// RevokeKey implements auth.Store; the revocation counter moves and is
// announced in the same transaction.
func (s keyStore) RevokeKey(ctx context.Context, id string, log ...audit.Entry) (auth.Key, error) {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, s.db.now(), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			// Revoked already, or no such key: only a key is audited.
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM api_keys WHERE id = $1`, id).Scan(&one); errors.Is(err, pgx.ErrNoRows) {
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

func scanKey(row pgx.Row) (auth.Key, error) {
	var k auth.Key
	var role string
	var revoked *time.Time
	if err := row.Scan(&k.ID, &k.Name, &role, &k.MerchantNo, &k.SupplierCode, &k.Hash, &k.CreatedAt, &revoked, &k.UserID, &k.OwnerDisabled); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return k, err
		}
		return k, fmt.Errorf("read api key: %w", err)
	}
	k.Role = auth.Role(role)
	k.CreatedAt = k.CreatedAt.UTC()
	if revoked != nil {
		t := revoked.UTC()
		k.RevokedAt = &t
	}
	return k, nil
}
