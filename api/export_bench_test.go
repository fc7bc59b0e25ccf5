package api

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"posid/internal/registry"
)

// BenchmarkExportCSV downloads the CSV export of 100,000 devices (half
// of them registered, with Chinese text) over real HTTP as an admin, and
// of 10,000 of them (one batch) in the same iteration, sampling the heap
// in use every 2 ms during each download. Reported: seconds per 100k
// export, rows/s, peak heap (MB) of each size, and their ratio (flat
// memory is a ratio near 1, not 10).
func BenchmarkExportCSV(b *testing.B) {
	const small, total = 10_000, 100_000
	e := newEnv(b, Config{})
	ctx := context.Background()
	recs := make([]registry.Record, 0, total)
	at := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := range total {
		d := registry.Device{SN: fmt.Sprintf("EXP%07d", i), Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Batch: "L", Status: registry.StatusProvisioned}
		if i < small {
			d.Batch = "S"
		}
		if i%2 == 0 {
			d.Status = registry.StatusActive
			d.Registration = &registry.Registration{MerchantNo: fmt.Sprintf("M%06d", i%5000), MerchantName: "老王川菜馆", TerminalID: fmt.Sprintf("T%07d", i),
				Acquirer: "银联商务", BranchName: "中国工商银行北京朝阳支行", BranchAddress: "北京市朝阳区建国路88号", Access: registry.Access4G, RegisteredAt: at, Account: fmt.Sprintf("62220210%08d", i)}
		}
		recs = append(recs, registry.Record{Line: i + 2, Device: d})
	}
	if _, err := e.db.Store().Import(ctx, "bench", recs, registry.ImportCreate); err != nil {
		b.Fatal(err)
	}
	recs = nil
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go e.srv.Serve(ln)
	defer e.srv.Shutdown(ctx)
	base := "http://" + ln.Addr().String() + "/api/v1/devices"
	download := func(query string) (rows int, elapsed time.Duration, peak uint64) {
		runtime.GC()
		var (
			wg   sync.WaitGroup
			stop = make(chan struct{})
		)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms runtime.MemStats
			t := time.NewTicker(2 * time.Millisecond)
			defer t.Stop()
			for {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		start := time.Now()
		req, _ := http.NewRequest("GET", base+query, nil)
		req.Header.Set("Authorization", "Bearer "+e.tokens["admin"])
		req.Header.Set("Accept", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			rows++
		}
		resp.Body.Close()
		elapsed = time.Since(start)
		close(stop)
		wg.Wait()
		if err := sc.Err(); err != nil || resp.StatusCode != 200 {
			b.Fatalf("%s: %d %v", query, resp.StatusCode, err)
		}
		return rows - 1, elapsed, peak
	}
	var tSmall, tTotal time.Duration
	var pSmall, pTotal uint64
	b.ResetTimer()
	for range b.N {
		n, t, p := download("?batch=S")
		if n != small {
			b.Fatalf("batch S: %d rows, want %d", n, small)
		}
		tSmall, pSmall = tSmall+t, max(pSmall, p)
		n, t, p = download("")
		if n < total {
			b.Fatalf("all: %d rows, want %d", n, total)
		}
		tTotal, pTotal = tTotal+t, max(pTotal, p)
	}
	b.StopTimer()
	perRun := tTotal.Seconds() / float64(b.N)
	b.ReportMetric(perRun, "s/100k")
	b.ReportMetric(float64(total)/perRun, "rows/s")
	b.ReportMetric(tSmall.Seconds()/float64(b.N), "s/10k")
	b.ReportMetric(float64(pSmall)/(1<<20), "MB-heap-10k")
	b.ReportMetric(float64(pTotal)/(1<<20), "MB-heap-100k")
	b.ReportMetric(float64(pTotal)/float64(pSmall), "heap-ratio")
}
