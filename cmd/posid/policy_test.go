package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
)

// TestCLIReadsAreAudited checks that the CLI writes the audit rows the
// API does: a reveal of a settlement account, a read of registration data
// and a read of history, each named for the person at the CLI.
func TestCLIReadsAreAudited(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "clerk", "HOSTNAME": "pos-01"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	code, out, errOut := runCLI(t, env, "devices", "get", "PAXA92026090001", "--reveal-account")
	if code != 0 || strings.Contains(out, "****") {
		t.Fatalf("reveal: exit %d: %s%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, env, "history", "PAXA92026090001"); code != 0 {
		t.Fatalf("history: %s", errOut)
	}
	if code, _, errOut := runCLI(t, env, "devices", "get", "PAXA92026090001"); code != 0 {
		t.Fatalf("get: %s", errOut)
	}
	app := &cli{getenv: func(k string) string { return env[k] }}
	st, err := (&dbFlags{db: env["POSID_DB"]}).open(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, action := range []string{audit.ActionRevealAccount, audit.ActionReadHistory, audit.ActionReadDevice} {
		es, _, err := st.Audit.List(context.Background(), audit.Filter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Target != "PAXA92026090001" || es[0].Actor != "cli:clerk@pos-01" {
			t.Errorf("%s: audit rows %+v, want one for PAXA92026090001 by cli:clerk@pos-01", action, es)
		}
	}
}
