package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	box, err := NewBox(bytes.Repeat([]byte{3}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("6222021234561234")
	a, b := box.Seal(plain, []byte("SN1")), box.Seal(plain, []byte("SN1"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of one value are equal: nonce reuse")
	}
	if bytes.Contains(a, plain) {
		t.Fatal("ciphertext holds the plaintext")
	}
	got, err := box.Open(a, []byte("SN1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tampered := append([]byte(nil), a...)
	tampered[len(tampered)-1] ^= 1
	for name, c := range map[string]struct {
		data, ctx []byte
	}{
		"other record": {a, []byte("SN2")},
		"tampered":     {tampered, []byte("SN1")},
		"short":        {a[:5], []byte("SN1")},
		"empty":        {nil, []byte("SN1")},
	} {
		if _, err := box.Open(c.data, c.ctx); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v, want ErrDecrypt", name, err)
		}
	}
	if _, err := NewBox([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil || !created {
		t.Fatalf("first load: created=%v, %v", created, err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v", st.Mode(), err)
	}
	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil || created || !bytes.Equal(k1, k2) {
		t.Fatal("second load returned another key")
	}
	os.WriteFile(path, []byte("not a key"), 0o600)
	if _, _, err := LoadOrCreateKeyFile(path); err == nil {
		t.Fatal("garbage key file accepted")
	}
}

func TestKeyCheck(t *testing.T) {
	a, _ := NewBox(bytes.Repeat([]byte{1}, KeySize))
	a2, _ := NewBox(bytes.Repeat([]byte{1}, KeySize))
	b, _ := NewBox(bytes.Repeat([]byte{2}, KeySize))
	if a.KeyCheck() != a2.KeyCheck() || a.KeyCheck() == b.KeyCheck() || len(a.KeyCheck()) != 64 {
		t.Fatalf("key checks: %s %s %s", a.KeyCheck(), a2.KeyCheck(), b.KeyCheck())
	}
	if strings.Contains(a.KeyCheck(), "0101010101") {
		t.Fatal("key check shows the key")
	}
}
