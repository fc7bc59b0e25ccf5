package service

import (
	"context"
	"errors"
	"fmt"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/labels"
)

// Errors of a service run without a key store.
var (
	// ErrNoAPIKeys means the service runs without an API key store.
	ErrNoAPIKeys = errors.New("no API key store configured")
	// ErrNoLabelKeys means the service runs without a label key store.
	ErrNoLabelKeys = errors.New("no label key set configured")
	// ErrNoKeyMaker means the label key store cannot make keys.
	ErrNoKeyMaker = errors.New("this server's label key store cannot make keys (use posid keys new)")
)

// LabelKeys is the label signing key store whose keys the service retires
// and revokes; *labels.KeyStore and *labels.SharedKeyStore (which shares
// the change with every server on the database) implement it.
type LabelKeys interface {
	Retire(ctx context.Context, id labels.KeyID) error
	Revoke(ctx context.Context, id labels.KeyID) error
}

// LabelKeyMaker is a LabelKeys that can make a new signing key:
// *labels.KeyStore and *labels.SharedKeyStore.
type LabelKeyMaker interface {
	LabelKeys
	NewKey(ctx context.Context) (labels.KeyID, error)
}

// The stores below keep no audit rows in their own transactions (auth.Store
// and the label key stores take no audit.Entry), so key writes are audited
// write-then-audit, like printers (AddPrinter): the audit row names the key
// the write made (its ID exists only then), and a failed audit write is
// returned as the caller's error, saying the change was made.

// mayManageKeys admits admins only: API keys and label signing keys.
func mayManageKeys(c Caller) error {
	if c.Role != auth.RoleAdmin {
		return forbidden("only admins manage keys")
	}
	return nil
}

// apiKeys returns the API key store of an admin caller.
func (s *Service) apiKeys(c Caller) (auth.Store, error) {
	if s.opt.Keys == nil {
		return nil, ErrNoAPIKeys
	}
	if err := mayManageKeys(c); err != nil {
		return nil, err
	}
	return s.opt.Keys, nil
}

// auditedWrite records the audit row of a key write already made.
func (s *Service) auditedWrite(ctx context.Context, c Caller, what, action, target, detail string) error {
	if err := s.record(ctx, c, action, target, detail); err != nil {
		return fmt.Errorf("%s, but its audit row was not written: %w", what, err)
	}
	return nil
}

// CreateAPIKey validates k and stores it as a new API key (admin only),
// returning the stored key and its token, to be shown once. A key made by
// a signed-in person (c.UserID) is bound to that user and dies with it;
// otherwise it is bound to no user, whatever k.UserID says.
func (s *Service) CreateAPIKey(ctx context.Context, c Caller, k auth.Key) (auth.Key, string, error) {
	st, err := s.apiKeys(c)
	if err != nil {
		return auth.Key{}, "", err
	}
	k.UserID = c.UserID
	k, tok, err := auth.Create(ctx, st, k)
	if err != nil {
		return auth.Key{}, "", err
	}
	if err := s.auditedWrite(ctx, c, "api key "+k.ID+" created", audit.ActionCreateAPIKey, k.ID, "role="+string(k.Role)); err != nil {
		return auth.Key{}, "", err
	}
	return k, tok, nil
}

// APIKeys lists every API key, newest first, without secrets (admin only).
func (s *Service) APIKeys(ctx context.Context, c Caller) ([]auth.Key, error) {
	st, err := s.apiKeys(c)
	if err != nil {
		return nil, err
	}
	return st.Keys(ctx)
}

// RevokeAPIKey revokes the API key with id (admin only); revoking twice
// is no error. Ids that are not key ids are auth.ErrNotFound, never
// looked up.
func (s *Service) RevokeAPIKey(ctx context.Context, c Caller, id string) (auth.Key, error) {
	st, err := s.apiKeys(c)
	if err != nil {
		return auth.Key{}, err
	}
	if !auth.ValidID(id) {
		return auth.Key{}, fmt.Errorf("api key %q: %w", id, auth.ErrNotFound)
	}
	k, err := st.RevokeKey(ctx, id)
	if err != nil {
		return auth.Key{}, err
	}
	if err := s.auditedWrite(ctx, c, "api key "+k.ID+" revoked", audit.ActionRevokeAPIKey, k.ID, ""); err != nil {
		return auth.Key{}, err
	}
	return k, nil
}

// SetLabelKeyStatus retires or revokes label signing key id (admin only):
// a retired key signs no more labels, a revoked one verifies none.
// labels.ErrKeyStatus refuses a change its status does not allow.
func (s *Service) SetLabelKeyStatus(ctx context.Context, c Caller, id labels.KeyID, status labels.KeyStatus) error {
	if s.opt.LabelKeys == nil {
		return ErrNoLabelKeys
	}
	if err := mayManageKeys(c); err != nil {
		return err
	}
	var err error
	action := audit.ActionRetireLabelKey
	switch status {
	case labels.KeyRetired:
		err = s.opt.LabelKeys.Retire(ctx, id)
	case labels.KeyRevoked:
		action = audit.ActionRevokeLabelKey
		err = s.opt.LabelKeys.Revoke(ctx, id)
	default:
		return fmt.Errorf("%w: a label key is retired or revoked, not set %q", labels.ErrInvalid, status)
	}
	if err != nil {
		return err
	}
	return s.auditedWrite(ctx, c, fmt.Sprintf("label key %s %s", id, status), action, id.String(), "")
}

// NewLabelKey makes a new active label signing key (admin only), which
// signs every label from then on (the newest active key signs); older keys
// keep verifying their labels until retired or revoked. ErrNoKeyMaker when
// the key store cannot make keys.
func (s *Service) NewLabelKey(ctx context.Context, c Caller) (labels.KeyID, error) {
	mk, ok := s.opt.LabelKeys.(LabelKeyMaker)
	if !ok {
		if s.opt.LabelKeys == nil {
			return 0, ErrNoLabelKeys
		}
		return 0, ErrNoKeyMaker
	}
	if err := mayManageKeys(c); err != nil {
		return 0, err
	}
	id, err := mk.NewKey(ctx)
	if err != nil {
		return 0, err
	}
	if err := s.auditedWrite(ctx, c, "label key "+id.String()+" made", audit.ActionCreateLabelKey, id.String(), ""); err != nil {
		return 0, err
	}
	return id, nil
}

// CanMakeLabelKeys reports whether NewLabelKey can make keys here.
func (s *Service) CanMakeLabelKeys() bool {
	_, ok := s.opt.LabelKeys.(LabelKeyMaker)
	return ok
}
