package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/users"
)

// runCLIStdin runs posid with args, stdin, and returns exit code, stdout
// and stderr.
func runCLIStdin(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(stdin), getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), app, args)
	return code, out.String(), errb.String()
}

// TestCLIUsers adds, lists, enrols, resets and disables users through the
// service, checks the audit rows and that no output carries a hash.
func TestCLIUsers(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "root", "HOSTNAME": "db1"}
	const pw = "a long and fine password"
	var outputs []string
	check := func(want int, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCLIStdin(t, env, stdin, args...)
		if code != want {
			t.Fatalf("posid %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		outputs = append(outputs, out+errOut)
		return out
	}
	check(0, pw+"\n", "users", "add", "--role", "merchant", "--merchant", "M001", "--name", "Mia", "--phone", "13800000000")
	check(2, "qwertyuiop\n", "users", "add", "--role", "warehouse", "--name", "wes")
	check(2, "", "users", "add", "--role", "merchant", "--name", "nobind")
	check(2, "", "users", "add", "--role", "root", "--name", "x")
	if got := check(1, pw+"\n", "users", "add", "--role", "admin", "--name", "mia"); got != "" {
		t.Fatalf("duplicate printed %q", got)
	}
	gen := strings.TrimSpace(check(0, "", "users", "add", "--role", "reviewer", "--name", "rita"))
	if len(gen) < 20 {
		t.Fatalf("generated password %q", gen)
	}
	list := check(0, "", "users", "list")
	if !strings.Contains(list, "mia") || !strings.Contains(list, "M001") || !strings.Contains(list, "reviewer") {
		t.Fatalf("list:\n%s", list)
	}
	totp := check(0, "", "users", "totp", "rita")
	lines := strings.Split(strings.TrimSpace(totp), "\n")
	if !strings.HasPrefix(lines[0], "otpauth://totp/posid:rita?") || len(lines) != 1+users.RecoveryCodes {
		t.Fatalf("totp printed:\n%s", totp)
	}
	check(0, "", "users", "remove-totp", "rita")
	check(0, "", "users", "totp", "rita")
	if got := strings.TrimSpace(check(0, "", "users", "reset-password", "mia")); len(got) < 20 {
		t.Fatalf("reset printed %q", got)
	}
	check(0, "", "users", "disable", "mia")
	check(1, "", "users", "disable", "nobody")
	if list := check(0, "", "users", "list"); !strings.Contains(list, "yes") {
		t.Fatalf("disabled user not shown as disabled:\n%s", list)
	}
	for _, o := range outputs {
		if strings.Contains(o, "argon2") {
			t.Fatalf("a password hash left the store:\n%s", o)
		}
	}

	var f dbFlags
	f.db = env["POSID_DB"]
	st, err := f.open(context.Background(), &cli{getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, action := range []string{audit.ActionCreateUser, audit.ActionEnrolTOTP, audit.ActionRemoveTOTP, audit.ActionResetPassword, audit.ActionDisableUser} {
		es, _, err := st.Audit.List(context.Background(), audit.Filter{Action: action})
		if err != nil || len(es) == 0 || es[0].Actor != "cli:root@db1" {
			t.Errorf("%s audited as %+v (%v)", action, es, err)
		}
	}
	u, err := st.Users.User(context.Background(), "mia")
	if err != nil || !u.Disabled || u.Phone != "13800000000" {
		t.Fatalf("mia: %+v %v", u, err)
	}
}
