package main

import (
	"strings"
	"testing"
)

// TestReport: failing tests show their output, passing ones do not,
// package lines pass through, and skipped tests are listed with their
// reason at the end.
func TestReport(t *testing.T) {
	events := strings.Join([]string{
		`{"Action":"start","Package":"posid/a"}`,
		`{"Action":"run","Package":"posid/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"posid/a","Test":"TestOK","Output":"=== RUN   TestOK\n"}`,
		`{"Action":"output","Package":"posid/a","Test":"TestOK","Output":"    a_test.go:5: quiet\n"}`,
		`{"Action":"pass","Package":"posid/a","Test":"TestOK"}`,
		`{"Action":"output","Package":"posid/a","Test":"TestPG","Output":"    a_test.go:9: needs PostgreSQL\n"}`,
		`{"Action":"output","Package":"posid/a","Test":"TestPG","Output":"--- SKIP: TestPG (0.00s)\n"}`,
		`{"Action":"skip","Package":"posid/a","Test":"TestPG"}`,
		`{"Action":"output","Package":"posid/a","Test":"TestBad","Output":"    a_test.go:12: boom\n"}`,
		`{"Action":"output","Package":"posid/a","Test":"TestBad","Output":"--- FAIL: TestBad (0.00s)\n"}`,
		`{"Action":"fail","Package":"posid/a","Test":"TestBad"}`,
		`{"Action":"output","Package":"posid/a","Output":"PASS\n"}`,
		`{"Action":"output","Package":"posid/a","Output":"FAIL\tposid/a\t0.1s\n"}`,
		`{"Action":"fail","Package":"posid/a"}`,
	}, "\n")
	var out strings.Builder
	failed, err := report(strings.NewReader(events), &out)
	if err != nil || !failed {
		t.Fatalf("failed %v, err %v; want a failure", failed, err)
	}
	got := out.String()
	for _, want := range []string{"a_test.go:12: boom", "FAIL\tposid/a\t0.1s", "1 tests skipped:", "a TestPG: a_test.go:9: needs PostgreSQL"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"quiet", "PASS\n"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("output has %q:\n%s", unwanted, got)
		}
	}
}
