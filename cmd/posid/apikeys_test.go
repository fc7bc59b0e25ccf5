package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/labels"
)

// TestCLIAPIKeys creates an API key on a fresh database (the bootstrap
// path), lists and revokes it through the service, checks the audit rows,
// and that a revoke whose audit row cannot be written fails and leaves the
// key active.
func TestCLIAPIKeys(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "root", "HOSTNAME": "db1"}
	check := func(want int, args ...string) (string, string) {
		t.Helper()
		code, out, errOut := runCLI(t, env, args...)
		if code != want {
			t.Fatalf("posid %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out, errOut
	}
	tok, msg := check(0, "apikeys", "create", "--role", "admin", "--name", "first admin")
	fields := strings.Fields(msg) // created admin key ID (first admin); ...
	if len(fields) < 4 || !strings.HasPrefix(msg, "created admin key ") || !strings.Contains(tok, fields[3]) {
		t.Fatalf("create printed %q and %q", tok, msg)
	}
	id := fields[3]
	k2tok, msg2 := check(0, "apikeys", "create", "--role", "warehouse", "--name", "shelf")
	id2 := strings.Fields(msg2)[3]
	if list, _ := check(0, "apikeys", "list"); !strings.Contains(list, id) || !strings.Contains(list, "first admin") || strings.Contains(list, strings.TrimSpace(tok)) || strings.Contains(list, strings.TrimSpace(k2tok)) {
		t.Fatalf("list:\n%s", list)
	}
	if out, _ := check(0, "apikeys", "revoke", id); out != "revoked "+id+" (first admin)\n" {
		t.Fatalf("revoke printed %q", out)
	}
	check(1, "apikeys", "revoke", "nonsense")

	st := openCLIStores(t, env)
	for action, want := range map[string][]string{
		audit.ActionCreateAPIKey: {id2 + " role=warehouse", id + " role=admin"},
		audit.ActionRevokeAPIKey: {id + " "},
	} {
		es, _, err := st.Audit.List(ctx, audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(want) {
			t.Fatalf("%s rows: %+v, want %d", action, es, len(want))
		}
		for i, e := range es {
			if e.Actor != "cli:root@db1" || e.Target+" "+e.Detail != want[i] {
				t.Errorf("%s row %d: %+v, want %q by cli:root@db1", action, i, e, want[i])
			}
		}
	}

	// With the audit log down, the revoke is reported and not made.
	if _, err := st.SQLite.SQL().ExecContext(ctx, `CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	_, errOut := check(1, "apikeys", "revoke", id2)
	if !strings.Contains(errOut, "audit log unavailable") {
		t.Fatalf("revoke with the audit log down said %q", errOut)
	}
	if k, err := st.Keys.Key(ctx, id2); err != nil || k.RevokedAt != nil {
		t.Fatalf("key %s after a revoke whose audit row failed: %+v %v, want active", id2, k, err)
	}
}

// TestCLILabelKeyStatusAudited makes, retires and revokes label signing
// keys with posid keys: each change leaves one audit row of its action by
// the person at the CLI, and a new key whose audit row cannot be written
// is not made.
func TestCLILabelKeyStatusAudited(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys"), "USER": "root", "HOSTNAME": "db1"}
	check := func(want int, args ...string) string {
		t.Helper()
		code, out, errOut := runCLI(t, env, args...)
		if code != want {
			t.Fatalf("posid %s: exit %d, want %d\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
		return out
	}
	check(0, "apikeys", "create", "--role", "admin", "--name", "first admin")
	kid1 := strings.Fields(check(0, "keys", "new"))[0]
	kid2 := strings.Fields(check(0, "keys", "new"))[0]
	if out := check(0, "keys", "retire", kid1); out != kid1+"\tretired\n" {
		t.Fatalf("retire printed %q", out)
	}
	if out := check(0, "keys", "revoke", kid2); out != kid2+"\trevoked\n" {
		t.Fatalf("revoke printed %q", out)
	}
	check(1, "keys", "retire", kid2) // revoked keys stay revoked

	st := openCLIStores(t, env)
	for action, targets := range map[string][]string{
		audit.ActionCreateLabelKey: {kid2, kid1}, audit.ActionRetireLabelKey: {kid1}, audit.ActionRevokeLabelKey: {kid2},
	} {
		es, _, err := st.Audit.List(ctx, audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(targets) {
			t.Errorf("%s rows: %+v, want %d", action, es, len(targets))
			continue
		}
		for i, e := range es {
			if e.Actor != "cli:root@db1" || e.Target != targets[i] {
				t.Errorf("%s row %d: %+v, want %s by cli:root@db1", action, i, e, targets[i])
			}
		}
	}

	if _, err := st.SQLite.SQL().ExecContext(ctx, `CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, env, "keys", "new"); code != 1 || !strings.Contains(errOut, "audit log unavailable") {
		t.Fatalf("keys new with the audit log down: exit %d: %s", code, errOut)
	}
	ks, err := labels.OpenKeyStore(env["POSID_KEYS_DIR"]).KeySet(ctx)
	if err != nil || len(ks.Keys) != 2 {
		t.Fatalf("key set after a new key whose audit row failed: %v %v, want %s and %s only", ks.IDs(), err, kid1, kid2)
	}
}
