// Package users holds the people who sign in to posid: their accounts
// (name, role, scope, contact), password hashes (argon2id), second factors
// (TOTP and single-use recovery codes), sessions and the sign-in throttle.
// It is free of HTTP and SQL: internal/sqlite and internal/postgres
// implement Store, internal/service applies the rules.
//
// Secrets stay in the store: User carries no password hash and no TOTP
// secret; Credentials, which does, is read only to check a sign-in and
// redacts itself in JSON, fmt and slog.
package users

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
)

// Errors of the users package; test with errors.Is.
var (
	// ErrNotFound means no user with that name or id exists.
	ErrNotFound = errors.New("user not found")
	// ErrExists means a user with that name exists already.
	ErrExists = errors.New("user exists")
	// ErrInvalid means a user's fields failed validation.
	ErrInvalid = errors.New("invalid user")
	// ErrWeakPassword means a password is too short, too common or the
	// user's own name.
	ErrWeakPassword = errors.New("weak password")
	// ErrSignIn means a sign-in failed: unknown user, wrong password,
	// disabled account or wrong second factor. It never says which.
	ErrSignIn = errors.New("sign-in failed: wrong name, password or code")
	// ErrLocked means sign-in is refused for a while after repeated
	// failures (see Throttle).
	ErrLocked = errors.New("too many failed sign-ins")
	// ErrNoSession means the session is unknown, ended or expired.
	ErrNoSession = errors.New("no session")
)

// Limits of a user's fields.
const (
	// MaxNameLen bounds a login name.
	MaxNameLen = 64
	// maxContactLen bounds phone and email.
	maxContactLen = 100
)

// RoleReviewer is the role of people who review cases and approve change
// requests; it needs TOTP like admin.
const RoleReviewer = auth.RoleReviewer

// NeedsTOTP reports whether users of role must enrol TOTP before they
// can finish signing in: reviewers and admins.
func NeedsTOTP(role auth.Role) bool { return role == auth.RoleAdmin || role == RoleReviewer }

// User is a person who signs in. It never holds secrets.
type User struct {
	ID int64 `json:"id"`
	// Name is the unique login name: lower case letters, digits and . _ - @.
	Name string    `json:"name"`
	Role auth.Role `json:"role"`
	// MerchantNo binds a merchant user, SupplierCode a supplier user,
	// with the same rules as auth.Key.
	MerchantNo   string `json:"merchant_no,omitempty"`
	SupplierCode string `json:"supplier_code,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	// Disabled users cannot sign in; their sessions and API keys stop working.
	Disabled bool `json:"disabled"`
	// TOTP reports that a TOTP factor is enrolled.
	TOTP      bool      `json:"totp"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Actor names the user in history and audit rows: "user:NAME".
func (u User) Actor() string { return "user:" + u.Name }

// Key returns the API key shape of u (role and scope), which the service
// and the route table already understand.
func (u User) Key() auth.Key {
	return auth.Key{Name: u.Name, Role: u.Role, MerchantNo: u.MerchantNo, SupplierCode: u.SupplierCode}
}

// Validate normalizes u in place and checks its name, role and bindings.
func (u *User) Validate() error {
	u.Name = strings.ToLower(strings.TrimSpace(u.Name))
	u.Phone = strings.TrimSpace(u.Phone)
	u.Email = strings.TrimSpace(u.Email)
	if err := ValidName(u.Name); err != nil {
		return err
	}
	k := auth.Key{Name: u.Name, Role: u.Role, MerchantNo: u.MerchantNo, SupplierCode: u.SupplierCode}
	if err := k.Validate(); err != nil {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), auth.ErrInvalid.Error()+": "))
	}
	u.Role, u.MerchantNo, u.SupplierCode = k.Role, k.MerchantNo, k.SupplierCode
	switch {
	case len(u.Phone) > maxContactLen || len(u.Email) > maxContactLen:
		return fmt.Errorf("%w: phone and email are at most %d characters", ErrInvalid, maxContactLen)
	case u.Email != "" && !strings.Contains(u.Email, "@"):
		return fmt.Errorf("%w: email %q has no @", ErrInvalid, u.Email)
	}
	return nil
}

