// Package faults kills the real posid binary with SIGKILL at awkward moments
// and checks what it leaves behind: an import is all-or-nothing, the server
// comes back on the same database, a label run leaves no partial file.
package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/postgres/pgtest"
	"posid/internal/secret"
	"posid/internal/servetest"
	"posid/internal/sqlite"
)

// importRows is the size of the import that gets killed.
const importRows = 100_000

// secretKey is the account key every posid run of the tests shares.
var secretKey = strings.Repeat("07", secret.KeySize)

// posidBin is the binary built once for the package.
var posidBin string

func TestMain(m *testing.M) { servetest.Main(m, &posidBin) }

// posid returns a command running the binary with the test's key.
func posid(args ...string) *exec.Cmd {
	cmd := exec.Command(posidBin, args...)
	cmd.Env = append(os.Environ(), "POSID_SECRET_KEY="+secretKey)
	return cmd
}

// mustRun runs posid and fails the test when it fails.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := posid(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("posid %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// mustRunCPU runs posid to the end and returns the CPU time it used.
func mustRunCPU(t *testing.T, args ...string) time.Duration {
	t.Helper()
	cmd := posid(args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("posid %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// runAndKill starts cmd and sends it SIGKILL once kp is ready. It reports
// whether the kill came before cmd ended by itself (which is not an error).
func runAndKill(t *testing.T, cmd *exec.Cmd, kp killPoint, limit time.Duration) bool {
	t.Helper()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	timeout := time.After(limit)
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s ended before the kill: %v\n%s", cmd.Args[1], err, out.String())
			}
			return false
		case <-timeout:
			cmd.Process.Kill()
			<-done
			t.Fatalf("%s: kill point %q not reached in %v", cmd.Args[1], kp.name, limit)
		case <-tick.C:
			if !kp.ready(cmd.Process.Pid) {
				continue
			}
			cmd.Process.Signal(syscall.SIGKILL)
			err := <-done
			var ee *exec.ExitError
			switch {
			case err == nil:
				return false // it ended between the check and the signal
			case errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL:
				return true
			default:
				t.Fatalf("%s: %v\n%s", cmd.Args[1], err, out.String())
			}
		}
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// cpuTime returns the user+system CPU time process pid has used so far.
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state); utime, stime are fields 14, 15
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / clockTicks
}

