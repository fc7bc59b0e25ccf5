package labels

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchSource yields n distinct signed labels.
func benchSource(tb testing.TB, sg *Signer, n int) Source {
	i := 0
	return SourceFunc(func(ctx context.Context) (Label, error) {
		if i == n {
			return Label{}, io.EOF
		}
		i++
		l := Label{SN: fmt.Sprintf("PX26113%09d", i), Model: "A920", Supplier: "SUP-01", Manufacturer: "百富 PAX", Batch: "B-2026-11", Date: testDay}
		var err error
		l.SealURL, err = sg.Sign(Seal{Date: l.Date, SN: l.SN, Model: l.Model, Supplier: l.Supplier})
		return l, err
	})
}

// peakHeap samples runtime memory every few milliseconds until stop is
// closed and returns the highest HeapInuse+StackInuse seen (bytes).
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var ms runtime.MemStats
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse+ms.StackInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// countingWriter counts bytes and discards them.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n.Add(int64(len(p))); return len(p), nil }

// BenchmarkWritePDF renders POSID_BENCH_LABELS (default 10,000) labels into
// one PDF per iteration and reports labels/s, bytes per label and the peak
// heap in use.
func BenchmarkWritePDF(b *testing.B) {
	benchWrite(b, WritePDF)
}

// BenchmarkWriteZPL is BenchmarkWritePDF for ZPL.
func BenchmarkWriteZPL(b *testing.B) {
	benchWrite(b, WriteZPL)
}

func benchWrite(b *testing.B, write func(context.Context, io.Writer, Source, Options) (int, error)) {
	n := 10000
	if v := os.Getenv("POSID_BENCH_LABELS"); v != "" {
		fmt.Sscan(v, &n)
	}
	sg, _ := fixedSigner(b)
	runtime.GC()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	var w countingWriter
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		if _, err := write(context.Background(), &w, benchSource(b, sg, n), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	close(stop)
	b.ReportMetric(cpu.Seconds()*1e6/float64(n*b.N), "cpu-µs/label")
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "labels/s")
	b.ReportMetric(float64(w.n.Load())/float64(n*b.N), "B/label")
	b.ReportMetric(float64(<-peak)/(1<<20), "peak-MiB")
}

// cpuTime returns the user+system CPU time of the process so far; on a
// shared machine it is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLayout measures one label's layout (QR, Code 128, text fitting).
func BenchmarkLayout(b *testing.B) {
	sg, _ := fixedSigner(b)
	l := testLabel(b, sg)
	for range b.N {
		if _, err := NewLayout(l, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeQR measures encoding one seal URL (segments, RS, masks).
func BenchmarkEncodeQR(b *testing.B) {
	sg, _ := fixedSigner(b)
	l := testLabel(b, sg)
	for range b.N {
		if _, err := EncodeQR(l.SealURL); err != nil {
			b.Fatal(err)
		}
	}
}
