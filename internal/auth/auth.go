// Package auth holds posid's API keys: roles, the principal a key stands
// for, the token format and its verification. Tokens are 32 random bytes;
// only their SHA-256 hash is stored, looked up by a short public key id and
// compared in constant time.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/internal/enum"
)

// Errors of the auth package; test with errors.Is.
var (
	// ErrUnauthenticated means no key, a malformed key, an unknown key or a
	// revoked key was presented. It never says which.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden means the key is valid but its role may not do this.
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound means no key with that id exists.
	ErrNotFound = errors.New("api key not found")
	// ErrInvalid means a key's fields failed validation.
	ErrInvalid = errors.New("invalid api key")
)

// Role is what a key may do.
type Role string

// Roles of API keys.
const (
	// RoleMerchant is bound to one merchant number: the full registration of
	// its own devices (account masked), public facts of the others.
	RoleMerchant Role = "merchant"
	// RoleWarehouse provisions, imports, prints labels and changes status;
	// it never sees registration data.
	RoleWarehouse Role = "warehouse"
	// RoleSupplier verifies units and reads its own supplier's devices,
	// without settlement account data.
	RoleSupplier Role = "supplier"
	// RoleReviewer works the review queue (risk cases, complaints) and
	// merchants' change requests: registrations masked, the full account
	// only of a device under review, every reveal audited. It changes no
	// status, prints no labels, manages no keys and imports nothing; it
	// is bound to no merchant or supplier.
	RoleReviewer Role = "reviewer"
	// RoleAdmin may do everything, including revealing full accounts.
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleMerchant, RoleWarehouse, RoleSupplier, RoleReviewer, RoleAdmin}

// ParseRole returns the role named s. Errors wrap ErrInvalid.
func ParseRole(s string) (Role, error) {
	if r, ok := enum.Parse(s, Roles...); ok {
		return r, nil
	}
	return "", fmt.Errorf("%w: unknown role %q (want %s)", ErrInvalid, s, enum.Words(Roles...))
}

// Token format: TokenPrefix, the key id, "_", then the secret.
const (
	// TokenPrefix starts every API key token, so leaked keys are easy to grep.
	TokenPrefix = "posid_"
	// idBytes is the size of the public key id (hex encoded in the token).
	idBytes = 6
	// secretBytes is the size of the random secret (base64url in the token).
	secretBytes = 32
	// maxNameLen bounds a key's human name.
	maxNameLen = 100
	// maxTokenLen bounds a presented token before any parsing.
	maxTokenLen = 128
)

