package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIAudit: "posid audit" lists the log through the service, newest
// first, with a cursor to the next page; each read is itself a row, and
// bad flags are usage errors that read nothing.
func TestCLIAudit(t *testing.T) {
	env := map[string]string{"POSID_DB": filepath.Join(t.TempDir(), "posid.db"), "USER": "rita", "HOSTNAME": "pos-01"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	for _, args := range [][]string{{"audit", "-limit", "0"}, {"audit", "-limit", "1001"}, {"audit", "-before", "-1"}, {"audit", "x"}} {
		if code, _, errOut := runCLI(t, env, args...); code != 2 || !strings.Contains(errOut, "posid audit: ") {
			t.Errorf("%v: exit %d, %q; want a usage error", args, code, errOut)
		}
	}
	// A read is logged once its page is taken: read i finds the i reads
	// before it, two a page.
	for i := range 4 {
		code, out, errOut := runCLI(t, env, "audit", "-action", "audit.read", "-limit", "2", "-json")
		if code != 0 {
			t.Fatalf("read %d: exit %d: %s", i, code, errOut)
		}
		var page struct {
			Entries []struct {
				ID     int64  `json:"id"`
				Actor  string `json:"actor"`
				Detail string `json:"detail"`
			} `json:"entries"`
			Next int64 `json:"next"`
		}
		if err := json.Unmarshal([]byte(out), &page); err != nil {
			t.Fatalf("read %d: %v in %q", i, err, out)
		}
		if len(page.Entries) != min(i, 2) {
			t.Fatalf("read %d: %d rows, want %d (the reads before it, at most 2)", i, len(page.Entries), min(i, 2))
		}
		for _, e := range page.Entries {
			if e.Actor != "cli:rita@pos-01" || e.Detail != "action=audit.read&limit=2" {
				t.Errorf("read %d: row %+v, want rita's read with its filter", i, e)
			}
		}
		if len(page.Entries) == 2 && page.Entries[0].ID <= page.Entries[1].ID {
			t.Errorf("read %d: rows %+v, want newest first", i, page.Entries)
		}
		if i == 3 && page.Next != page.Entries[1].ID || i < 3 && page.Next != 0 {
			t.Errorf("read %d: next %d; want the last ID shown when more rows are left, else 0", i, page.Next)
		}
	}
	code, out, errOut := runCLI(t, env, "audit", "-actor", "cli:rita@pos-01", "-limit", "1")
	if code != 0 || !strings.Contains(out, "audit.read") || !strings.Contains(out, "more: posid audit -before ") {
		t.Fatalf("table: exit %d, %q %q; want a row and the next page's command", code, out, errOut)
	}
}
