// Package servetest runs the real posid binary for the tests and
// benchmarks that start `posid serve` as a process: it builds the binary,
// finds a free loopback port and waits until the server is ready. It does
// not import testing, so commands under bench/ can use it too.
package servetest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"
)

// pollEvery is how often WaitReady asks /readyz.
const pollEvery = 50 * time.Millisecond

// Build builds posid/cmd/posid into dir and returns the binary's path.
func Build(dir string) (string, error) {
	bin := filepath.Join(dir, "posid")
	if out, err := exec.Command("go", "build", "-o", bin, "posid/cmd/posid").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build posid: %v\n%s", err, out)
	}
	return bin, nil
}

// Main is a TestMain body: it builds posid once into a temp dir, sets *bin
// to its path, runs the tests m and exits with their code, removing the
// binary first. m is a *testing.M.
func Main(m interface{ Run() int }, bin *string) {
	dir, err := os.MkdirTemp("", "posid-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *bin, err = Build(dir); err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// FreeAddr returns a loopback address whose port is free.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// WaitReady asks GET /readyz of the server at addr until it answers 200,
// for at most limit.
func WaitReady(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := fmt.Errorf("no answer")
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		last = err
		time.Sleep(pollEvery)
	}
	return fmt.Errorf("not ready after %v: %w", limit, last)
}

// Output collects a process's output; it is safe to read while the
// process writes.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

// String returns what was written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}
