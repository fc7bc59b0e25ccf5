package labels

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"posid/internal/audit"
)

// memStatusLog is a KeyStatusLog in memory, shared by the stores of a test
// as a database is by servers.
type memStatusLog struct {
	mu      sync.Mutex
	changes map[KeyID]KeyStatusChange
	reads   int
	// audit holds the audit rows appended; auditErr, when set, fails
	// every append (and so the transaction).
	audit    []audit.Entry
	auditErr error
}

func (l *memStatusLog) KeyStatusChanges(ctx context.Context) ([]KeyStatusChange, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reads++
	var cs []KeyStatusChange
	for _, c := range l.changes {
		cs = append(cs, c)
	}
	return cs, nil
}

func (l *memStatusLog) Audited(ctx context.Context, change func() ([]audit.Entry, error)) error {
	log, err := change()
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.auditErr != nil {
		return l.auditErr
	}
	l.audit = append(l.audit, log...)
	return nil
}

func (l *memStatusLog) RecordKeyStatus(ctx context.Context, c KeyStatusChange, log ...audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.auditErr != nil {
		return l.auditErr
	}
	l.audit = append(l.audit, log...)
	if old, ok := l.changes[c.ID]; ok && old.Status == KeyRevoked {
		return nil
	}
	l.changes[c.ID] = c
	return nil
}

// TestSharedNewKeyAudited: a new key and the audit rows made for its id
// commit together; when the rows cannot be written the key leaves the key
// directory again. Retiring a retired key appends its rows once more.
func TestSharedNewKeyAudited(t *testing.T) {
	ctx := context.Background()
	log := &memStatusLog{changes: map[KeyID]KeyStatusChange{}, auditErr: errors.New("audit log unavailable")}
	st := NewSharedKeyStore(OpenKeyStore(filepath.Join(t.TempDir(), "keys")), log)
	rows := func(id KeyID) []audit.Entry { return []audit.Entry{{Action: "labelkey.create", Target: id.String()}} }
	if _, err := st.NewKey(ctx, rows); err == nil || err.Error() != "audit log unavailable" {
		t.Fatalf("new key with the audit log down: %v", err)
	}
	ks, err := st.KeySet(ctx)
	if err != nil || len(ks.Keys) != 0 {
		t.Fatalf("key set after a failed new key: %v %v, want empty", ks.IDs(), err)
	}
	if files, _ := filepath.Glob(filepath.Join(st.Dir(), "*.key")); len(files) != 0 {
		t.Fatalf("private keys after a failed new key: %v", files)
	}
	log.auditErr = nil
	id, err := st.NewKey(ctx, rows)
	if err != nil || id != 1 || len(log.audit) != 1 || log.audit[0].Target != "k1" {
		t.Fatalf("new key: %s %v, audit %+v", id, err, log.audit)
	}
	for range 2 {
		if err := st.Retire(ctx, id, audit.Entry{Action: "labelkey.retire", Target: id.String()}); err != nil {
			t.Fatal(err)
		}
	}
	if len(log.audit) != 3 || log.changes[id].Status != KeyRetired {
		t.Fatalf("after retiring twice: audit %+v, changes %+v", log.audit, log.changes)
	}
}

// TestSharedKeyStore revokes and retires keys through one server's store
// and checks another server's, on a copy of the key directory, after it
// reloads: its verify and its signer follow.
func TestSharedKeyStore(t *testing.T) {
	ctx := context.Background()
	dirA, dirB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	local := OpenKeyStore(dirA)
	for range 2 {
		if _, err := local.NewKey(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.CopyFS(dirB, os.DirFS(dirA)); err != nil {
		t.Fatal(err)
	}
	keyFiles, _ := filepath.Glob(filepath.Join(dirB, "*.key"))
	for _, f := range keyFiles {
		if err := os.Chmod(f, privateKeyPerm); err != nil {
			t.Fatal(err)
		}
	}
	log := &memStatusLog{changes: map[KeyID]KeyStatusChange{}}
	a, b := NewSharedKeyStore(local, log), NewSharedKeyStore(OpenKeyStore(dirB), log)

	status := func(st *SharedKeyStore, id KeyID) KeyStatus {
		t.Helper()
		ks, err := st.KeySet(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ks.Keys[id].Status
	}
	signer := func(st *SharedKeyStore) (KeyID, error) {
		sg, err := st.Signer(ctx, "https://verify.test")
		if err != nil {
			return 0, err
		}
		return sg.KeyID(), nil
	}
	if id, err := signer(b); err != nil || id != 2 {
		t.Fatalf("signer of B: %v, %v; want k2", id, err)
	}
	if err := a.Revoke(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if got := status(b, 2); got != KeyActive {
		t.Fatalf("before B reloads, k2 is %s to it: the log is read once", got)
	}
	b.Reload()
	if got := status(b, 2); got != KeyRevoked {
		t.Fatalf("after B reloads, k2 is %s, want revoked", got)
	}
	if id, err := signer(b); err != nil || id != 1 {
		t.Fatalf("signer of B after k2 revoked: %v, %v; want k1 (B's directory still holds k2's private key)", id, err)
	}
	if err := a.Retire(ctx, 1); err != nil {
		t.Fatal(err)
	}
	b.Reload()
	if got := status(b, 1); got != KeyRetired {
		t.Fatalf("k1 is %s, want retired", got)
	}
	if _, err := signer(b); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("signer with every key retired or revoked: %v, want ErrNoActiveKey", err)
	}
	for _, tc := range []struct {
		name string
		do   func() error
		want error
	}{
		{"retire revoked", func() error { return b.Retire(ctx, 2) }, ErrKeyStatus},
		{"revoke unknown", func() error { return b.Revoke(ctx, 9) }, ErrUnknownKey},
		{"revoke revoked", func() error { return b.Revoke(ctx, 2) }, nil},
	} {
		if err := tc.do(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	ks, err := b.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if k := ks.Keys[1]; k.ValidTo == nil || time.Since(*k.ValidTo) > time.Hour {
		t.Fatalf("retired k1 ValidTo %v, want the retirement time", k.ValidTo)
	}
}
