package main

import (
	"context"
	"math"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"posid/internal/servetest"
)

// TestServeMemoryLimit checks that serve sets its soft memory limit while
// it runs (--memory-limit, 768 MiB by default), leaves the limit alone
// when GOMEMLIMIT is set or the flag is 0, and restores it on return.
func TestServeMemoryLimit(t *testing.T) {
	const none = math.MaxInt64 // the Go runtime's "no limit"
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	debug.SetMemoryLimit(none)
	for _, tc := range []struct {
		name  string
		flags []string
		env   string // GOMEMLIMIT
		want  int64
	}{
		{"default", nil, "", serveMemoryLimit << 20},
		{"flag", []string{"--memory-limit", "100"}, "", 100 << 20},
		{"off", []string{"--memory-limit", "0"}, "", none},
		{"GOMEMLIMIT set", []string{"--memory-limit", "100"}, "1GiB", none},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_DATA_DIR": dir, "GOMEMLIMIT": tc.env}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var out, errb servetest.Output
			app := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }}
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, app, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}, tc.flags...))
			}()
			for !strings.Contains(out.String(), "listening on") {
				select {
				case code := <-done:
					t.Fatalf("serve exited %d: %s%s", code, out.String(), errb.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			if got := debug.SetMemoryLimit(-1); got != tc.want {
				t.Errorf("memory limit while serving: %d, want %d", got, tc.want)
			}
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("serve exited %d: %s", code, errb.String())
			}
			if got := debug.SetMemoryLimit(-1); got != none {
				t.Errorf("memory limit after serve: %d, want it restored (%d)", got, int64(none))
			}
		})
	}
	code, _, errOut := runCLI(t, usageEnv(t), "serve", "--memory-limit", "-1")
	if code != 2 || !strings.Contains(errOut, "--memory-limit must be") {
		t.Errorf("--memory-limit -1: exit %d %q, want 2 with a one-line reason", code, errOut)
	}
}

// TestServeStopBeforeAccepting stops the server before it has started to
// accept: serve still returns, where it used to wait forever for a Serve
// that no Shutdown could reach (seen as a rare hang of this package).
func TestServeStopBeforeAccepting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	serveStarting = func() { <-ctx.Done(); time.Sleep(50 * time.Millisecond) }
	defer func() { serveStarting = func() {} }()
	dir := t.TempDir()
	env := map[string]string{"POSID_DB": filepath.Join(dir, "posid.db"), "POSID_DATA_DIR": dir}
	var out, errb servetest.Output
	app := &cli{stdout: &out, stderr: &errb, stdin: strings.NewReader(""), getenv: func(k string) string { return env[k] }}
	done := make(chan int, 1)
	go func() { done <- run(ctx, app, []string{"serve", "--addr", "127.0.0.1:0", "--log-level", "error"}) }()
	for !strings.Contains(out.String(), "listening on") {
		select {
		case code := <-done:
			t.Fatalf("serve exited %d: %s%s", code, out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not return after being stopped before it accepted")
	}
}

// TestServeSessionFlags refuses session lifetimes that are not positive.
func TestServeSessionFlags(t *testing.T) {
	for _, args := range [][]string{{"--session-idle-timeout", "0"}, {"--session-max-age", "-1h"}} {
		code, _, errOut := runCLI(t, usageEnv(t), append([]string{"serve"}, args...)...)
		if code != 2 || !strings.Contains(errOut, "must be positive durations") {
			t.Errorf("serve %v: exit %d %q, want 2 with a one-line reason", args, code, errOut)
		}
	}
}