// ValidName checks a login name: 1 to MaxNameLen of a-z 0-9 . _ - @.
func ValidName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: name is required", ErrInvalid)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: name longer than %d characters", ErrInvalid, MaxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@", r)) {
			return fmt.Errorf("%w: name may hold only a-z, 0-9 and . _ - @", ErrInvalid)
		}
	}
	return nil
}

// Credentials are what a sign-in is checked against. They are read from
// the store only for that and never leave the service.
type Credentials struct {
	PasswordHash Secret
	// TOTPSecret is the enrolled base32 secret, "" without TOTP;
	// PendingTOTP one offered at first sign-in and not yet confirmed.
	TOTPSecret, PendingTOTP Secret
}

// Secret is a string that never prints: fmt, JSON and slog show
// "[redacted]".
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return "[redacted]" }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// MarshalText implements encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Session is a signed-in browser. Its id is never stored: Hash is the
// SHA-256 of the token in the cookie.
type Session struct {
	Hash      []byte
	UserID    int64
	CreatedAt time.Time
	// LastSeen is when the session was last used (updated at most once a
	// minute, see TouchEvery).
	LastSeen time.Time
}

// Store keeps users, their credentials and sessions. Writes take the
// audit rows that record them and append them in the same transaction.
// Writes that end sessions or disable a user move the revocation counter
// (auth.Revocations), so every server drops what it caches.
type Store interface {
	// CreateUser stores u with its password hash; ErrExists if the name is taken.
	CreateUser(ctx context.Context, u User, passwordHash string, log ...audit.Entry) (User, error)
	// User returns the user named name; ErrNotFound if none.
	User(ctx context.Context, name string) (User, error)
	// UserByID returns the user with id; ErrNotFound if none.
	UserByID(ctx context.Context, id int64) (User, error)
	// Users returns every user by name.
	Users(ctx context.Context) ([]User, error)
	// Credentials returns the secrets of user id.
	Credentials(ctx context.Context, id int64) (Credentials, error)
	// SetPassword replaces the password hash and ends every session of the user.
	SetPassword(ctx context.Context, id int64, passwordHash string, log ...audit.Entry) error
	// ChangePassword replaces the password hash and ends every session of
	// the user but the one with hash keep (nil: every session), as one
	// transaction.
	ChangePassword(ctx context.Context, id int64, passwordHash string, keep []byte, log ...audit.Entry) error
	// SetDisabled disables or enables the user; disabling ends its sessions.
	SetDisabled(ctx context.Context, id int64, disabled bool, log ...audit.Entry) error
	// SetPendingTOTP keeps a TOTP secret offered for enrolment ("" clears it).
	SetPendingTOTP(ctx context.Context, id int64, secret string) error
	// SetTOTP enrols secret (sealed at rest) with the hashes of new
	// recovery codes, replacing any earlier factor; "" removes TOTP and
	// the codes.
	SetTOTP(ctx context.Context, id int64, secret string, recoveryHashes [][]byte, log ...audit.Entry) error
	// UseTOTPStep records that the TOTP code of time step step was used;
	// false if that step or a later one was used already (a replay).
	UseTOTPStep(ctx context.Context, id int64, step int64) (bool, error)
	// UseRecoveryCode consumes the recovery code with hash; false if the
	// user has no such unused code.
	UseRecoveryCode(ctx context.Context, id int64, hash []byte, log ...audit.Entry) (bool, error)
	// RecoveryCodesLeft counts the user's unused recovery codes.
	RecoveryCodesLeft(ctx context.Context, id int64) (int, error)

	// CreateSession stores s.
	CreateSession(ctx context.Context, s Session, log ...audit.Entry) error
	// Session returns the session with hash; ErrNoSession if none.
	Session(ctx context.Context, hash []byte) (Session, error)
	// TouchSession sets the session's LastSeen.
	TouchSession(ctx context.Context, hash []byte, at time.Time) error
	// EndSession deletes the session with hash (a no-op if gone).
	EndSession(ctx context.Context, hash []byte, log ...audit.Entry) error
	// EndSessions deletes every session of user id and returns how many.
	EndSessions(ctx context.Context, id int64, log ...audit.Entry) (int, error)
	// PurgeSessions deletes sessions idle since idleBefore or created
	// before createdBefore.
	PurgeSessions(ctx context.Context, idleBefore, createdBefore time.Time) error
}