// Key is one API key as stored, without its secret.
type Key struct {
	// ID is the public key id, the part of the token after TokenPrefix.
	ID string `json:"id"`
	// Name says who or what holds the key.
	Name string `json:"name"`
	Role Role   `json:"role"`
	// MerchantNo binds a merchant key to its merchant.
	MerchantNo string `json:"merchant_no,omitempty"`
	// SupplierCode binds a supplier key to its supplier.
	SupplierCode string    `json:"supplier_code,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	// RevokedAt is set once the key is revoked; revoked keys never authenticate.
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// UserID is the signed-in user who created the key (0: made by the
	// CLI or another key). A disabled user's keys stop working.
	UserID int64 `json:"user_id,omitempty"`
	// OwnerDisabled is set when the key's user is disabled.
	OwnerDisabled bool `json:"-"`
	// Hash is the SHA-256 of the full token.
	Hash []byte `json:"-"`
}

// Actor names the key in history and audit rows: "apikey:ID(name)".
func (k Key) Actor() string { return "apikey:" + k.ID + "(" + k.Name + ")" }

// Validate normalizes k in place and checks its role and bindings.
func (k *Key) Validate() error {
	k.Name = strings.TrimSpace(k.Name)
	k.MerchantNo = strings.TrimSpace(k.MerchantNo)
	k.SupplierCode = strings.ToUpper(strings.TrimSpace(k.SupplierCode))
	role, err := ParseRole(string(k.Role))
	if err != nil {
		return err
	}
	k.Role = role
	switch {
	case k.Name == "":
		return fmt.Errorf("%w: name is required", ErrInvalid)
	case len([]rune(k.Name)) > maxNameLen:
		return fmt.Errorf("%w: name longer than %d characters", ErrInvalid, maxNameLen)
	case role == RoleMerchant && k.MerchantNo == "":
		return fmt.Errorf("%w: a merchant key needs a merchant number", ErrInvalid)
	case role == RoleSupplier && k.SupplierCode == "":
		return fmt.Errorf("%w: a supplier key needs a supplier code", ErrInvalid)
	case role != RoleMerchant && k.MerchantNo != "":
		return fmt.Errorf("%w: only merchant keys are bound to a merchant", ErrInvalid)
	case role != RoleSupplier && k.SupplierCode != "":
		return fmt.Errorf("%w: only supplier keys are bound to a supplier", ErrInvalid)
	}
	return nil
}

// Store keeps API keys. Writes take the audit rows that record them and
// append them in the same transaction.
type Store interface {
	// CreateKey stores k (ID and Hash set by the caller, see NewToken).
	CreateKey(ctx context.Context, k Key, log ...audit.Entry) (Key, error)
	// Key returns the key with id, revoked or not; ErrNotFound if none.
	Key(ctx context.Context, id string) (Key, error)
	// Keys returns every key, newest first.
	Keys(ctx context.Context) ([]Key, error)
	// RevokeKey marks the key revoked; revoking twice changes nothing but
	// appends log. ErrNotFound (and no audit row) without the key.
	RevokeKey(ctx context.Context, id string, log ...audit.Entry) (Key, error)
}

// NewToken returns a fresh token and fills k.ID and k.Hash for it.
func NewToken(k *Key) (string, error) {
	id := make([]byte, idBytes)
	secret := make([]byte, secretBytes)
	if _, err := rand.Read(id); err != nil {
		return "", err
	}
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	k.ID = hex.EncodeToString(id)
	tok := TokenPrefix + k.ID + "_" + base64.RawURLEncoding.EncodeToString(secret)
	h := sha256.Sum256([]byte(tok))
	k.Hash = h[:]
	return tok, nil
}

// Create validates k, makes its token, stores it and returns the stored key
// and the token, which is shown once and never stored.
func Create(ctx context.Context, st Store, k Key) (Key, string, error) {
	k, tok, err := Prepare(k)
	if err != nil {
		return Key{}, "", err
	}
	k, err = st.CreateKey(ctx, k)
	if err != nil {
		return Key{}, "", err
	}
	return k, tok, nil
}

// Prepare validates k and makes its token (setting ID, Hash and
// CreatedAt), ready for Store.CreateKey: the key's ID is known before it
// is stored, so the audit row of its creation can name it.
func Prepare(k Key) (Key, string, error) {
	if err := k.Validate(); err != nil {
		return Key{}, "", err
	}
	tok, err := NewToken(&k)
	if err != nil {
		return Key{}, "", fmt.Errorf("new api key: %w", err)
	}
	k.CreatedAt = time.Now().UTC().Truncate(time.Second)
	return k, tok, nil
}

// ParseToken splits a token into its key id, checking its shape only.
func ParseToken(tok string) (id string, err error) {
	if len(tok) > maxTokenLen {
		return "", ErrUnauthenticated
	}
	rest, ok := strings.CutPrefix(tok, TokenPrefix)
	if !ok {
		return "", ErrUnauthenticated
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || base64.RawURLEncoding.DecodedLen(len(secret)) != secretBytes {
		return "", ErrUnauthenticated
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", ErrUnauthenticated
	}
	return id, nil
}

// ValidID reports whether id has the shape of a key id (hex, idBytes long).
func ValidID(id string) bool {
	if len(id) != 2*idBytes {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// Check reports whether tok is the token of k, k is not revoked and its
// user (if any) is not disabled, comparing hashes in constant time.
func Check(k Key, tok string) bool {
	h := sha256.Sum256([]byte(tok))
	match := subtle.ConstantTimeCompare(h[:], k.Hash) == 1
	return match && k.RevokedAt == nil && !k.OwnerDisabled
}

// Authenticate returns the key that tok belongs to. Every failure is
// ErrUnauthenticated; lookup errors other than ErrNotFound are wrapped.
func Authenticate(ctx context.Context, st Store, tok string) (Key, error) {
	id, err := ParseToken(tok)
	if err != nil {
		return Key{}, err
	}
	k, err := st.Key(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Key{}, ErrUnauthenticated
	}
	if err != nil {
		return Key{}, fmt.Errorf("authenticate: %w", err)
	}
	if !Check(k, tok) {
		return Key{}, ErrUnauthenticated
	}
	return k, nil
}