// writeCSV writes n fully registered rows whose SNs start with prefix.
func writeCSV(t *testing.T, path, prefix string, n int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("sn,model,manufacturer,supplier_code,batch,merchant_no,merchant_name,terminal_id,acquirer,branch_name,branch_address,account,access\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%s%09d,A920Pro,PAX,SUP-PAX,B%03d,M%06d,测试商户%d号店,%08d,银联商务,工商银行朝阳支行,北京市朝阳区建国路%d号,6222021%09d,4G\n",
			prefix, i, i/1000, i%5000, i, i, i%500, i)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// counts is what a database holds.
type counts struct{ devices, registrations, history int }

// database is a posid database the test can count rows in.
type database struct {
	arg   string // the --db value
	count func(t *testing.T) counts
	// killPoints are the moments to kill an import at, given the CPU time
	// of a whole import run.
	killPoints func(fullCPU time.Duration) []killPoint
	// importArg is the --db value for the imports that get killed.
	importArg string
}

// killPoint is a moment to kill a running posid: ready reports it has come.
type killPoint struct {
	name  string
	ready func(pid int) bool
}

// cpuFractions kills when the process has used the given fractions of the
// CPU time of a whole run: robust against a busy machine, unlike wall time.
func cpuFractions(full time.Duration, fs ...float64) []killPoint {
	var ps []killPoint
	for _, f := range fs {
		ps = append(ps, killPoint{fmt.Sprintf("%.0f%% of the CPU time of a full run", f*100), func(pid int) bool {
			return cpuTime(pid) >= time.Duration(f*float64(full))
		}})
	}
	return ps
}

func sqliteDatabase(t *testing.T) database {
	path := filepath.Join(t.TempDir(), "posid.db")
	return database{arg: path, importArg: path, killPoints: func(full time.Duration) []killPoint {
		return cpuFractions(full, 0.4, 0.8)
	}, count: func(t *testing.T) counts {
		t.Helper()
		key, _ := secret.ParseKey(secretKey)
		box, _ := secret.NewBox(key)
		db, err := sqlite.Open(context.Background(), path, box)
		if err != nil {
			t.Fatalf("reopen after kill: %v", err)
		}
		defer db.Close()
		var c counts
		err = db.SQL().QueryRow(`SELECT (SELECT count(*) FROM devices), (SELECT count(*) FROM registrations), (SELECT count(*) FROM history)`).
			Scan(&c.devices, &c.registrations, &c.history)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}}
}

// postgresDatabase makes a schema of its own in POSID_TEST_POSTGRES.
func postgresDatabase(t *testing.T) database {
	base := pgtest.BaseURL(t)
	arg, schema := pgtest.Schema(t, "faults_")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	u, _ := url.Parse(arg)
	q := u.Query()
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	// copying is the kill point "the import's COPY into table is running":
	// certainly inside its transaction.
	copying := func(table string) killPoint {
		return killPoint{"during COPY " + table, func(int) bool {
			var n int
			conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND state = 'active' AND query LIKE $2`,
				schema, `copy "`+table+`"%`).Scan(&n)
			return n > 0
		}}
	}
	return database{arg: arg, importArg: u.String(), killPoints: func(time.Duration) []killPoint {
		return []killPoint{copying("registrations"), copying("history")}
	}, count: func(t *testing.T) counts {
		t.Helper()
		var c counts
		err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM %[1]s.devices), (SELECT count(*) FROM %[1]s.registrations), (SELECT count(*) FROM %[1]s.history)`, schema)).
			Scan(&c.devices, &c.registrations, &c.history)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}}
}

// TestKillDuringImport kills `posid import` of 100,000 rows at several
// points and checks that the database holds the rows from before the
// import, or those and all of the import, never part of it.
func TestKillDuringImport(t *testing.T) {
	for _, tt := range []struct {
		name string
		open func(t *testing.T) database
	}{
		{"sqlite", sqliteDatabase},
		{"postgres", postgresDatabase},
	} {
		t.Run(tt.name, func(t *testing.T) { testKillDuringImport(t, tt.open(t)) })
	}
}

func testKillDuringImport(t *testing.T, db database) {
	dir := t.TempDir()
	before := filepath.Join(dir, "before.csv")
	writeCSV(t, before, "OLD", 1000)
	mustRun(t, "import", "--db", db.arg, before)
	want := counts{1000, 1000, 2000} // "created" and "registration" per device
	if c := db.count(t); c != want {
		t.Fatalf("before: %+v, want %+v", c, want)
	}

	// One import run to the end: the after state, and the CPU time the
	// kills are placed in.
	big := filepath.Join(dir, "big.csv")
	writeCSV(t, big, "FULL", importRows)
	start := time.Now()
	fullCPU := mustRunCPU(t, "import", "--db", db.arg, big)
	want = counts{want.devices + importRows, want.registrations + importRows, want.history + 2*importRows}
	if c := db.count(t); c != want {
		t.Fatalf("after a full import: %+v, want %+v", c, want)
	}
	t.Logf("full import: %v, %v CPU", time.Since(start).Round(time.Millisecond), fullCPU.Round(time.Millisecond))

	killed := 0
	for i, kp := range db.killPoints(fullCPU) {
		file := filepath.Join(dir, fmt.Sprintf("kill%d.csv", i))
		writeCSV(t, file, fmt.Sprintf("K%d", i), importRows)
		wasKilled := runAndKill(t, posid("import", "--db", db.importArg, file), kp, time.Minute)
		if wasKilled {
			killed++
		}
		c := db.count(t)
		after := counts{want.devices + importRows, want.registrations + importRows, want.history + 2*importRows}
		switch c {
		case want:
			if !wasKilled {
				t.Fatalf("kill %s: import finished but wrote nothing", kp.name)
			}
		case after:
			want = after
		default:
			t.Fatalf("kill %s: partial import: %+v (before %+v, after %+v)", kp.name, c, want, after)
		}
		t.Logf("kill %s: killed=%v, %d devices", kp.name, wasKilled, c.devices)
	}
	if killed == 0 {
		t.Fatal("every import finished before the kill; nothing was tested")
	}
	// The binary opens the database again and reads it.
	if out := mustRun(t, "devices", "get", "--db", db.arg, "OLD000000007"); !strings.Contains(out, "OLD000000007") {
		t.Fatalf("devices get after kills:\n%s", out)
	}
}

