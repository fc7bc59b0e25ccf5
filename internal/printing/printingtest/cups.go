package printingtest

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CUPSQueue is the printer URI of the cups-pdf queue .ci/run sets up.
const CUPSQueue = "ipp://127.0.0.1:631/printers/posid-pdf"

// CUPS returns the URI of the cups-pdf queue posid-pdf, skipping the test
// when it does not answer, or failing it when POSID_REQUIRE_TOOLS is set.
func CUPS(t testing.TB) string {
	t.Helper()
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://127.0.0.1:631/printers/posid-pdf")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return CUPSQueue
		}
		err = fmt.Errorf("GET /printers/posid-pdf: %s", resp.Status)
	}
	if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
		t.Fatalf("needs CUPS with the cups-pdf queue posid-pdf (.ci/run sets it up), required by POSID_REQUIRE_TOOLS: %v", err)
	}
	t.Skipf("needs CUPS with the cups-pdf queue posid-pdf (.ci/run sets it up): %v", err)
	return ""
}

// CUPSPDFDir is where cups-pdf writes the jobs of users without a home
// directory: AnonDirName in /etc/cups/cups-pdf.conf (default
// /var/spool/cups-pdf/ANONYMOUS), or POSID_TEST_CUPS_PDF_DIR.
func CUPSPDFDir() string {
	if d := os.Getenv("POSID_TEST_CUPS_PDF_DIR"); d != "" {
		return d
	}
	dir := "/var/spool/cups-pdf/ANONYMOUS"
	f, err := os.Open("/etc/cups/cups-pdf.conf")
	if err != nil {
		return dir
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), " "); ok && k == "AnonDirName" {
			dir = strings.TrimSpace(v)
		}
	}
	return dir
}

// CUPSOutput waits up to 30 s for the PDF cups-pdf writes for a job whose
// title holds tag, and returns its path; the file is removed when t ends.
func CUPSOutput(t testing.TB, tag string) string {
	t.Helper()
	dir := CUPSPDFDir()
	cleaned := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		ms, _ := filepath.Glob(filepath.Join(dir, "*"+tag+"*.pdf"))
		if len(ms) == 0 {
			continue
		}
		if !cleaned {
			t.Cleanup(func() { os.Remove(ms[0]) })
			cleaned = true
		}
		// cups-pdf writes the file through Ghostscript, which may still be
		// writing it on a busy machine: it is done when the PDF's trailer
		// has been written.
		if b, err := os.ReadFile(ms[0]); err == nil && bytes.HasSuffix(bytes.TrimSpace(b), []byte("%%EOF")) {
			return ms[0]
		}
	}
	t.Fatalf("cups-pdf wrote no complete *%s*.pdf to %s within 30 s", tag, dir)
	return ""
}
