package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posid/internal/servetest"
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
func startServe(t *testing.T, db, dataDir string) string {
	t.Helper()
	addr := freeAddr(t)
	cmd := posid("serve", "--db", db, "--addr", addr, "--data-dir", dataDir, "--log-level", "warn")
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