// TestKillDuringLabels kills `posid label` while it renders 5,000 labels
// into a PDF: the output path keeps what it held before (here: an older
// file), never a partial PDF.
func TestKillDuringLabels(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	labelDB := filepath.Join(dir, "posid.db")
	mustRun(t, "keys", "--dir", keys, "--db", labelDB, "new")
	var b strings.Builder
	b.WriteString("sn,model,supplier,manufacturer,batch,date\n")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "LBL%08d,A920,SUP1,PAX,B1,2026-11-01\n", i)
	}
	csv := filepath.Join(dir, "labels.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	full := filepath.Join(dir, "full.pdf")
	start := time.Now()
	fullCPU := mustRunCPU(t, "label", "--keys-dir", keys, "--db", labelDB, "--unregistered", "--csv", csv, "-o", full)
	t.Logf("5000 labels: %v, %v CPU", time.Since(start).Round(time.Millisecond), fullCPU.Round(time.Millisecond))
	if err := os.MkdirAll(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		old  []byte // what OUT.pdf holds before the run; nil: no file
	}{
		{"new file", nil},
		{"over an older file", []byte("%PDF-1.4 older labels\n")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out", strings.ReplaceAll(tt.name, " ", "-")+".pdf")
			if tt.old != nil {
				if err := os.WriteFile(out, tt.old, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := posid("label", "--keys-dir", keys, "--db", labelDB, "--unregistered", "--csv", csv, "-o", out)
			if !runAndKill(t, cmd, cpuFractions(fullCPU, 0.5)[0], time.Minute) {
				t.Fatal("the label run ended before half its CPU time")
			}
			got, err := os.ReadFile(out)
			switch {
			case tt.old == nil && !errors.Is(err, os.ErrNotExist):
				t.Fatalf("killed run left %s (%d bytes, err %v)", filepath.Base(out), len(got), err)
			case tt.old != nil && !bytes.Equal(got, tt.old):
				t.Fatalf("killed run changed %s: %d bytes, err %v", filepath.Base(out), len(got), err)
			}
			left, _ := filepath.Glob(filepath.Join(dir, "out", "*"))
			for i := range left {
				left[i] = filepath.Base(left[i])
			}
			t.Logf("output folder after the kill: %v", left)
		})
	}
}

// TestServeRestartAfterKill kills `posid serve` while it answers requests
// and checks it starts again on the same database.
func TestServeRestartAfterKill(t *testing.T) {
	db := sqliteDatabase(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	writeCSV(t, csv, "SRV", 500)
	mustRun(t, "import", "--db", db.arg, csv)
	for round := 0; round < 3; round++ {
		addr := freeAddr(t)
		cmd := posid("serve", "--db", db.arg, "--addr", addr, "--data-dir", dir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if err := servetest.WaitReady(addr, 20*time.Second); err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: server not ready: %v\n%s", round, err, out.String())
		}
		// Load it a little, then kill it mid-flight.
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; i < 50; i++ {
				resp, err := http.Get("http://" + addr + "/readyz")
				if err != nil {
					return
				}
				resp.Body.Close()
			}
		}()
		time.Sleep(20 * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		<-done
	}
	if c := db.count(t); c.devices != 500 || c.history != 1000 {
		t.Fatalf("after server kills: %+v", c)
	}
}

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	addr, err := servetest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return s
}
