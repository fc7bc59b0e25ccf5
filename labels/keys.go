package labels

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// KeyID identifies a signing key; it is 16 bits in the seal record and
// written "k<number>" (e.g. "k1") in key sets and file names.
type KeyID uint16

// String returns the textual key id, e.g. "k1".
func (k KeyID) String() string { return "k" + strconv.Itoa(int(k)) }

// MarshalText writes the textual key id.
func (k KeyID) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a textual key id.
func (k *KeyID) UnmarshalText(b []byte) error {
	id, err := ParseKeyID(string(b))
	*k = id
	return err
}

// ParseKeyID parses "k1" (or "1") into a KeyID. Errors wrap ErrInvalid.
func ParseKeyID(s string) (KeyID, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "k"), 10, 16)
	if err != nil {
		return 0, fmt.Errorf("%w: key id %q: want k1…k65535", ErrInvalid, s)
	}
	return KeyID(n), nil
}

// KeyStatus is the life-cycle state of a signing key.
type KeyStatus string

// Key states. Active keys sign new labels; retired keys no longer sign but
// still verify labels dated up to their retirement; revoked keys verify nothing.
const (
	KeyActive  KeyStatus = "active"
	KeyRetired KeyStatus = "retired"
	KeyRevoked KeyStatus = "revoked"
)

// PublicKey is one entry of a KeySet.
type PublicKey struct {
	// Key is the Ed25519 public key (base64 in JSON).
	Key ed25519.PublicKey `json:"public_key"`
	// Status is active, retired or revoked.
	Status KeyStatus `json:"status"`
	// ValidFrom is when the key was made; labels dated before that day are forged.
	ValidFrom time.Time `json:"valid_from"`
	// ValidTo, when set, is when the key was retired or revoked; a retired key
	// verifies labels dated up to that day.
	ValidTo *time.Time `json:"valid_to,omitempty"`
}

// KeySet is the public half of a key store: everything a verifier needs. It
// is stored as JSON, {"keys": {"k1": {"public_key": "…", "status": …}}}.
type KeySet struct {
	// Keys maps key ids to public keys.
	Keys map[KeyID]PublicKey `json:"-"`
}

// keySetFile is the JSON form of a KeySet.
type keySetFile struct {
	Keys map[string]PublicKey `json:"keys"`
}

// Limits of key files.
const (
	// MaxKeySetBytes bounds a keyset.json file.
	MaxKeySetBytes = 1 << 20
	// KeySetFile is the name of the public key set inside a key store.
	KeySetFile = "keyset.json"
	// privateKeyPerm is the only permission a private key file may have.
	privateKeyPerm = 0o600
)

// MarshalJSON writes the key set with textual key ids.
func (ks KeySet) MarshalJSON() ([]byte, error) {
	f := keySetFile{Keys: make(map[string]PublicKey, len(ks.Keys))}
	for id, k := range ks.Keys {
		f.Keys[id.String()] = k
	}
	return json.Marshal(f)
}

// UnmarshalJSON reads a key set and checks every entry.
func (ks *KeySet) UnmarshalJSON(data []byte) error {
	var f keySetFile
	if err := json.Unmarshal(data, &f); err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	ks.Keys = make(map[KeyID]PublicKey, len(f.Keys))
	for s, k := range f.Keys {
		id, err := ParseKeyID(s)
		if err != nil {
			return fmt.Errorf("key set: %w", err)
		}
		if len(k.Key) != ed25519.PublicKeySize {
			return fmt.Errorf("key set: %w: key %s is %d bytes, want %d", ErrInvalid, id, len(k.Key), ed25519.PublicKeySize)
		}
		switch k.Status {
		case KeyActive, KeyRetired, KeyRevoked:
		default:
			return fmt.Errorf("key set: %w: key %s has status %q", ErrInvalid, id, k.Status)
		}
		ks.Keys[id] = k
	}
	return nil
}

// ParseKeySet decodes a keyset.json document.
func ParseKeySet(data []byte) (*KeySet, error) {
	if len(data) > MaxKeySetBytes {
		return nil, fmt.Errorf("key set: %w: %d bytes exceeds %d", ErrInvalid, len(data), MaxKeySetBytes)
	}
	ks := new(KeySet)
	if err := json.Unmarshal(data, ks); err != nil {
		return nil, err
	}
	return ks, nil
}

