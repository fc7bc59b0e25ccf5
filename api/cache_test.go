package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/registry"
)

// countingStore counts device reads that reach the real store and can hold
// them until release is closed.
type countingStore struct {
	registry.Store
	reads   atomic.Int64
	release chan struct{} // nil: reads go through at once
}

func (s *countingStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	s.reads.Add(1)
	if s.release != nil {
		select {
		case <-s.release:
		case <-ctx.Done():
			return registry.Device{}, ctx.Err()
		}
	}
	return s.Store.GetDevice(ctx, sn, opt)
}

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestCache(t *testing.T) (*cachedStore, *countingStore, *fakeClock) {
	t.Helper()
	env := newEnv(t, Config{})
	st := &countingStore{Store: env.db.Store()}
	clk := &fakeClock{t: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	c := newCachedStore(st, time.Second)
	c.now = clk.now
	return c, st, clk
}

// getAll runs n concurrent GetDevice calls for sn and returns their errors.
func getAll(c *cachedStore, sn string, n int) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := c.GetDevice(context.Background(), sn, registry.ReadOptions{})
			if err == nil && d.SN != sn {
				err = errors.New("got device " + d.SN)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	return errs
}

func TestDeviceCacheOneReadPerSN(t *testing.T) {
	c, st, clk := newTestCache(t)
	ctx := context.Background()

	// 50 callers miss at once: one store read, everyone gets the device.
	st.release = make(chan struct{})
	done := make(chan []error)
	go func() { done <- getAll(c, "PAX0001", 50) }()
	for st.reads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others pile up behind the first
	close(st.release)
	for i, err := range <-done {
		if err != nil {
			t.Fatalf("caller %d: %v", i, err)
		}
	}
	if n := st.reads.Load(); n != 1 {
		t.Fatalf("50 concurrent misses made %d store reads, want 1", n)
	}

	// Within the TTL: no reads.
	clk.add(900 * time.Millisecond)
	getAll(c, "PAX0001", 20)
	if n := st.reads.Load(); n != 1 {
		t.Fatalf("hits within the TTL made %d store reads, want 1", n)
	}

	// Expired: the caller that notices reloads, the others get the old
	// copy meanwhile instead of going to the store.
	clk.add(200 * time.Millisecond)
	st.release = make(chan struct{})
	go func() { done <- getAll(c, "PAX0001", 1) }()
	for st.reads.Load() == 1 {
		time.Sleep(time.Millisecond)
	}
	stale := make(chan []error, 1)
	go func() { stale <- getAll(c, "PAX0001", 30) }()
	select {
	case errs := <-stale: // served while the reload is held
		for i, err := range errs {
			if err != nil {
				t.Fatalf("stale caller %d: %v", i, err)
			}
		}
	case <-time.After(5 * time.Second):
		close(st.release)
		t.Fatal("callers waited for the reload instead of getting the old copy")
	}
	close(st.release)
	<-done
	if n := st.reads.Load(); n != 2 {
		t.Fatalf("expiry under load made %d store reads, want 2", n)
	}

	// A write through the cache drops the entry: the next read sees it.
	st.release = nil
	if _, err := c.UpdateDevice(ctx, "test", "PAX0001", registry.Patch{Model: new("A920Pro")}); err != nil {
		t.Fatal(err)
	}
	d, err := c.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	if err != nil || d.Model != "A920Pro" {
		t.Fatalf("after update: model %q, %v; want A920Pro", d.Model, err)
	}
}

func TestDeviceCacheMisses(t *testing.T) {
	c, st, _ := newTestCache(t)
	ctx := context.Background()

	// Not found is never cached, and concurrent lookups of an unknown SN
	// all get ErrNotFound.
	for i, err := range getAll(c, "NOPE0001", 10) {
		if !errors.Is(err, registry.ErrNotFound) {
			t.Fatalf("caller %d: %v, want ErrNotFound", i, err)
		}
	}
	c.mu.RLock()
	n := len(c.devices)
	c.mu.RUnlock()
	if n != 0 {
		t.Fatalf("%d cache entries after unknown SNs, want 0", n)
	}

	// Reveals bypass the cache every time.
	before := st.reads.Load()
	for range 3 {
		d, err := c.GetDevice(ctx, "PAX0001", registry.ReadOptions{RevealAccount: true})
		if err != nil || d.Registration == nil || d.Registration.Account != "6222021234561234" {
			t.Fatalf("reveal: %+v, %v", d.Registration, err)
		}
	}
	if got := st.reads.Load() - before; got != 3 {
		t.Fatalf("3 reveals made %d store reads, want 3", got)
	}

	// Callers get copies: changing one does not change the cache.
	d, _ := c.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	d.Registration.MerchantName = "changed"
	d2, _ := c.GetDevice(ctx, "PAX0001", registry.ReadOptions{})
	if d2.Registration.MerchantName == "changed" {
		t.Fatal("a caller's change reached the cache")
	}

	// A waiter whose context ends stops waiting; the read goes on for the rest.
	st.release = make(chan struct{})
	go getAll(c, "PAX0002", 1)
	for st.reads.Load() == before+4 {
		time.Sleep(time.Millisecond)
	}
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := c.GetDevice(wctx, "PAX0002", registry.ReadOptions{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter with an ended context: %v", err)
	}
	close(st.release)
}

// TestDeviceCacheKeysOwnTheirBytes drives lookups of different SNs over
// keep-alive connections, where fasthttp reuses request buffers, and
// checks that the cache's keys still name the devices they hold: a key
// that aliased a request buffer would change under the map.
func TestDeviceCacheKeysOwnTheirBytes(t *testing.T) {
	env := newEnv(t, Config{DeviceCacheTTL: time.Hour})
	base := env.live(t)
	sns := []string{"PAX0001", "PAX0002", "PAX0003"}
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := range 150 {
				sn := sns[(w+i)%len(sns)]
				req, _ := http.NewRequest("GET", base+"/api/v1/devices/"+sn+"?pad="+strings.Repeat("x", i%40), nil)
				req.Header.Set("Authorization", "Bearer "+env.tokens["warehouse"])
				resp, err := client.Do(req)
				if err != nil {
					errc <- err
					return
				}
				var v struct {
					SN string `json:"sn"`
				}
				err = json.NewDecoder(resp.Body).Decode(&v)
				resp.Body.Close()
				if err != nil || v.SN != sn {
					errc <- fmt.Errorf("GET %s: status %d, sn %q, %v", sn, resp.StatusCode, v.SN, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	c := env.srv.deps.Registry.(*cachedStore)
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.devices) != len(sns) {
		t.Errorf("cache holds %d entries after lookups of %d SNs", len(c.devices), len(sns))
	}
	for k, e := range c.devices {
		if !slices.Contains(sns, k) || e.d.SN != k {
			t.Errorf("cache key %q holds device %q", k, e.d.SN)
		}
	}
}

// TestQueuedAuditRowsOwnTheirBytes: with AsyncReadAudit a read answers
// before its audit row is written, so the row must not point into the
// request's buffers, which the next request on the connection reuses.
func TestQueuedAuditRowsOwnTheirBytes(t *testing.T) {
	env := newEnv(t, Config{})
	batcher := audit.NewBatcher(env.db.Audit())
	srv, err := New(Config{AsyncReadAudit: true, RatePerIP: -1, RatePerKey: -1}, Deps{
		Registry: env.db.Store(), Keys: auth.NewCache(env.db.Keys(), 0), Audit: batcher,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	env.srv = srv
	base := env.live(t)
	sns := []string{"PAX0001", "PAX0002"} // both registered: admin reads are audited
	const workers, each = 4, 100
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := range each {
				req, _ := http.NewRequest("GET", base+"/api/v1/devices/"+sns[(w+i)%2], nil)
				req.Header.Set("Authorization", "Bearer "+env.tokens["admin"])
				req.Header.Set("X-Request-ID", fmt.Sprintf("req-%d-%03d", w, i))
				if resp, err := client.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	batcher.Close() // writes what is queued
	rows, _, err := env.db.Audit().List(context.Background(), audit.Filter{Action: audit.ActionReadDevice, Limit: audit.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != workers*each {
		t.Fatalf("%d read rows, want %d", len(rows), workers*each)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		var w, i int
		if _, err := fmt.Sscanf(r.RequestID, "req-%d-%03d", &w, &i); err != nil || seen[r.RequestID] {
			t.Fatalf("row %d: request id %q (duplicate or garbled)", r.ID, r.RequestID)
		}
		seen[r.RequestID] = true
		if want := sns[(w+i)%2]; r.Target != want {
			t.Fatalf("row of request %s names %q, want %q", r.RequestID, r.Target, want)
		}
	}
}
