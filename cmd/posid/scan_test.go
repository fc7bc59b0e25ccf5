package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posid/scan/scantest"
)

// TestCLIScanAndVerifyLabel renders a label with "posid label", then reads
// it back with "posid scan" and "posid verify".
func TestCLIScanAndVerifyLabel(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_KEYS_DIR": filepath.Join(dir, "keys"), "POSID_DB": filepath.Join(dir, "db", "posid.db")}
	if code, _, errOut := runCLI(t, env, "keys", "new"); code != 0 {
		t.Fatalf("keys new: %s", errOut)
	}
	png := filepath.Join(dir, "label.png")
	if code, _, errOut := runCLI(t, env, "label", "--sn", "PAX-CLI-0001", "--unregistered", "--model", "A920", "--supplier", "SUP1", "-o", png); code != 0 {
		t.Fatalf("label: %s", errOut)
	}
	code, out, errOut := runCLI(t, env, "scan", png, "--json")
	if code != 0 || !strings.Contains(out, `"PAX-CLI-0001"`) || !strings.Contains(out, "qr_code") || !strings.Contains(out, "code_128") {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, `"trace"`) || !strings.Contains(out, `"stop": "found"`) {
		t.Errorf("scan --json shows no stage trace:\n%s", out)
	}
	if code, out, errOut := runCLI(t, env, "scan", png, "--json", "--escalation", "-1s"); code != 0 || !strings.Contains(out, `"trace"`) {
		t.Errorf("scan --escalation -1s: exit %d\n%s%s", code, out, errOut)
	}
	keyset := filepath.Join(dir, "keys", "keyset.json")
	if code, out, errOut := runCLI(t, env, "verify", png, "--keys", keyset); code != 0 || !strings.Contains(out, "genuine") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, env, "scan", "--dir", dir); code != 0 || !strings.Contains(out, "PAX-CLI-0001") {
		t.Fatalf("scan --dir: exit %d\n%s", code, out)
	}

	junk := filepath.Join(dir, "junk.jpg")
	os.WriteFile(junk, []byte("<html>not a photo</html>"), 0o644)
	for _, tt := range []struct {
		args []string
		code int
	}{
		{[]string{"scan"}, 2},
		{[]string{"scan", filepath.Join(dir, "missing.jpg")}, 1},
		{[]string{"scan", junk}, 1},
		{[]string{"verify", "https://x/v/123", "--keys", keyset}, 1},
	} {
		code, _, errOut := runCLI(t, env, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args, code, tt.code, errOut)
		}
		if tt.code == 1 && strings.Count(strings.TrimSpace(errOut), "\n") > 0 && strings.HasPrefix(errOut, "posid") {
			t.Errorf("%v: error is more than one line: %q", tt.args, errOut)
		}
	}
}

// TestCLIScanHostileImage: "posid scan" on a 2×19,999,999 PNG (60 KB on
// disk) prints a one-line error and exits 1; it used to die of an
// out-of-memory fatal error in the scan session.
func TestCLIScanHostileImage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "strip.png")
	if err := os.WriteFile(file, scantest.PNG(2, 19_999_999, scantest.Gray, 8), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, nil, "scan", file)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	line := strings.TrimSpace(errOut)
	if strings.Contains(line, "\n") || !strings.Contains(line, "unreasonable image shape") {
		t.Fatalf("want one line naming the shape, got %q", errOut)
	}
}
