package faults

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"posid/internal/servetest"
)

// TestTwoServersOnePostgres runs two `posid serve` processes on one
// PostgreSQL schema and races them: each status change of a device is won
// by exactly one process and recorded once, and risk cases are shared.
func TestTwoServersOnePostgres(t *testing.T) {
	db := postgresDatabase(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	writeCSV(t, csv, "DUO", 20)
	mustRun(t, "import", "--db", db.arg, csv)
	out, err := posid("apikeys", "create", "--db", db.arg, "--role", "admin", "--name", "duo").Output()
	if err != nil {
		t.Fatalf("posid apikeys create on PostgreSQL: %v", err)
	}
	tok := strings.TrimSpace(string(out))

	var addrs []string
	for i := 0; i < 2; i++ {
		addr := freeAddr(t)
		cmd := posid("serve", "--db", db.arg, "--addr", addr, "--data-dir", filepath.Join(dir, fmt.Sprint(i)), "--log-level", "warn")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		if err := servetest.WaitReady(addr, 20*time.Second); err != nil {
			t.Fatalf("server %d: %v\n%s", i, err, log.String())
		}
		addrs = append(addrs, addr)
	}

	call := func(addr, path, body string) int {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < 20; i++ {
		sn := fmt.Sprintf("DUO%09d", i)
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for j, addr := range addrs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[j] = call(addr, "/api/v1/devices/"+sn+"/status", `{"status":"suspended"}`)
			}()
		}
		wg.Wait()
		if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
			t.Fatalf("%s: both servers suspending: %v, want one 200 and one 409", sn, codes)
		}
	}
	for i := 0; i < 6; i++ {
		if c := call(addrs[i%2], "/api/v1/scans", `{"sn":"NOTREAL0001"}`); c != 200 {
			t.Fatalf("scan %d: %d", i, c)
		}
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.arg) // the URL selects the test's schema
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var status, cases, hits int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM history WHERE field = 'status'`).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != 20 {
		t.Fatalf("%d status history rows, want 20", status)
	}
	deadline := time.Now().Add(10 * time.Second) // risk events are written after the answer
	for time.Now().Before(deadline) {
		conn.QueryRow(ctx, `SELECT count(*), coalesce(max(hits), 0) FROM risk_cases WHERE subject = 'NOTREAL0001'`).Scan(&cases, &hits)
		if hits >= 6 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// One case however many processes flagged it (the monitor may throttle
	// repeated flags, so hits may be fewer than scans).
	if cases != 1 || hits < 2 {
		t.Fatalf("unknown-serial cases: %d with %d hits, want 1 case with 2 or more", cases, hits)
	}
}
