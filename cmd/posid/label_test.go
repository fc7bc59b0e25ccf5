package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	if code, _, _ := runCLI(t, env, "label", "--batch", "B2026-09", "--sn", "PAX0001", "-o", out); code != 2 {
		t.Fatalf("two sources: exit %d, want 2", code)
	}
}
