package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs posid with args and returns exit code, stdout and stderr.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	app := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }}
	code := run(context.Background(), app, args)
	return code, out.String(), errb.String()
}

// openCLIStores opens the stores of env's database as the CLI does, to
// read what a command wrote; they close when the test ends.
func openCLIStores(t *testing.T, env map[string]string) *stores {
	t.Helper()
	st, err := (&dbFlags{db: env["POSID_DB"]}).open(context.Background(), &cli{getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestCLIImportAndDevices(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "USER": "clerk"}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("\xef\xbb\xbf序列号,型号,厂商,供应商代码,商户号,商户名称,终端号,收单机构,结算账号,入网方式\n"+
		"PAX0001,A920,PAX,SUP1,M001,老王餐馆,T001,银联商务,6222021234561234,4G\n"+
		"PAX0002,A920,PAX,SUP1,,,,,,\n"), 0o644)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("sn,model,manufacturer,supplier_code\nPAX0003,A920,PAX,SUP1\nX,A920,PAX,SUP1\nPAX0005,,PAX,SUP1\n"), 0o644)

	code, out, errOut := runCLI(t, env, "import", bad)
	if code != 1 || !strings.Contains(out, "line 3") || !strings.Contains(out, "line 4") || !strings.Contains(out, "nothing was written") {
		t.Fatalf("bad import: code %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := runCLI(t, env, "devices", "get", "PAX0003"); code != 1 {
		t.Fatalf("rejected import wrote PAX0003 (exit %d)", code)
	}

	if code, out, errOut := runCLI(t, env, "import", good); code != 0 || !strings.Contains(out, "2 created") {
		t.Fatalf("good import: code %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, env, "devices", "get", "pax0001", "--json")
	var dev struct {
		SN           string
		Registration struct{ Account, MerchantName string } `json:"registration"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &dev) != nil || dev.Registration.Account != "**** 1234" {
		t.Fatalf("get --json: code %d, %s", code, out)
	}
	if _, out, _ := runCLI(t, env, "devices", "get", "PAX0001", "-reveal-account"); !strings.Contains(out, "6222021234561234") {
		t.Fatalf("reveal: %s", out)
	}
	if code, _, errOut := runCLI(t, env, "devices", "set-status", "PAX0002", "active"); code != 1 || !strings.Contains(errOut, "provisioned → active") {
		t.Fatalf("bad transition: %d %s", code, errOut)
	}
	if code, _, _ := runCLI(t, env, "devices", "set-status", "PAX0002", "shipped"); code != 0 {
		t.Fatal("set-status shipped failed")
	}
	_, out, _ = runCLI(t, env, "history", "PAX0002")
	if !strings.Contains(out, "cli:clerk") || !strings.Contains(out, "provisioned → shipped") {
		t.Fatalf("history:\n%s", out)
	}
	if _, out, _ := runCLI(t, env, "devices", "list", "--status", "shipped"); !strings.Contains(out, "PAX0002") || strings.Contains(out, "PAX0001") {
		t.Fatalf("list --status shipped:\n%s", out)
	}
}

func TestCLIExitCodes(t *testing.T) {
	env := map[string]string{"POSID_DB": filepath.Join(t.TempDir(), "posid.db")}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, errOut)
	}
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{nil, 2, ""},
		{[]string{"help"}, 0, ""},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"devices"}, 2, "missing subcommand"},
		{[]string{"devices", "get"}, 2, "want one serial number"},
		{[]string{"devices", "get", "-h"}, 0, ""},
		{[]string{"devices", "get", "NOPE0000"}, 1, "not found"},
		{[]string{"devices", "set-status", "PAX0001", "flying"}, 2, "unknown status"},
		{[]string{"devices", "list", "--bogus"}, 2, "flag provided but not defined"},
		{[]string{"import", "/no/such/file.csv"}, 1, "no such file"},
		{[]string{"history", "bad sn"}, 1, "serial number"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, _, errOut := runCLI(t, env, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.msg) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, tt.code, errOut, tt.msg)
			}
			if n := strings.Count(strings.TrimSpace(errOut), "\n"); tt.code == 1 && n > 0 {
				t.Fatalf("failure message is %d lines: %q", n+1, errOut)
			}
		})
	}
}

// TestCLIImportRowColumns: a rejected import prints one line a bad row
// with the columns at fault, named as the file's header does when it
// calls them otherwise; --json gives them as the API does.
func TestCLIImportRowColumns(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db")}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("序列号,型号,厂商,供应商代码,商户号,商户名称,终端号,收单机构,结算账号,入网方式\n"+
		"PAX0001,A920,PAX,SUP1,M001,老王餐馆,T001,银联商务,6222021234561234,4G\n"+
		"PAX0002,,PAX,SUP1,M001,老王餐馆,T001,银联商务,62220abc,4G\n"+
		"PAX0001,A920,PAX,SUP1,,,,,,\n"), 0o644)
	code, out, errOut := runCLI(t, env, "import", bad)
	for _, want := range []string{
		"  line 3 PAX0002 [model (型号), account (结算账号)]: model is required; registration: settlement account may hold only digits\n",
		"  line 4 PAX0001 [sn (序列号)]: serial number PAX0001 repeats line 2\n",
	} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output lacks %q:\n%s%s", code, want, out, errOut)
		}
	}
	mapped := filepath.Join(dir, "mapped.csv")
	os.WriteFile(mapped, []byte("Serial,model,manufacturer,supplier_code\nX,,PAX,SUP1\n"), 0o644)
	_, out, _ = runCLI(t, env, "import", "--map", "Serial:sn", mapped)
	if want := "  line 2 X [sn (Serial), model]: serial number must be 4–40 characters, got 1; model is required\n"; !strings.Contains(out, want) {
		t.Errorf("mapped: output lacks %q:\n%s", want, out)
	}
	_, out, _ = runCLI(t, env, "import", "--json", bad)
	if want := `"columns": [`; !strings.Contains(out, want) || !strings.Contains(out, `"header": "结算账号"`) {
		t.Errorf("--json lacks the columns:\n%s", out)
	}
}
