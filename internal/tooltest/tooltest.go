// Package tooltest finds the external programs some tests drive (pdftoppm
// and the like): a test without the program is skipped, or fails when
// POSID_REQUIRE_TOOLS is set, as in CI.
package tooltest

import (
	"os"
	"os/exec"
	"testing"
)

// Path returns the path of the program name, which the Debian package pkg
// installs; without it the test is skipped, or fails when
// POSID_REQUIRE_TOOLS is set.
func Path(t testing.TB, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
			t.Fatalf("needs %s (%s), required by POSID_REQUIRE_TOOLS: %v", name, pkg, err)
		}
		t.Skipf("needs %s (apt-get install %s)", name, pkg)
	}
	return p
}

// Pdftoppm returns the path of pdftoppm (poppler-utils), as Path does.
func Pdftoppm(t testing.TB) string {
	t.Helper()
	return Path(t, "pdftoppm", "poppler-utils")
}
