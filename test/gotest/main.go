// Command gotest reads `go test -json` events on stdin and prints what a
// plain `go test` prints (build errors, the output of failing tests, the
// ok/FAIL line of each package), then a list of the tests that skipped and
// why. `make test` runs every test through it, so a skip is never silent.
//
//	go test -json ./... | go run ./test/gotest
//
// It exits 1 when a test or a build failed, else 0.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is a skipped test and the last line it logged.
type skip struct{ pkg, test, reason string }

func main() {
	failed, err := report(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gotest:", err)
		os.Exit(1)
	}
	if failed {
		os.Exit(1)
	}
}

// report copies the summary of the events on r to w and reports whether
// anything failed.
func report(r io.Reader, w io.Writer) (failed bool, err error) {
	out := map[string][]string{} // package + " " + test → its output lines
	var skips []skip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if json.Unmarshal(line, &ev) != nil || ev.Action == "" {
			fmt.Fprintf(w, "%s\n", line) // not an event: pass it on
			continue
		}
		key := ev.Package + " " + ev.Test
		switch ev.Action {
		case "build-output":
			fmt.Fprint(w, ev.Output)
		case "build-fail":
			failed = true
		case "output":
			if ev.Test == "" {
				if s := strings.TrimSpace(ev.Output); s != "PASS" && !strings.HasPrefix(s, "=== ") {
					fmt.Fprint(w, ev.Output)
				}
				continue
			}
			out[key] = append(out[key], ev.Output)
		case "fail":
			failed = true
			if ev.Test != "" {
				fmt.Fprint(w, strings.Join(out[key], ""))
			}
			delete(out, key)
		case "skip":
			if ev.Test != "" {
				skips = append(skips, skip{ev.Package, ev.Test, reason(out[key])})
			}
			delete(out, key)
		case "pass":
			delete(out, key)
		}
	}
	if err := sc.Err(); err != nil {
		return true, err
	}
	if len(skips) > 0 {
		fmt.Fprintf(w, "\n%d tests skipped:\n", len(skips))
		for _, s := range skips {
			fmt.Fprintf(w, "  %s %s: %s\n", strings.TrimPrefix(s.pkg, "posid/"), s.test, s.reason)
		}
	}
	return failed, nil
}

// reason returns the last line a skipped test logged before its
// "--- SKIP" line: the message of t.Skip.
func reason(lines []string) string {
	r := "(no message)"
	for _, l := range lines {
		s := strings.TrimSpace(l)
		if s == "" || strings.HasPrefix(s, "=== ") || strings.HasPrefix(s, "--- ") {
			continue
		}
		r = s
	}
	return r
}
