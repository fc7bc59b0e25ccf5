package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
)

// TestCLIComplaintToResolvedCase files a complaint, finds its case in the
// queue, assigns and resolves it, and checks it leaves the open list.
func TestCLIComplaintToResolvedCase(t *testing.T) {
	env := map[string]string{"POSID_DB": filepath.Join(t.TempDir(), "posid.db"), "USER": "reviewer"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	const sn = "PAXA92026090001"
	code, out, errOut := runCLI(t, env, "complain", sn, "-merchant", "898110153110001", "-category", "counterfeit", "-text", "标签模糊，怀疑是假机", "-json")
	if code != 0 {
		t.Fatalf("complain: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, sn) {
		t.Fatalf("complain output does not name the device: %s", out)
	}

	code, out, errOut = runCLI(t, env, "cases", "list", "-status", "open", "-json")
	if code != 0 {
		t.Fatalf("cases list: %s", errOut)
	}
	var cases []struct {
		ID     int64  `json:"id"`
		SN     string `json:"sn"`
		Rule   string `json:"rule"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &cases); err != nil {
		t.Fatalf("cases list -json: %v: %s", err, out)
	}
	if len(cases) != 1 || cases[0].SN != sn || cases[0].Rule != "complaint" {
		t.Fatalf("open cases = %+v", cases)
	}
	id := jsonID(cases[0].ID)
	if code, _, errOut := runCLI(t, env, "cases", "assign", id, "alice"); code != 0 {
		t.Fatalf("assign: %s", errOut)
	}
	if code, _, errOut := runCLI(t, env, "cases", "resolve", id, "-note", "label reprinted", "-outcome", "dismissed"); code != 0 {
		t.Fatalf("resolve: %s", errOut)
	}
	if _, out, _ := runCLI(t, env, "cases", "list", "-status", "open"); strings.Contains(out, sn) {
		t.Fatalf("resolved case still open:\n%s", out)
	}
	if _, out, _ := runCLI(t, env, "cases", "show", id); !strings.Contains(out, "label reprinted") || !strings.Contains(out, "alice") {
		t.Fatalf("resolved case lost its note or assignee:\n%s", out)
	}
	if code, _, _ := runCLI(t, env, "cases", "resolve", "999999", "-note", "x"); code != 1 {
		t.Fatalf("resolving a missing case: exit %d", code)
	}
	if code, _, _ := runCLI(t, env, "complain", sn, "-merchant", "898110153110001", "-category", "aliens"); code == 0 {
		t.Fatal("unknown complaint category accepted")
	}
}

func jsonID(id int64) string {
	b, _ := json.Marshal(id)
	return string(b)
}

// TestCLICaseWorkIsAudited: posid complain, cases assign and cases resolve
// each leave one audit row naming the person at the CLI, the case or
// device and what was done; with the audit log down they fail.
func TestCLICaseWorkIsAudited(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "posid.db")
	env := map[string]string{"POSID_DB": dbPath, "USER": "rita", "HOSTNAME": "db1"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	const sn, actor = "PAXA92026090001", "cli:rita@db1"
	code, out, errOut := runCLI(t, env, "complain", sn, "-merchant", "898110153110001", "-category", "counterfeit", "-text", "label smudged", "-json")
	if code != 0 {
		t.Fatalf("complain: exit %d: %s", code, errOut)
	}
	var k struct {
		ID     int64 `json:"id"`
		CaseID int64 `json:"case_id"`
	}
	if err := json.Unmarshal([]byte(out), &k); err != nil || k.CaseID == 0 {
		t.Fatalf("complain -json: %v: %s", err, out)
	}
	id := jsonID(k.CaseID)
	if code, _, errOut := runCLI(t, env, "cases", "assign", id, "alice"); code != 0 {
		t.Fatalf("assign: %s", errOut)
	}
	if code, _, errOut := runCLI(t, env, "cases", "resolve", id, "-note", "label reprinted", "-outcome", "confirmed"); code != 0 {
		t.Fatalf("resolve: %s", errOut)
	}

	ctx := context.Background()
	st := openCLIStores(t, env)
	for _, want := range []audit.Entry{
		{Action: audit.ActionFileComplaint, Target: sn, Detail: fmt.Sprintf("complaint=%d case=%d category=counterfeit", k.ID, k.CaseID)},
		{Action: audit.ActionAssignCase, Target: "case:" + id, Detail: "assignee=alice"},
		{Action: audit.ActionResolveCase, Target: "case:" + id, Detail: "outcome=confirmed"},
	} {
		es, _, err := st.Audit.List(ctx, audit.Filter{Action: want.Action})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Actor != actor || es[0].Target != want.Target || es[0].Detail != want.Detail {
			t.Errorf("%s audit rows: %+v, want one by %s on %s with %q", want.Action, es, actor, want.Target, want.Detail)
		}
	}

	if _, err := st.SQLite.SQL().ExecContext(ctx, `CREATE TRIGGER audit_down BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, env, "complain", sn, "-merchant", "898110153110001", "-text", "again"); code != 1 || !strings.Contains(errOut, "audit") {
		t.Errorf("complain with the audit log down: exit %d: %s", code, errOut)
	}
}
