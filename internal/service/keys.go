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
// and revokes, appending the audit rows it is given in the transaction
// that records the change: *labels.SharedKeyStore, which shares the
// change with every server on the database.
type LabelKeys interface {
	Retire(ctx context.Context, id labels.KeyID, log ...audit.Entry) error
	Revoke(ctx context.Context, id labels.KeyID, log ...audit.Entry) error
}

// LabelKeyMaker is a LabelKeys that can make a new signing key, with the
// audit rows log makes for its id in the same transaction:
// *labels.SharedKeyStore.
type LabelKeyMaker interface {
	LabelKeys
	NewKey(ctx context.Context, log func(labels.KeyID) []audit.Entry) (labels.KeyID, error)
}

// The key stores take the audit rows of each write and append them in the
// write's own transaction, as the registry and the user store do: when
// the row cannot be written the change is not made. The service decides
// what each row says; where the row names what the write makes (a label
// key's id), it passes a function of it.

var _ LabelKeyMaker = (*labels.SharedKeyStore)(nil)

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

// CreateAPIKey validates k and stores it as a new API key (admin only),
// returning the stored key and its token, to be shown once. A key made by
// a signed-in person (c.UserID) is bound to that user and dies with it;
// otherwise it is bound to no user, whatever k.UserID says. The key and
// its audit row (audit.ActionCreateAPIKey) commit in one transaction.
func (s *Service) CreateAPIKey(ctx context.Context, c Caller, k auth.Key) (auth.Key, string, error) {
	st, err := s.apiKeys(c)
	if err != nil {
		return auth.Key{}, "", err
	}
	k.UserID = c.UserID
	k, tok, err := auth.Prepare(k)
	if err != nil {
		return auth.Key{}, "", err
	}
	k, err = st.CreateKey(ctx, k, c.entry(s.now(), audit.ActionCreateAPIKey, k.ID, "role="+string(k.Role)))
	if err != nil {
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
// is no error (and audited again). Ids that are not key ids are
// auth.ErrNotFound, never looked up. The revocation and its audit row
// (audit.ActionRevokeAPIKey) commit in one transaction.
func (s *Service) RevokeAPIKey(ctx context.Context, c Caller, id string) (auth.Key, error) {
	st, err := s.apiKeys(c)
	if err != nil {
		return auth.Key{}, err
	}
	if !auth.ValidID(id) {
		return auth.Key{}, fmt.Errorf("api key %q: %w", id, auth.ErrNotFound)
	}
	return st.RevokeKey(ctx, id, c.entry(s.now(), audit.ActionRevokeAPIKey, id, ""))
}

// SetLabelKeyStatus retires or revokes label signing key id (admin only):
// a retired key signs no more labels, a revoked one verifies none.
// labels.ErrKeyStatus refuses a change its status does not allow. The
// change and its audit row (audit.ActionRetireLabelKey or
// audit.ActionRevokeLabelKey) commit in one transaction; a key already
// in that status is audited again.
func (s *Service) SetLabelKeyStatus(ctx context.Context, c Caller, id labels.KeyID, status labels.KeyStatus) error {
	if s.opt.LabelKeys == nil {
		return ErrNoLabelKeys
	}
	if err := mayManageKeys(c); err != nil {
		return err
	}
	switch status {
	case labels.KeyRetired:
		return s.opt.LabelKeys.Retire(ctx, id, c.entry(s.now(), audit.ActionRetireLabelKey, id.String(), ""))
	case labels.KeyRevoked:
		return s.opt.LabelKeys.Revoke(ctx, id, c.entry(s.now(), audit.ActionRevokeLabelKey, id.String(), ""))
	default:
		return fmt.Errorf("%w: a label key is retired or revoked, not set %q", labels.ErrInvalid, status)
	}
}

// NewLabelKey makes a new active label signing key (admin only), which
// signs every label from then on (the newest active key signs); older keys
// keep verifying their labels until retired or revoked. ErrNoKeyMaker when
// the key store cannot make keys. The key and its audit row
// (audit.ActionCreateLabelKey) commit together: when the row cannot be
// written the key is taken out of the key directory again.
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
	at := s.now()
	return mk.NewKey(ctx, func(id labels.KeyID) []audit.Entry {
		return []audit.Entry{c.entry(at, audit.ActionCreateLabelKey, id.String(), "")}
	})
}

// CanMakeLabelKeys reports whether NewLabelKey can make keys here.
func (s *Service) CanMakeLabelKeys() bool {
	_, ok := s.opt.LabelKeys.(LabelKeyMaker)
	return ok
}
