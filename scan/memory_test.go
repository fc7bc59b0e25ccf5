package scan

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posid/scan/scantest"
)

// TestMemoryReport measures, for each hostile image, the peak heap and
// peak RSS growth of one Scan, each in a process of its own (one of them
// kills the process on code without the intake budget). It is a
// measurement, not a check: run it with POSID_MEMREPORT=1 (it needs
// ImageMagick's convert for the JPEG and WebP files) and read the table
// from the log.
func TestMemoryReport(t *testing.T) {
	if file := os.Getenv("POSID_MEMREPORT_FILE"); file != "" {
		measureScan(t, file)
		return
	}
	if os.Getenv("POSID_MEMREPORT") == "" {
		t.Skip("set POSID_MEMREPORT=1 to measure")
	}
	dir := t.TempDir()
	files := []struct{ name, file string }{}
	add := func(name, file string, data []byte) {
		path := filepath.Join(dir, file)
		if data != nil {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		files = append(files, struct{ name, file string }{name, path})
	}
	convert := func(file string, args ...string) []byte {
		out := filepath.Join(dir, file)
		if b, err := exec.Command("convert", append(args, out)...).CombinedOutput(); err != nil {
			t.Fatalf("convert: %v: %s", err, b)
		}
		return nil
	}
	add("png gray 2x19999999", "strip.png", scantest.PNG(2, 19_999_999, scantest.Gray, 8))
	add("png gray 1x39999999", "col.png", scantest.PNG(1, 39_999_999, scantest.Gray, 8))
	add("png gray 39999999x1", "row.png", scantest.PNG(39_999_999, 1, scantest.Gray, 8))
	add("png rgba16 6300x6300", "rgba16.png", scantest.PNG(6300, 6300, scantest.RGBA, 16))
	add("jpeg progressive 4:4:4 6000x6000", "prog.jpg", convert("prog.jpg", "-size", "6000x6000", "gradient:white-navy",
		"-sampling-factor", "1x1", "-interlace", "JPEG", "-quality", "80"))
	add("webp lossless 6300x6300", "lossless.webp", convert("lossless.webp", "-size", "6300x6300", "gradient:white-navy",
		"-define", "webp:lossless=true"))
	add("ordinary: jpeg progressive 4:4:4 4032x3024", "phone.jpg", convert("phone.jpg", "-size", "4032x3024", "gradient:white-navy",
		"-sampling-factor", "1x1", "-interlace", "JPEG", "-quality", "85"))
	add("ordinary: jpeg baseline 4:2:0 4032x3024", "phone420.jpg", convert("phone420.jpg", "-size", "4032x3024", "gradient:white-navy",
		"-sampling-factor", "2x2", "-quality", "85"))
	// Four clients at once, each with a 12 MP progressive photo.
	files = append(files, struct{ name, file string }{"4 concurrent: the progressive 4032x3024", files[6].file + "#4"})
	t.Logf("%-44s %8s %10s %10s  %s", "attack", "file KB", "heap MB", "RSS MB", "result")
	for _, f := range files {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMemoryReport$", "-test.v")
		cmd.Env = append(os.Environ(), "POSID_MEMREPORT_FILE="+f.file)
		f.file, _, _ = strings.Cut(f.file, "#")
		out, _ := cmd.CombinedOutput()
		line := "process died: " + lastLine(string(out))
		for _, l := range strings.Split(string(out), "\n") {
			if i := strings.Index(l, "MEMREPORT "); i >= 0 {
				line = l[i+len("MEMREPORT "):]
			}
		}
		st, _ := os.Stat(f.file)
		t.Logf("%-44s %8d %s", f.name, st.Size()>>10, line)
	}
}

// measureScan scans file ("path" or "path#N" for N scans at once) and
// logs the peak heap and RSS growth and the first scan's result.
func measureScan(t *testing.T, file string) {
	file, n, _ := strings.Cut(file, "#")
	clients := 1
	if n != "" {
		clients, _ = strconv.Atoi(n)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) // resets VmHWM
	rss0, heap0 := procStatus("VmRSS:"), heapObjects()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			peak.Store(max(peak.Load(), heapObjects()))
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	s := New(Options{Timeout: 2 * time.Second})
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() { _, errs[i] = s.Scan(context.Background(), data) })
	}
	wg.Wait()
	err = errors.Join(errs...)
	close(stop)
	<-done
	peak.Store(max(peak.Load(), heapObjects()))
	result := "ok"
	if err != nil {
		result = strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	fmt.Printf("MEMREPORT %10.1f %10.1f  %.90s\n", float64(peak.Load()-min(heap0, peak.Load()))/(1<<20),
		float64(procStatus("VmHWM:")-rss0)/1024, result)
}

// heapObjects is the live and unswept heap object bytes.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// procStatus returns a kB field of /proc/self/status.
func procStatus(field string) uint64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, field) {
			var n uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimPrefix(l, field)), &n)
			return n
		}
	}
	return 0
}

// lastLine returns the first line that names a fatal error or panic.
func lastLine(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "fatal error") || strings.HasPrefix(l, "panic:") {
			return l
		}
	}
	return "no report"
}
