package labels

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"posid/internal/audit"
)

// KeyStatusChange is one retirement or revocation of a signing key, as
// shared between servers through the database.
type KeyStatusChange struct {
	ID KeyID
	// Status is KeyRetired or KeyRevoked.
	Status KeyStatus
	// At is when the key was first retired or revoked (the key's ValidTo).
	At time.Time
}

// KeyStatusLog keeps key status changes where every server reads them,
// in the database that keeps the audit log. Recording a change also moves
// the store's revocation signal, so that every server reloads the log.
type KeyStatusLog interface {
	// KeyStatusChanges returns every recorded change.
	KeyStatusChanges(ctx context.Context) ([]KeyStatusChange, error)
	// RecordKeyStatus stores c and appends log in the same transaction; a
	// revoked key stays revoked.
	RecordKeyStatus(ctx context.Context, c KeyStatusChange, log ...audit.Entry) error
	// Audited runs change inside a transaction and appends the audit rows
	// it returns there; nothing commits when change fails or the rows
	// cannot be written.
	Audited(ctx context.Context, change func() ([]audit.Entry, error)) error
}

// SharedKeyStore is a KeyStore whose retirements and revocations are also
// recorded in a KeyStatusLog and applied to its key set, so that a key
// revoked through any server is revoked on every server, whatever their
// key directories hold. The log is read once and again after each Reload.
type SharedKeyStore struct {
	*KeyStore
	log KeyStatusLog

	mu      sync.Mutex
	changes []KeyStatusChange
	loaded  bool
	gen     uint64
}

// NewSharedKeyStore returns st with its status changes shared through log.
func NewSharedKeyStore(st *KeyStore, log KeyStatusLog) *SharedKeyStore {
	return &SharedKeyStore{KeyStore: st, log: log}
}

// Reload makes the next KeySet read the log again; call it when the
// store's revocation signal moves.
func (s *SharedKeyStore) Reload() {
	s.mu.Lock()
	s.loaded = false
	s.gen++
	s.mu.Unlock()
}

// KeySet returns the key directory's set with the shared changes applied.
func (s *SharedKeyStore) KeySet(ctx context.Context) (*KeySet, error) {
	ks, err := s.KeyStore.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	changes, err := s.statusChanges(ctx)
	if err != nil {
		return nil, err
	}
	ks.apply(changes)
	return ks, nil
}

// Signer returns a signer using the newest key that is active in the
// shared key set.
func (s *SharedKeyStore) Signer(ctx context.Context, baseURL string) (*Signer, error) {
	ks, err := s.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	return s.signerFrom(ks, baseURL)
}

// NewKey makes a new active key in the key directory (see
// KeyStore.NewKey) inside a transaction of the log's database that
// appends the audit rows log makes for it (nil: none). When the rows
// cannot be written or the transaction does not commit, the key is taken
// out of the directory again and the error returned.
func (s *SharedKeyStore) NewKey(ctx context.Context, log func(KeyID) []audit.Entry) (KeyID, error) {
	var (
		id   KeyID
		made bool
	)
	err := s.log.Audited(ctx, func() ([]audit.Entry, error) {
		var err error
		if id, err = s.KeyStore.NewKey(ctx); err != nil {
			return nil, err
		}
		made = true
		if log == nil {
			return nil, nil
		}
		return log(id), nil
	})
	if err != nil && made {
		if undo := s.KeyStore.discard(ctx, id); undo != nil {
			err = errors.Join(err, fmt.Errorf("key %s stays in %s: %w", id, s.KeyStore.Dir(), undo))
		}
	}
	if err != nil {
		return 0, err
	}
	return id, nil
}

// Retire records the retirement of key id in the log with the audit rows
// log, in one transaction, then in the key directory (see
// KeyStore.Retire). Retiring a retired key changes nothing but appends
// log.
func (s *SharedKeyStore) Retire(ctx context.Context, id KeyID, log ...audit.Entry) error {
	return s.change(ctx, id, KeyRetired, s.KeyStore.Retire, log)
}

// Revoke records the revocation of key id in the log with the audit rows
// log, in one transaction, then in the key directory (see
// KeyStore.Revoke). Revoking a revoked key changes nothing but appends
// log.
func (s *SharedKeyStore) Revoke(ctx context.Context, id KeyID, log ...audit.Entry) error {
	return s.change(ctx, id, KeyRevoked, s.KeyStore.Revoke, log)
}

func (s *SharedKeyStore) change(ctx context.Context, id KeyID, status KeyStatus, local func(context.Context, KeyID) error, log []audit.Entry) error {
	ks, err := s.KeySet(ctx)
	if err != nil {
		return err
	}
	k, ok := ks.Keys[id]
	switch {
	case !ok:
		return fmt.Errorf("%s key %s: %w", status, id, ErrUnknownKey)
	case k.Status == status:
		if len(log) == 0 {
			return nil
		}
		return s.log.Audited(ctx, func() ([]audit.Entry, error) { return log, nil })
	case k.Status == KeyRevoked:
		return fmt.Errorf("%s key %s: %w: it is revoked", status, id, ErrKeyStatus)
	}
	if err := s.log.RecordKeyStatus(ctx, KeyStatusChange{ID: id, Status: status, At: s.now().UTC().Truncate(time.Second)}, log...); err != nil {
		return fmt.Errorf("%s key %s: %w", status, id, err)
	}
	s.Reload()
	return local(ctx, id)
}

// statusChanges returns the log's changes, read again after a Reload.
func (s *SharedKeyStore) statusChanges(ctx context.Context) ([]KeyStatusChange, error) {
	s.mu.Lock()
	changes, loaded, gen := s.changes, s.loaded, s.gen
	s.mu.Unlock()
	if loaded {
		return changes, nil
	}
	changes, err := s.log.KeyStatusChanges(ctx)
	if err != nil {
		return nil, fmt.Errorf("key status log: %w", err)
	}
	s.mu.Lock()
	if gen == s.gen {
		s.changes, s.loaded = changes, true
	}
	s.mu.Unlock()
	return changes, nil
}

// apply sets the status of each key named in changes: a revoked key stays
// revoked, and a key's ValidTo is the first time it left active.
func (ks *KeySet) apply(changes []KeyStatusChange) {
	for _, c := range changes {
		k, ok := ks.Keys[c.ID]
		if !ok || k.Status == KeyRevoked || k.Status == c.Status || (c.Status != KeyRetired && c.Status != KeyRevoked) {
			continue
		}
		if k.ValidTo == nil || c.At.Before(*k.ValidTo) {
			at := c.At.UTC()
			k.ValidTo = &at
		}
		k.Status = c.Status
		ks.Keys[c.ID] = k
	}
}
