package faults

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posid/internal/servetest"
	"posid/labels"
)

// revokeBound is how soon every server must refuse a revoked key.
const revokeBound = time.Second

// TestRevokeReachesEveryServer runs two `posid serve` processes on one
// database, revokes a key through server A's API (and another with the
// CLI), and checks that server B refuses it within revokeBound, although B
// had it cached.
func TestRevokeReachesEveryServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) database
	}{{"sqlite", sqliteDatabase}, {"postgres", postgresDatabase}} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db(t)
			dir := t.TempDir()
			admin := createKey(t, db.arg, "--role", "admin", "--name", "ops")
			viaAPI := createKey(t, db.arg, "--role", "merchant", "--merchant", "M001", "--name", "till 1")
			viaCLI := createKey(t, db.arg, "--role", "merchant", "--merchant", "M001", "--name", "till 2")
			a, b := startServe(t, db.arg, filepath.Join(dir, "a")), startServe(t, db.arg, filepath.Join(dir, "b"))
			for _, tok := range []string{viaAPI, viaCLI} {
				for _, addr := range []string{a, b} {
					if code := call(t, addr, "GET", "/api/v1/devices", tok); code != http.StatusOK {
						t.Fatalf("before revocation: %d from %s", code, addr)
					}
				}
			}
			id := strings.Split(strings.TrimPrefix(viaAPI, "posid_"), "_")[0]
			if code := call(t, a, "POST", "/api/v1/apikeys/"+id+"/revoke", admin); code != http.StatusOK {
				t.Fatalf("revoke through server A: %d", code)
			}
			refusedWithin(t, b, viaAPI)
			refusedWithin(t, a, viaAPI)
			mustRun(t, "apikeys", "revoke", "--db", db.arg, strings.Split(strings.TrimPrefix(viaCLI, "posid_"), "_")[0])
			refusedWithin(t, a, viaCLI)
			refusedWithin(t, b, viaCLI)
		})
	}
}

// TestLabelKeyRevokeReachesEveryServer runs two `posid serve` processes
// on one database, each with its own copy of the label key directory (B
// holds only the public key set), revokes a label key through server A's
// API and checks that B's verify says revoked within revokeBound; then the
// same for a key revoked with `posid keys revoke` on a third copy.
func TestLabelKeyRevokeReachesEveryServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		db   func(t *testing.T) database
	}{{"sqlite", sqliteDatabase}, {"postgres", postgresDatabase}} {
		t.Run(tc.name, func(t *testing.T) {
			db := tc.db(t)
			dir := t.TempDir()
			keysA, keysB, keysCLI := filepath.Join(dir, "keys-a"), filepath.Join(dir, "keys-b"), filepath.Join(dir, "keys-cli")
			mustRun(t, "keys", "--dir", keysA, "--db", db.arg, "new")
			mustRun(t, "keys", "--dir", keysA, "--db", db.arg, "new")
			seals := map[labels.KeyID]string{}
			for _, id := range []labels.KeyID{1, 2} {
				seals[id] = sealWith(t, keysA, id)
			}
			for _, d := range []string{keysB, keysCLI} {
				copyKeySet(t, keysA, d)
			}
			admin := createKey(t, db.arg, "--role", "admin", "--name", "ops")
			a := startServe(t, db.arg, filepath.Join(dir, "a"), "--keys-dir", keysA)
			b := startServe(t, db.arg, filepath.Join(dir, "b"), "--keys-dir", keysB)
			for _, addr := range []string{a, b} {
				for _, seal := range seals {
					if v := verdict(t, addr, seal); v != "genuine" {
						t.Fatalf("before revocation %s says %q", addr, v)
					}
				}
			}
			if code := call(t, a, "POST", "/api/v1/labelkeys/k1/revoke", admin); code != http.StatusOK {
				t.Fatalf("revoke label key through server A: %d", code)
			}
			revokedWithin(t, b, seals[1])
			revokedWithin(t, a, seals[1])
			mustRun(t, "keys", "--dir", keysCLI, "--db", db.arg, "revoke", "k2")
			revokedWithin(t, a, seals[2])
			revokedWithin(t, b, seals[2])
		})
	}
}

// sealWith signs a seal URL with key id of the key directory dir.
func sealWith(t *testing.T, dir string, id labels.KeyID) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, id.String()+".key"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := labels.NewSigner(id, ed25519.NewKeyFromSeed(seed), "https://verify.test")
	if err != nil {
		t.Fatal(err)
	}
	u, err := sg.Sign(labels.Seal{SN: "PAX0001", Model: "A920", Supplier: "SUP1", Date: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// copyKeySet copies the public key set of key directory from into to.
func copyKeySet(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(from, labels.KeySetFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, labels.KeySetFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// verdict asks addr's POST /api/v1/verify about seal.
func verdict(t *testing.T, addr, seal string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"qr": seal})
	resp, err := http.Post("http://"+addr+"/api/v1/verify", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct{ Verdict string }
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil {
		t.Fatalf("verify on %s: %d %s", addr, resp.StatusCode, b)
	}
	return v.Verdict
}

// revokedWithin polls addr's verify until seal is revoked, failing after
// revokeBound.
func revokedWithin(t *testing.T, addr, seal string) {
	t.Helper()
	start := time.Now()
	for {
		v := verdict(t, addr, seal)
		if v == "revoked" {
			return
		}
		if time.Since(start) > revokeBound {
			t.Fatalf("%s still says %q about a seal of a revoked key %v after the revocation", addr, v, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createKey makes an API key with the CLI and returns its token.
func createKey(t *testing.T, db string, args ...string) string {
	t.Helper()
	out, err := posid(append([]string{"apikeys", "create", "--db", db}, args...)...).Output()
	if err != nil {
		t.Fatalf("posid apikeys create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startServe starts `posid serve` on db and returns its address.
func startServe(t *testing.T, db, dataDir string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := posid(append([]string{"serve", "--db", db, "--addr", addr, "--data-dir", dataDir, "--log-level", "warn"}, args...)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if err := servetest.WaitReady(addr, 20*time.Second); err != nil {
		t.Fatalf("serve: %v\n%s", err, log.String())
	}
	return addr
}

// call sends an empty request with tok and returns the status.
func call(t *testing.T, addr, method, path, tok string) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), method, "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		var p struct{ Status int }
		b, _ := io.ReadAll(resp.Body)
		if json.Unmarshal(b, &p) != nil || p.Status != resp.StatusCode {
			t.Fatalf("%s %s: %d without a problem body: %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode
}

// refusedWithin polls addr until tok gets 401, failing after revokeBound.
func refusedWithin(t *testing.T, addr, tok string) {
	t.Helper()
	start := time.Now()
	for {
		code := call(t, addr, "GET", "/api/v1/devices", tok)
		if code == http.StatusUnauthorized {
			return
		}
		if time.Since(start) > revokeBound {
			t.Fatalf("%s still answers %d to a revoked key %v after the revocation", addr, code, time.Since(start).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
