package scan

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"golang.org/x/sync/semaphore"
)

// Governor defaults.
const (
	// DefaultDecodeMemory is the memory all decodes and scans in flight in
	// one process may hold together (640 MiB): on a 2 GB server it leaves
	// the rest to the Go runtime's garbage headroom (GOGC=100 lets the heap
	// reach twice the live data), request bodies and the database. Two of
	// the largest images DefaultMaxImageMemory admits fit at once.
	DefaultDecodeMemory = 640 << 20
	// DefaultMemoryWait is how long a Scan waits for its share of the
	// Governor before giving up with ErrBusy.
	DefaultMemoryWait = 2 * time.Second
)

// Governor bounds the memory held by image decodes in flight. Each Scan
// acquires the bytes its image is estimated to need before decoding and
// releases them when the scan ends, so N concurrent requests never sum
// past the Governor's size. It is safe for concurrent use; share one
// between every Scanner of a process.
//
// It also lends the cores the process has to spare (GOMAXPROCS less one)
// to scans that escalate, one each, for a second lane of stages; a scan
// that finds none free runs its stages in one lane.
type Governor struct {
	size  int64
	sem   *semaphore.Weighted
	cores *semaphore.Weighted
}

// NewGovernor returns a Governor of size bytes (DefaultDecodeMemory when
// size <= 0).
func NewGovernor(size int64) *Governor {
	if size <= 0 {
		size = DefaultDecodeMemory
	}
	return &Governor{size: size, sem: semaphore.NewWeighted(size), cores: semaphore.NewWeighted(int64(max(0, runtime.GOMAXPROCS(0)-1)))}
}

// spareCore takes a spare core if one is free, without waiting; call
// release to give it back.
func (g *Governor) spareCore() (release func(), ok bool) {
	if g.cores == nil || !g.cores.TryAcquire(1) {
		return nil, false
	}
	return func() { g.cores.Release(1) }, true
}

// Size returns the Governor's size in bytes.
func (g *Governor) Size() int64 { return g.size }

// Acquire takes n bytes, waiting at most wait (or until ctx ends); call
// the returned func to give them back. A request larger than the whole
// Governor is ErrImageTooLarge; one that is not granted in time is
// ErrBusy.
func (g *Governor) Acquire(ctx context.Context, n int64, wait time.Duration) (func(), error) {
	if n > g.size {
		return nil, fmt.Errorf("%w: needs %d MiB to decode, the server's decode budget is %d MiB", ErrImageTooLarge, mib(n), mib(g.size))
	}
	n = max(n, 1)
	if !g.sem.TryAcquire(n) {
		wctx, cancel := context.WithTimeout(ctx, wait)
		defer cancel()
		if err := g.sem.Acquire(wctx, n); err != nil {
			return nil, fmt.Errorf("%w: %d MiB not free within %s", ErrBusy, mib(n), wait)
		}
	}
	return func() { g.sem.Release(n) }, nil
}

// mib rounds n bytes up to MiB.
func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }
