package labels

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const testBase = "https://verify.posid.example"

var testDay = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

// testStore returns a key store in a temp dir whose clock reads now.
func testStore(t testing.TB, now time.Time) *KeyStore {
	t.Helper()
	st := OpenKeyStore(filepath.Join(t.TempDir(), "keys"))
	st.now = func() time.Time { return now }
	return st
}

func testSeal() Seal {
	return Seal{Date: testDay, SN: "PX2611300000ABCD", Model: "A920", Supplier: "SUP-01"}
}

// newTestSigner makes a store with one key created a day before testDay.
func newTestSigner(t testing.TB) (*KeyStore, *Signer, *KeySet) {
	t.Helper()
	ctx := context.Background()
	st := testStore(t, testDay.AddDate(0, 0, -1))
	if _, err := st.NewKey(ctx); err != nil {
		t.Fatal(err)
	}
	sg, err := st.Signer(ctx, testBase)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := st.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st, sg, ks
}

func TestSealRoundTrip(t *testing.T) {
	_, sg, ks := newTestSigner(t)
	url, err := sg.Sign(testSeal())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, testBase+SealPath) {
		t.Fatalf("url %q", url)
	}
	v := ks.Verify(url)
	if v.Verdict != Genuine {
		t.Fatalf("verdict %s (%s)", v.Verdict, v.Reason)
	}
	want := testSeal()
	want.KeyID = sg.KeyID()
	if v.Seal != want {
		t.Fatalf("seal %+v, want %+v", v.Seal, want)
	}
	if sn, ok := SealSN(url); !ok || sn != want.SN {
		t.Fatalf("SealSN = %q, %v", sn, ok)
	}
	// Any host and upper-cased scheme/host parse (no signature check).
	other := "HTTPS://EXAMPLE.ORG" + strings.TrimPrefix(url, testBase)
	if sn, ok := SealSN(other); !ok || sn != want.SN {
		t.Fatalf("SealSN(other host) = %q, %v", sn, ok)
	}
	t.Logf("seal URL: %d chars", len(url))
}

func TestSealSignInvalid(t *testing.T) {
	_, sg, _ := newTestSigner(t)
	tests := []struct {
		name string
		edit func(*Seal)
		says string // the error names this, when set
	}{
		{"short SN", func(s *Seal) { s.SN = "AB" }, ""},
		{"bad SN char", func(s *Seal) { s.SN = "AB_CD" }, ""},
		{"long model", func(s *Seal) { s.Model = strings.Repeat("m", MaxModelLen+1) }, ""},
		{"control in model", func(s *Seal) { s.Model = "A\n920" }, ""},
		{"bad supplier", func(s *Seal) { s.Supplier = "S P" }, ""},
		{"non-ASCII supplier", func(s *Seal) { s.Supplier = "SUP-é" }, "found 'É'"},
		{"date before epoch", func(s *Seal) { s.Date = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSeal()
			tt.edit(&s)
			_, err := sg.Sign(s)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if tt.says != "" && !strings.Contains(err.Error(), tt.says) {
				t.Errorf("err = %q, want it to name %s", err, tt.says)
			}
		})
	}
}

func TestVerifyMalformed(t *testing.T) {
	_, sg, ks := newTestSigner(t)
	url, _ := sg.Sign(testSeal())
	digits := strings.TrimPrefix(url, testBase+SealPath)
	tests := []struct{ name, text string }{
		{"empty", ""},
		{"http", "http://verify.posid.example/v/" + digits},
		{"no host", "https:///v/" + digits},
		{"wrong path", testBase + "/x/" + digits},
		{"leading zero", testBase + SealPath + "0" + digits},
		{"letter", testBase + SealPath + digits[:10] + "a" + digits[11:]},
		{"truncated", testBase + SealPath + digits[:len(digits)-3]},
		{"extra digits", testBase + SealPath + digits + "123"},
		{"trailing slash", url + "/"},
		{"too long", testBase + SealPath + "1" + strings.Repeat("9", 3000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := ks.Verify(tt.text)
			if v.Verdict != Malformed {
				t.Fatalf("verdict %s (%s), want malformed", v.Verdict, v.Reason)
			}
			if _, ok := SealSN(tt.text); ok {
				t.Fatal("SealSN ok on malformed text")
			}
		})
	}
}

// TestVerifyEveryBitFlip flips each bit of a signed record in turn: every
// result must be forged or malformed, never genuine.
func TestVerifyEveryBitFlip(t *testing.T) {
	_, sg, ks := newTestSigner(t)
	rec, err := sg.Record(testSeal())
	if err != nil {
		t.Fatal(err)
	}
	if v := ks.VerifyRecord(rec); v.Verdict != Genuine {
		t.Fatalf("unflipped: %s (%s)", v.Verdict, v.Reason)
	}
	counts := map[Verdict]int{}
	for i := 0; i < len(rec)*8; i++ {
		bad := append([]byte(nil), rec...)
		bad[i/8] ^= 1 << (i % 8)
		v := ks.VerifyRecord(bad)
		if v.Verdict != Forged && v.Verdict != Malformed {
			t.Fatalf("bit %d: verdict %s", i, v.Verdict)
		}
		// Through the URL as well: the digits carry the flip.
		if u := ks.Verify(SealURL(testBase, bad)); u.Verdict != v.Verdict {
			t.Fatalf("bit %d: URL verdict %s, record verdict %s", i, u.Verdict, v.Verdict)
		}
		counts[v.Verdict]++
	}
	t.Logf("%d bits: %v", len(rec)*8, counts)
}

func TestVerifyKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	st := testStore(t, testDay.AddDate(0, 0, -10))
	k1, err := st.NewKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sg1, err := st.Signer(ctx, testBase)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := sg1.Sign(testSeal()) // dated testDay
	late := testSeal()
	late.Date = testDay.AddDate(0, 0, 5)
	afterRetire, _ := sg1.Sign(late)
	early := testSeal()
	early.Date = testDay.AddDate(0, 0, -20)
	beforeKey, _ := sg1.Sign(early)

	st.now = func() time.Time { return testDay.AddDate(0, 0, 1) }
	k2, err := st.NewKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sg, _ := st.Signer(ctx, testBase); sg.KeyID() != k2 {
		t.Fatalf("signer uses %s, want newest %s", sg.KeyID(), k2)
	}
	if err := st.Retire(ctx, k1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(st.keyPath(k1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("retired private key still present: %v", err)
	}
	ks, _ := st.KeySet(ctx)
	tests := []struct {
		name string
		url  string
		want Verdict
	}{
		{"retired key, label before retirement", old, Genuine},
		{"retired key, label after retirement", afterRetire, Forged},
		{"label before key existed", beforeKey, Forged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v := ks.Verify(tt.url); v.Verdict != tt.want {
				t.Fatalf("verdict %s (%s), want %s", v.Verdict, v.Reason, tt.want)
			}
		})
	}

	if err := st.Revoke(ctx, k1); err != nil {
		t.Fatal(err)
	}
	ks, _ = st.KeySet(ctx)
	if v := ks.Verify(old); v.Verdict != Revoked {
		t.Fatalf("revoked key: verdict %s", v.Verdict)
	}
	if err := st.Retire(ctx, k1); !errors.Is(err, ErrKeyStatus) {
		t.Fatalf("retire revoked: %v", err)
	}
	if _, err := os.Stat(st.keyPath(k1)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("revoked private key still present: %v", err)
	}
	if err := st.Revoke(ctx, 99); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("revoke unknown: %v", err)
	}
	// Unknown key: a key set without k2.
	delete(ks.Keys, k2)
	sg2, _ := st.Signer(ctx, testBase)
	u, _ := sg2.Sign(testSeal())
	if v := ks.Verify(u); v.Verdict != Forged {
		t.Fatalf("unknown key: verdict %s", v.Verdict)
	}
	// Once k2 is retired too, nothing can sign.
	if err := st.Retire(ctx, k2); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Signer(ctx, testBase); !errors.Is(err, ErrNoActiveKey) {
		t.Fatalf("signer with no active key: %v", err)
	}
}

func TestKeyFilePermissions(t *testing.T) {
	ctx := context.Background()
	st, _, _ := newTestSigner(t)
	path := st.keyPath(1)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode().Perm())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Signer(ctx, testBase); !errors.Is(err, ErrKeyFile) {
		t.Fatalf("open key file: %v, want ErrKeyFile", err)
	}
}

func TestKeySetJSON(t *testing.T) {
	ctx := context.Background()
	st, _, ks := newTestSigner(t)
	data, err := os.ReadFile(filepath.Join(st.Dir(), KeySetFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"keys"`, `"k1"`, `"public_key"`, `"status": "active"`, `"valid_from"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("keyset.json lacks %s:\n%s", want, data)
		}
	}
	back, err := LoadKeySet(ctx, filepath.Join(st.Dir(), KeySetFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Keys) != 1 || !back.Keys[1].Key.Equal(ks.Keys[1].Key) {
		t.Fatalf("round trip: %+v", back)
	}
	bad := []string{
		`{"keys":{"x":{"public_key":"AAAA","status":"active"}}}`,
		`{"keys":{"k1":{"public_key":"AAAA","status":"active"}}}`,
		`{"keys":{"k1":{"public_key":"` + strings.Repeat("A", 43) + `=","status":"lost"}}}`,
		`[`,
	}
	for _, b := range bad {
		if _, err := ParseKeySet([]byte(b)); err == nil {
			t.Errorf("ParseKeySet(%s) accepted", b)
		}
	}
}

func FuzzParseSeal(f *testing.F) {
	_, sg, ks := newTestSigner(f)
	url, _ := sg.Sign(testSeal())
	rec, _ := sg.Record(testSeal())
	f.Add(url)
	f.Add(testBase + SealPath + "1")
	f.Add("https://h/v/" + EncodeDigits(rec[:20]))
	f.Add("HTTPS://X/V/0")
	f.Fuzz(func(t *testing.T, text string) {
		v := ks.Verify(text)
		if v.Verdict == Genuine && !strings.HasSuffix(text, strings.TrimPrefix(url, testBase)) {
			// A genuine verdict for anything but the signed seal means a forgery.
			t.Fatalf("genuine: %q", text)
		}
		SealSN(text)
		if _, r, err := ParseSealURL(text); err == nil {
			ParseRecord(r)
			if got := EncodeDigits(r); !strings.HasSuffix(strings.TrimSpace(text), got) {
				t.Fatalf("digits not canonical: %q vs %q", text, got)
			}
		}
	})
}
