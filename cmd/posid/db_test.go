package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMissingKeyFileRefused moves the key file of a database with accounts
// away: commands and the server refuse to start with one line, and no new
// key file is left behind to seal later writes with another key.
func TestMissingKeyFileRefused(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "secret.key")
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "clerk"}
	csv := filepath.Join(dir, "good.csv")
	os.WriteFile(csv, []byte("sn,model,manufacturer,supplier_code,merchant_no,merchant_name,terminal_id,acquirer,account,access\n"+
		"PAX0001,A920,PAX,SUP1,M001,老王餐馆,T001,银联商务,6222021234561234,4G\n"), 0o600)
	if code, out, errOut := runCLI(t, env, "import", csv); code != 0 {
		t.Fatalf("import: %d\n%s%s", code, out, errOut)
	}
	saved := filepath.Join(dir, "secret.key.saved")
	if err := os.Rename(keyFile, saved); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := runCLI(t, env, "devices", "get", "PAX0001", "-reveal-account")
	if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "secret.key is missing") || strings.Contains(out, "6222") {
		t.Fatalf("get without key file: exit %d\nstdout %q\nstderr %q", code, out, errOut)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a new key file was left behind: %v", err)
	}

	// The server refuses too. The deadline only ends a server that
	// wrongly started; a refusal returns at once.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var sout, serr bytes.Buffer
	app := &cli{stdout: &sout, stderr: &serr, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }}
	if code := run(ctx, app, []string{"serve", "-addr", "127.0.0.1:0"}); code != 1 || !strings.Contains(serr.String(), "secret.key is missing") {
		t.Fatalf("serve without key file: exit %d\n%s", code, serr.String())
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("serve left a new key file behind: %v", err)
	}

	// A wrong key given in the environment is refused as well.
	env["POSID_SECRET_KEY"] = strings.Repeat("ab", 32)
	if code, _, errOut := runCLI(t, env, "devices", "get", "PAX0001"); code != 1 || !strings.Contains(errOut, "not the one this database was sealed with") {
		t.Fatalf("wrong POSID_SECRET_KEY: exit %d %s", code, errOut)
	}
	delete(env, "POSID_SECRET_KEY")

	// With the key back, everything reads again.
	if err := os.Rename(saved, keyFile); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, env, "devices", "get", "PAX0001", "-reveal-account"); code != 0 || !strings.Contains(out, "6222021234561234") {
		t.Fatalf("get with key restored: exit %d\n%s%s", code, out, errOut)
	}
}

// TestMissingDatabaseRefused runs every command that reads or changes
// existing records against a database file that is not there: each says so
// in one line and leaves no database or key file behind, where it used to
// create an empty database (and a key) in the working directory.
func TestMissingDatabaseRefused(t *testing.T) {
	for _, args := range [][]string{
		{"devices", "get", "PAX0001"},
		{"devices", "list"},
		{"devices", "set-status", "PAX0001", "shipped"},
		{"history", "PAX0001"},
		{"apikeys", "list"},
		{"apikeys", "revoke", "ab12cd34ef56"},
		{"keys", "list"},
		{"keys", "retire", "k1"},
		{"keys", "revoke", "k1"},
		{"cases", "list"},
		{"complain", "PAX0001", "-merchant", "M001", "-category", "counterfeit", "-text", "not mine"},
		{"changes", "list"},
		{"devices", "export", "--format", "csv"},
		{"printers", "list"},
		{"printers", "remove", "dock"},
		{"printers", "jobs"},
		{"users", "list"},
		{"users", "disable", "wang"},
	} {
		t.Run(strings.Join(args[:2], " "), func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys"), "USER": "clerk"}
			code, out, errOut := runCLI(t, env, args...)
			if code != 1 || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no database at") || out != "" {
				t.Fatalf("exit %d\nstdout %q\nstderr %q", code, out, errOut)
			}
			for _, name := range []string{"posid.db", "secret.key"} {
				if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s was created: %v", name, err)
				}
			}
		})
	}
}
