// Package secret encrypts small values at rest (settlement account numbers)
// with AES-256-GCM. The key never leaves the process: it is read from a file
// or the environment and is never logged.
package secret

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the AES-256 key length in bytes.
const KeySize = 32

// format is the first byte of every ciphertext; it names the scheme so that
// a later scheme can be told apart.
const format byte = 1

// ErrDecrypt means a ciphertext could not be opened: wrong key, a changed
// value, or a value moved to another record.
var ErrDecrypt = errors.New("secret: cannot decrypt value (wrong key or tampered data)")

// ErrWrongKey means the key is not the one a database's values were sealed
// with: its key check value does not match, or it cannot open a sealed value.
var ErrWrongKey = errors.New("secret: the encryption key is not the one this database was sealed with (restore its key file or POSID_SECRET_KEY)")

// checkLabel is what the key check value authenticates; changing it
// invalidates every stored check value.
const checkLabel = "posid secret key check v1"

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead  cipher.AEAD
	check string
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret: key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(checkLabel))
	return &Box{aead: aead, check: hex.EncodeToString(mac.Sum(nil))}, nil
}

// KeyCheck returns the key check value: HMAC-SHA256 of a fixed label under
// the key, in hex. A database stores it when it first meets a key and
// refuses any other key later; it tells nothing about the key itself.
func (b *Box) KeyCheck() string { return b.check }

// Seal encrypts plain. context binds the ciphertext to its record (the
// device SN): opening it under another context fails.
func (b *Box) Seal(plain, context []byte) []byte {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(plain)+b.aead.Overhead())
	out[0] = format
	if _, err := rand.Read(out[1:]); err != nil {
		panic("secret: no randomness: " + err.Error()) // crypto/rand never fails on supported platforms
	}
	return b.aead.Seal(out, out[1:], plain, context)
}

// Open decrypts a value made by Seal with the same context.
func (b *Box) Open(sealed, context []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != format {
		return nil, ErrDecrypt
	}
	plain, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], context)
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}

// ParseKey decodes a key written as 64 hex digits or as base64.
func ParseKey(s string) ([]byte, error) {
	s = string(bytes.TrimSpace([]byte(s)))
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	return nil, fmt.Errorf("secret: key must be %d bytes as hex or base64", KeySize)
}

// LoadOrCreateKeyFile reads the key in path, creating the file (0600) with
// a new random key when it does not exist. created reports that it did:
// a caller that finds the new key does not fit its database should remove
// the file again (see ErrWrongKey), so that a lost key is never silently
// replaced.
func LoadOrCreateKeyFile(path string) (key []byte, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil {
		key, err := ParseKey(string(data))
		return key, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("secret: read key: %w", err)
	}
	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("secret: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, fmt.Errorf("secret: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // created by a concurrent process
			return LoadOrCreateKeyFile(path)
		}
		return nil, false, fmt.Errorf("secret: create key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("secret: write key: %w", werr)
	}
	return key, true, nil
}
