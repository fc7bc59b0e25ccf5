package main

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posid/internal/demo"
)

// TestCLIPrinters adds a ZPL printer, prints a label to a raw 9100
// listener with "posid label --printer", prints it again (a reprint, as
// is a label written to a file before), lists the jobs and removes the
// printer.
func TestCLIPrinters(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_KEYS_DIR": filepath.Join(dir, "keys"), "USER": "clerk", "HOSTNAME": "pos-01"}
	for _, args := range [][]string{{"demo"}, {"keys", "new"}} {
		if code, _, errOut := runCLI(t, env, args...); code != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
	}
	first, second := demo.Devices()[0].SN, demo.Devices()[1].SN
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	jobs := make(chan []byte, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			jobs <- b
		}
	}()
	next := func() []byte {
		select {
		case b := <-jobs:
			return b
		case <-time.After(10 * time.Second):
			t.Fatal("no job arrived")
			return nil
		}
	}
	if code, _, errOut := runCLI(t, env, "printers", "add", "--name", "dock", "--kind", "zpl", "--address", "bad address"); code != 2 {
		t.Fatalf("bad address: exit %d: %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, env, "printers", "add", "--name", "dock", "--kind", "zpl", "--address", ln.Addr().String()); code != 0 || !strings.Contains(out, "added printer dock") {
		t.Fatalf("add: exit %d: %s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, env, "printers", "list"); code != 0 || !strings.Contains(out, ln.Addr().String()) {
		t.Fatalf("list: %s", out)
	}
	code, _, errOut := runCLI(t, env, "label", "--sn", first, "--printer", "dock")
	if code != 0 || !strings.Contains(errOut, "1 label") || !strings.Contains(errOut, "0 reprinted") {
		t.Fatalf("label --printer: exit %d: %s", code, errOut)
	}
	if zpl := next(); !strings.HasPrefix(string(zpl), "^XA") || !strings.Contains(string(zpl), first) {
		t.Fatalf("printer got %.200q", zpl)
	}
	if code, _, errOut := runCLI(t, env, "label", "--sn", second, "-o", filepath.Join(dir, "one.pdf")); code != 0 {
		t.Fatalf("label -o: %s", errOut)
	}
	code, _, errOut = runCLI(t, env, "label", "--batch", "B2026-09", "--printer", "dock", "--size", "50x30")
	if code != 0 || !strings.Contains(errOut, "12 labels") || !strings.Contains(errOut, "2 reprinted") || !strings.Contains(errOut, "50x30") {
		t.Fatalf("label --batch --printer: exit %d: %s", code, errOut)
	}
	next()
	if code, _, _ := runCLI(t, env, "label", "--sn", first, "--printer", "dock", "-o", "x.pdf"); code != 2 {
		t.Errorf("-o and --printer: exit %d, want 2", code)
	}
	if code, _, errOut := runCLI(t, env, "label", "--sn", first, "--printer", "nope"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("unknown printer: exit %d: %s", code, errOut)
	}
	code, out, _ := runCLI(t, env, "printers", "jobs")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "cli:clerk@pos-01") {
		t.Fatalf("jobs:\n%s", out)
	}
	if code, out, _ := runCLI(t, env, "printers", "remove", "dock"); code != 0 || !strings.Contains(out, "removed") {
		t.Fatalf("remove: %s", out)
	}
	if code, _, _ := runCLI(t, env, "printers", "remove", "dock"); code != 1 {
		t.Fatalf("remove again: exit %d", code)
	}
}
