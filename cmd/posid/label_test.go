package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
)

// TestCLILabelBatch prints every device of a registry batch into one PDF
// and refuses an unknown batch without leaving a file behind.
func TestCLILabelBatch(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys")}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	if code, _, errOut := runCLI(t, env, "keys", "new"); code != 0 {
		t.Fatalf("keys new: %s", errOut)
	}
	out := filepath.Join(dir, "batch.pdf")
	code, _, errOut := runCLI(t, env, "label", "--batch", "B2026-09", "-o", out)
	if code != 0 || !strings.Contains(errOut, "12 labels") {
		t.Fatalf("label --batch: exit %d: %s", code, errOut)
	}
	pdf, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("output is not a PDF: %v", err)
	}
	if !bytes.Contains(pdf, []byte("/Count 12")) {
		t.Fatal("PDF does not hold 12 pages")
	}
	missing := filepath.Join(dir, "none.pdf")
	if code, _, errOut := runCLI(t, env, "label", "--batch", "NOPE", "-o", missing); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("unknown batch: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Fatalf("a failed run left %s", missing)
	}
	if code, _, _ := runCLI(t, env, "label", "--batch", "B2026-09", "--sn", "LDA826090004", "-o", out); code != 2 {
		t.Fatalf("two sources: exit %d, want 2", code)
	}
}

// TestCLILabelIssuedWithAuditRow: a label file's audit row and its SNs
// marked issued are one write. With the issue table refusing writes the
// run exits 1, leaves no file and no labels.print row (regression: the
// row was written first, then marking the SN failed); once it accepts
// them, the run is audited and the SN counts as issued.
func TestCLILabelIssuedWithAuditRow(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys")}
	for _, args := range [][]string{{"demo"}, {"keys", "new"}} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	st := openCLIStores(t, env)
	printed := func() int {
		t.Helper()
		es, _, err := st.Audit.List(ctx, audit.Filter{Action: audit.ActionPrintLabels, Target: "LDA826090004"})
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	if _, err := st.SQLite.SQL().ExecContext(ctx, `CREATE TRIGGER issues_down BEFORE INSERT ON label_issues BEGIN SELECT RAISE(ABORT, 'label issues unavailable'); END`); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "one.pdf")
	if code, _, errOut := runCLI(t, env, "label", "--sn", "LDA826090004", "-o", out); code != 1 || !strings.Contains(errOut, "label issues unavailable") {
		t.Fatalf("label with the issue table down: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed run left %s", out)
	}
	if n := printed(); n != 0 {
		t.Errorf("%d labels.print rows for a label that never left", n)
	}
	if _, err := st.SQLite.SQL().ExecContext(ctx, `DROP TRIGGER issues_down`); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCLI(t, env, "label", "--sn", "LDA826090004", "-o", out); code != 0 {
		t.Fatalf("label: exit %d: %s", code, errOut)
	}
	if n := printed(); n != 1 {
		t.Errorf("%d labels.print rows, want 1", n)
	}
	if is, err := st.Printing.Issued(ctx, []string{"LDA826090004"}); err != nil || !is["LDA826090004"] {
		t.Errorf("LDA826090004 not marked issued: %v", err)
	}
}
