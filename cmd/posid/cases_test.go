package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
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
