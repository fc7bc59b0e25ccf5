package main

import (
	"context"
	"encoding/json"
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

// TestCLILabelFollowsRegistry checks that "posid label --sn" labels a
// registered device with the registry's model and supplier (so its seal
// matches the registry), refuses an SN the registry does not hold unless
// --unregistered, never labels a revoked device, and audits the run.
func TestCLILabelFollowsRegistry(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys"), "USER": "clerk", "HOSTNAME": "pos-01"}
	for _, args := range [][]string{{"demo"}, {"keys", "new"}, {"devices", "set-status", "PAXA92026090013", "revoked"}} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	_, out, _ := runCLI(t, env, "devices", "get", "PAXA92026090001", "--json")
	var dev struct {
		Model        string `json:"model"`
		SupplierCode string `json:"supplier_code"`
	}
	if err := json.Unmarshal([]byte(out), &dev); err != nil || dev.Model == "" || dev.SupplierCode == "" {
		t.Fatalf("device: %s %v", out, err)
	}
	png := filepath.Join(dir, "label.png")
	if code, _, errOut := runCLI(t, env, "label", "--sn", "PAXA92026090001", "-o", png); code != 0 {
		t.Fatalf("label: %s", errOut)
	}
	_, out, _ = runCLI(t, env, "verify", png, "--keys", filepath.Join(dir, "keys", "keyset.json"))
	if !strings.Contains(out, "Model     "+dev.Model+"\n") || !strings.Contains(out, "Supplier  "+dev.SupplierCode+"\n") {
		t.Fatalf("seal does not carry the registry's model %s and supplier %s:\n%s", dev.Model, dev.SupplierCode, out)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--sn", "NOPE-0001"}, 1, "not in the registry"},
		{[]string{"--sn", "PAXA92026090013"}, 1, "revoked"},
		{[]string{"--sn", "PAXA92026090013", "--unregistered"}, 1, "revoked"},
		{[]string{"--sn", "PAXA92026090001", "--model", "X9"}, 2, "disagrees with the registry"},
		{[]string{"--sn", "NOPE-0001", "--unregistered", "--model", "A920", "--supplier", "SUP1"}, 0, ""},
	} {
		code, _, errOut := runCLI(t, env, append(append([]string{"label"}, tc.args...), "-o", filepath.Join(dir, "x.png"))...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("label %v: exit %d (want %d): %s", tc.args, code, tc.code, errOut)
		}
	}
	app := &cli{getenv: func(k string) string { return env[k] }}
	st, err := (&dbFlags{db: env["POSID_DB"]}).open(context.Background(), app)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, _, err := st.Audit.List(context.Background(), audit.Filter{Action: audit.ActionPrintLabels})
	if err != nil || len(es) != 2 || es[1].Target != "PAXA92026090001" || es[1].Actor != "cli:clerk@pos-01" {
		t.Errorf("label audit rows: %+v %v", es, err)
	}
}