// LoadKeySet reads a keyset.json file.
func LoadKeySet(ctx context.Context, path string) (*KeySet, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := readLimited(path, MaxKeySetBytes)
	if err != nil {
		return nil, fmt.Errorf("load key set: %w", err)
	}
	ks, err := ParseKeySet(data)
	if err != nil {
		return nil, fmt.Errorf("load key set %s: %w", path, err)
	}
	return ks, nil
}

// IDs returns the key ids in ascending order.
func (ks *KeySet) IDs() []KeyID {
	ids := make([]KeyID, 0, len(ks.Keys))
	for id := range ks.Keys {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// newestActive returns the active key with the latest ValidFrom (ties: the
// highest id).
func (ks *KeySet) newestActive() (KeyID, bool) {
	var best KeyID
	found := false
	for _, id := range ks.IDs() {
		k := ks.Keys[id]
		if k.Status != KeyActive {
			continue
		}
		if !found || !k.ValidFrom.Before(ks.Keys[best].ValidFrom) {
			best, found = id, true
		}
	}
	return best, found
}

// KeyStore is a directory of signing keys: KeySetFile holds the public key
// set, and "<kid>.key" files (permission 0600) the base64 Ed25519 seeds. A
// KeyStore is not safe for concurrent changes from several processes.
type KeyStore struct {
	dir string
	now func() time.Time
}

// OpenKeyStore returns the key store in dir; the directory is created (0700)
// by the first NewKey.
func OpenKeyStore(dir string) *KeyStore {
	return &KeyStore{dir: dir, now: time.Now}
}

// Dir returns the key store directory.
func (st *KeyStore) Dir() string { return st.dir }

// KeySet reads the store's public key set; a store without keys yields an
// empty set.
func (st *KeyStore) KeySet(ctx context.Context) (*KeySet, error) {
	ks, err := LoadKeySet(ctx, filepath.Join(st.dir, KeySetFile))
	if errors.Is(err, fs.ErrNotExist) {
		return &KeySet{Keys: map[KeyID]PublicKey{}}, nil
	}
	return ks, err
}

// NewKey makes a new active key pair, writes the private key (0600) and adds
// the public key to the key set. It returns the new key id.
func (st *KeyStore) NewKey(ctx context.Context) (KeyID, error) {
	ks, err := st.KeySet(ctx)
	if err != nil {
		return 0, err
	}
	var id KeyID = 1
	if ids := ks.IDs(); len(ids) > 0 {
		if ids[len(ids)-1] == 0xFFFF {
			return 0, fmt.Errorf("new key: %w: key ids exhausted", ErrInvalid)
		}
		id = ids[len(ids)-1] + 1
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return 0, fmt.Errorf("new key: %w", err)
	}
	if err := os.MkdirAll(st.dir, 0o700); err != nil {
		return 0, fmt.Errorf("new key: %w", err)
	}
	seed := base64.StdEncoding.EncodeToString(priv.Seed()) + "\n"
	if err := writeFileAtomic(st.keyPath(id), []byte(seed), privateKeyPerm); err != nil {
		return 0, fmt.Errorf("new key %s: %w", id, err)
	}
	ks.Keys[id] = PublicKey{Key: pub, Status: KeyActive, ValidFrom: st.now().UTC().Truncate(time.Second)}
	if err := st.saveKeySet(ks); err != nil {
		return 0, fmt.Errorf("new key %s: %w", id, err)
	}
	return id, nil
}

// Retire stops key id from signing; it keeps verifying labels dated up to
// today. The private key file is deleted, so nobody can sign back-dated
// labels with it later. Retiring a retired key is a no-op; a revoked key
// stays revoked.
func (st *KeyStore) Retire(ctx context.Context, id KeyID) error {
	if err := st.setStatus(ctx, id, KeyRetired); err != nil {
		return err
	}
	return st.removePrivate(id)
}

// Revoke marks key id revoked: every label it signed verifies as revoked.
// The private key file is deleted.
func (st *KeyStore) Revoke(ctx context.Context, id KeyID) error {
	if err := st.setStatus(ctx, id, KeyRevoked); err != nil {
		return err
	}
	return st.removePrivate(id)
}

// discard takes key id out of the key set and deletes its private key:
// the undoing of a NewKey whose record did not commit.
func (st *KeyStore) discard(ctx context.Context, id KeyID) error {
	ks, err := st.KeySet(ctx)
	if err != nil {
		return err
	}
	delete(ks.Keys, id)
	if err := st.saveKeySet(ks); err != nil {
		return err
	}
	return st.removePrivate(id)
}

func (st *KeyStore) removePrivate(id KeyID) error {
	if err := os.Remove(st.keyPath(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove private key %s: %w", id, err)
	}
	return nil
}

func (st *KeyStore) setStatus(ctx context.Context, id KeyID, status KeyStatus) error {
	ks, err := st.KeySet(ctx)
	if err != nil {
		return err
	}
	k, ok := ks.Keys[id]
	if !ok {
		return fmt.Errorf("%s key %s: %w", status, id, ErrUnknownKey)
	}
	switch {
	case k.Status == status:
		return nil
	case k.Status == KeyRevoked:
		return fmt.Errorf("%s key %s: %w: it is revoked", status, id, ErrKeyStatus)
	}
	now := st.now().UTC().Truncate(time.Second)
	if k.ValidTo == nil {
		k.ValidTo = &now
	}
	k.Status = status
	ks.Keys[id] = k
	if err := st.saveKeySet(ks); err != nil {
		return fmt.Errorf("%s key %s: %w", status, id, err)
	}
	return nil
}

// Signer returns a signer using the newest active key, writing seal URLs
// under baseURL (e.g. "https://verify.posid.example"). Errors wrap
// ErrNoActiveKey or ErrKeyFile.
func (st *KeyStore) Signer(ctx context.Context, baseURL string) (*Signer, error) {
	ks, err := st.KeySet(ctx)
	if err != nil {
		return nil, err
	}
	return st.signerFrom(ks, baseURL)
}

// signerFrom returns a signer using the newest key active in ks, whose
// private key is in the store.
func (st *KeyStore) signerFrom(ks *KeySet, baseURL string) (*Signer, error) {
	id, ok := ks.newestActive()
	if !ok {
		return nil, fmt.Errorf("signer: %w in %s", ErrNoActiveKey, st.dir)
	}
	priv, err := st.privateKey(id)
	if err != nil {
		return nil, fmt.Errorf("signer: %w", err)
	}
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), ks.Keys[id].Key) {
		return nil, fmt.Errorf("signer: %w: %s does not match the key set", ErrKeyFile, st.keyPath(id))
	}
	return NewSigner(id, priv, baseURL)
}

func (st *KeyStore) keyPath(id KeyID) string { return filepath.Join(st.dir, id.String()+".key") }

func (st *KeyStore) privateKey(id KeyID) (ed25519.PrivateKey, error) {
	path := st.keyPath(id)
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	if fi.Mode().Perm()&^privateKeyPerm != 0 {
		return nil, fmt.Errorf("%w: %s has permissions %v, want %v", ErrKeyFile, path, fi.Mode().Perm(), fs.FileMode(privateKeyPerm))
	}
	data, err := readLimited(path, 1024)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKeyFile, err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: %s is not a base64 Ed25519 seed", ErrKeyFile, path)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

func (st *KeyStore) saveKeySet(ks *KeySet) error {
	data, err := json.MarshalIndent(ks, "", "  ")
	if err != nil {
		return err
	}
	// MarshalIndent does not indent through a custom MarshalJSON; re-indent.
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return writeFileAtomic(filepath.Join(st.dir, KeySetFile), buf.Bytes(), 0o644)
}

// Signer signs seals with one private key. It is safe for concurrent use.
type Signer struct {
	id      KeyID
	priv    ed25519.PrivateKey
	baseURL string
}

// NewSigner returns a signer for key id; baseURL must be an https URL.
func NewSigner(id KeyID, priv ed25519.PrivateKey, baseURL string) (*Signer, error) {
	base, err := CheckBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key is %d bytes", ErrKeyFile, len(priv))
	}
	return &Signer{id: id, priv: priv, baseURL: base}, nil
}

// KeyID returns the id of the signing key.
func (sg *Signer) KeyID() KeyID { return sg.id }

// Record normalizes s, sets its key id and returns the signed binary record.
func (sg *Signer) Record(s Seal) ([]byte, error) {
	s.KeyID = sg.id
	return signRecord(s, sg.priv)
}

// Sign returns the seal URL for s, signed with the signer's key. Errors wrap
// ErrInvalid when a field fails validation.
func (sg *Signer) Sign(s Seal) (url string, err error) {
	rec, err := sg.Record(s)
	if err != nil {
		return "", fmt.Errorf("sign seal: %w", err)
	}
	return SealURL(sg.baseURL, rec), nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%w: %s is %d bytes, limit %d", ErrInvalid, path, fi.Size(), limit)
	}
	buf := make([]byte, fi.Size())
	_, err = io.ReadFull(f, buf)
	return buf, err
}

// writeFileAtomic writes data to a temp file in path's directory and renames
// it over path, so readers never see half a file.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
