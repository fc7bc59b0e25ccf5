package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"posid/internal/auth"
)

// usageEnv keeps every command's files in a temporary directory, should one
// get past its argument checks.
func usageEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys"), "USER": "clerk"}
}

// errorLines returns the lines of stderr that are error messages ("posid ...:").
func errorLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
		if strings.HasPrefix(l, "posid ") && strings.Contains(l, ": ") {
			out = append(out, l)
		}
	}
	return out
}

// TestCLIMissingArguments runs every command that needs arguments without
// them: each prints its usage to stderr, then one error line, and exits 2.
func TestCLIMissingArguments(t *testing.T) {
	tests := [][]string{
		{"import"}, {"devices"}, {"devices", "get"}, {"devices", "set-status"}, {"devices", "set-status", "PAX0001"},
		{"history"}, {"scan"}, {"label"}, {"verify"},
		{"keys"}, {"keys", "retire"}, {"keys", "revoke"},
		{"apikeys"}, {"apikeys", "create"}, {"apikeys", "revoke"},
		{"cases"}, {"cases", "show"}, {"cases", "assign"}, {"cases", "assign", "1"}, {"cases", "resolve"},
		{"changes"}, {"changes", "show"}, {"changes", "approve"}, {"changes", "reject"},
		{"complain"},
		{"users"}, {"users", "add"}, {"users", "disable"}, {"users", "reset-password"}, {"users", "totp"}, {"users", "remove-totp"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			code, out, errOut := runCLI(t, usageEnv(t), args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if !strings.HasPrefix(errOut, "Usage: posid "+args[0]) {
				t.Errorf("stderr does not start with the usage:\n%s", errOut)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if errs := errorLines(errOut); len(errs) != 1 || errs[0] != lines[len(lines)-1] {
				t.Errorf("want one error line, last; got %q in:\n%s", errs, errOut)
			}
		})
	}
}

// TestCLIBadFlag gives every command and subcommand an unknown flag: one
// line on stderr that names the flag and how to get help, exit 2.
func TestCLIBadFlag(t *testing.T) {
	var tests [][]string
	for name := range commands {
		tests = append(tests, []string{name})
	}
	sort.Slice(tests, func(i, j int) bool { return tests[i][0] < tests[j][0] })
	tests = append(tests,
		[]string{"devices", "get", "PAX0001"}, []string{"devices", "list"}, []string{"devices", "set-status", "PAX0001", "shipped"},
		[]string{"apikeys", "create"}, []string{"apikeys", "list"}, []string{"apikeys", "revoke", "abc"},
		[]string{"keys", "list"}, []string{"cases", "list"}, []string{"cases", "show", "1"}, []string{"cases", "prune"},
		[]string{"changes", "list"}, []string{"changes", "show", "1"}, []string{"changes", "reject", "1"},
		[]string{"history", "PAX0001"}, []string{"scan", "photo.jpg"},
		[]string{"users", "add"}, []string{"users", "list"}, []string{"users", "disable", "x"}, []string{"users", "totp", "x"})
	for _, args := range tests {
		t.Run(strings.Join(args, "_"), func(t *testing.T) {
			code, out, errOut := runCLI(t, usageEnv(t), append(args, "--no-such-flag")...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "-no-such-flag") || !strings.Contains(lines[0], `-h" for usage`) {
				t.Errorf("want one line naming the flag and the help; got:\n%s", errOut)
			}
		})
	}
}

// TestCLIHelpListsRoles checks that "posid apikeys -h" names every role.
func TestCLIHelpListsRoles(t *testing.T) {
	for _, h := range []string{"-h", "--help"} {
		code, _, errOut := runCLI(t, usageEnv(t), "apikeys", h)
		if code != 0 {
			t.Errorf("apikeys %s: exit %d", h, code)
		}
		for _, r := range auth.Roles {
			if !strings.Contains(errOut, "\n  "+string(r)+" ") {
				t.Errorf("apikeys %s does not list role %s:\n%s", h, r, errOut)
			}
		}
	}
}

// TestCLIScanEmptyDir checks that scanning a folder without images says so.
func TestCLIScanEmptyDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("no photos here"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, usageEnv(t), "scan", "--dir", dir)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if lines := strings.Split(strings.TrimRight(errOut, "\n"), "\n"); len(lines) != 1 || !strings.Contains(errOut, "has no images") || !strings.Contains(errOut, dir) {
		t.Errorf("want one line saying %s has no images; got:\n%s", dir, errOut)
	}
}
