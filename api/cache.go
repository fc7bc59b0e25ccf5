package api

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"posid/internal/changes"
	"posid/internal/registry"
	"posid/internal/service"
)

// Device cache limits.
const (
	// DefaultDeviceCacheTTL is how long a device read stays in memory. Writes
	// through this server drop it at once; writes from elsewhere (posid
	// import, another server) show after at most this long.
	DefaultDeviceCacheTTL = time.Second
	// maxCachedDevices bounds the cache (about 1 KB a device); when full it
	// is cleared.
	maxCachedDevices = 50_000
)

// cachedStore is a registry.Store that keeps masked device reads in memory
// for a short TTL, so hot lookups skip SQLite. Reads that reveal accounts,
// listings and history always go to the store; not-found answers are
// never cached (an enumeration must not fill memory).
//
// One read per SN goes to the store at a time: callers that miss while a
// first read is in flight wait for it, and once an entry has expired the
// caller that notices reloads it while the others keep getting the old
// copy until the new one is in. Without this, every expiry sent each
// in-flight request for that SN to the database at once.
type cachedStore struct {
	registry.Store
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	devices map[string]*cacheEntry
}

// cacheEntry is one SN's slot. loading is non-nil while a store read for
// it is in flight and closed when that read ends; has says d is set.
type cacheEntry struct {
	d       registry.Device
	has     bool
	expires time.Time
	loading chan struct{}
	err     error
}

func newCachedStore(st registry.Store, ttl time.Duration) *cachedStore {
	return &cachedStore{Store: st, ttl: ttl, now: time.Now, devices: map[string]*cacheEntry{}}
}

// GetDevice implements registry.Store.
func (c *cachedStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	if opt.RevealAccount {
		return c.Store.GetDevice(ctx, sn, opt)
	}
	now := c.now()
	c.mu.RLock()
	e := c.devices[sn]
	if e != nil && e.has && now.Before(e.expires) {
		d := copyDevice(e.d)
		c.mu.RUnlock()
		return d, nil
	}
	c.mu.RUnlock()

	c.mu.Lock()
	e = c.devices[sn]
	switch {
	case e != nil && e.has && (now.Before(e.expires) || e.loading != nil):
		// Fresh after all, or being reloaded by another caller: the
		// old copy is at most one store read older than the TTL.
		d := copyDevice(e.d)
		c.mu.Unlock()
		return d, nil
	case e != nil && e.loading != nil:
		// A first read is in flight: wait for it.
		wait := e.loading
		c.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return registry.Device{}, ctx.Err()
		}
		c.mu.RLock()
		defer c.mu.RUnlock()
		if e.err != nil {
			return registry.Device{}, e.err
		}
		return copyDevice(e.d), nil
	}
	if e == nil {
		if len(c.devices) >= maxCachedDevices {
			clear(c.devices)
		}
		e = &cacheEntry{}
		// The key outlives the request: it must not share the bytes of
		// a request buffer (the server runs Fiber with Immutable, this
		// holds without it too).
		c.devices[strings.Clone(sn)] = e
	}
	e.loading = make(chan struct{})
	c.mu.Unlock()

	// The read does not end with this caller's context: others may be
	// waiting for it. It is one indexed row, so it ends soon anyway.
	d, err := c.Store.GetDevice(context.WithoutCancel(ctx), sn, opt)

	c.mu.Lock()
	e.err = err
	if err == nil {
		e.d, e.has, e.expires = copyDevice(d), true, c.now().Add(c.ttl)
	} else if c.devices[sn] == e {
		delete(c.devices, sn) // not found (or failed): nothing to keep
	}
	close(e.loading)
	e.loading = nil
	c.mu.Unlock()
	return d, err
}

// copyDevice copies d and its registration, so callers cannot change the cache.
func copyDevice(d registry.Device) registry.Device {
	if d.Registration != nil {
		r := *d.Registration
		d.Registration = &r
	}
	return d
}

func (c *cachedStore) forget(sn string) {
	c.mu.Lock()
	delete(c.devices, sn)
	c.mu.Unlock()
}

// CreateDevice implements registry.Store.
func (c *cachedStore) CreateDevice(ctx context.Context, actor string, d registry.Device) (registry.Device, error) {
	out, err := c.Store.CreateDevice(ctx, actor, d)
	c.forget(out.SN)
	return out, err
}

// UpdateDevice implements registry.Store.
func (c *cachedStore) UpdateDevice(ctx context.Context, actor, sn string, p registry.Patch) (registry.Device, error) {
	defer c.forget(sn)
	return c.Store.UpdateDevice(ctx, actor, sn, p)
}

// SetStatus implements registry.Store.
func (c *cachedStore) SetStatus(ctx context.Context, actor, sn string, to registry.Status) (registry.Device, error) {
	defer c.forget(sn)
	return c.Store.SetStatus(ctx, actor, sn, to)
}

// Import implements registry.Store and empties the cache.
func (c *cachedStore) Import(ctx context.Context, actor string, recs []registry.Record, mode registry.ImportMode) (registry.ImportSummary, error) {
	defer func() {
		c.mu.Lock()
		clear(c.devices)
		c.mu.Unlock()
	}()
	return c.Store.Import(ctx, actor, recs, mode)
}

// InTx implements registry.Store: the devices the transaction writes are
// dropped from the cache once it ends (an import empties the cache).
func (c *cachedStore) InTx(ctx context.Context, fn func(registry.Tx) error) error {
	var touched []string
	all := false
	defer func() {
		c.mu.Lock()
		if all {
			clear(c.devices)
		}
		for _, sn := range touched {
			delete(c.devices, sn)
		}
		c.mu.Unlock()
	}()
	return c.Store.InTx(ctx, func(tx registry.Tx) error {
		return fn(cacheTx{Tx: tx, touch: func(sn string) { touched = append(touched, sn) }, touchAll: func() { all = true }})
	})
}

// cacheTx is a registry.Tx that reports the devices it writes.
type cacheTx struct {
	registry.Tx
	touch    func(sn string)
	touchAll func()
}

// CreateDevice implements registry.Tx.
func (t cacheTx) CreateDevice(ctx context.Context, actor string, d registry.Device) (registry.Device, error) {
	out, err := t.Tx.CreateDevice(ctx, actor, d)
	t.touch(out.SN)
	return out, err
}

// UpdateDevice implements registry.Tx.
func (t cacheTx) UpdateDevice(ctx context.Context, actor, sn string, p registry.Patch) (registry.Device, error) {
	out, err := t.Tx.UpdateDevice(ctx, actor, sn, p)
	t.touch(out.SN)
	return out, err
}

// SetStatus implements registry.Tx.
func (t cacheTx) SetStatus(ctx context.Context, actor, sn string, to registry.Status) (registry.Device, error) {
	out, err := t.Tx.SetStatus(ctx, actor, sn, to)
	t.touch(out.SN)
	return out, err
}

// Import implements registry.Tx.
func (t cacheTx) Import(ctx context.Context, actor string, recs []registry.Record, mode registry.ImportMode, check registry.ImportCheck) (registry.ImportSummary, error) {
	t.touchAll()
	return t.Tx.Import(ctx, actor, recs, mode, check)
}

// changeTx returns the change request part of the wrapped transaction.
func (t cacheTx) changeTx() (changes.Tx, error) {
	ct, ok := t.Tx.(changes.Tx)
	if !ok {
		return nil, fmt.Errorf("%w: the registry store keeps no change requests", service.ErrNoChanges)
	}
	return ct, nil
}

// ChangeRequest implements changes.Tx when the wrapped transaction does.
func (t cacheTx) ChangeRequest(ctx context.Context, id int64) (changes.Request, error) {
	ct, err := t.changeTx()
	if err != nil {
		return changes.Request{}, err
	}
	return ct.ChangeRequest(ctx, id)
}

// DecideChange implements changes.Tx when the wrapped transaction does.
func (t cacheTx) DecideChange(ctx context.Context, id int64, state changes.State, by, note string, at time.Time) (changes.Request, error) {
	ct, err := t.changeTx()
	if err != nil {
		return changes.Request{}, err
	}
	return ct.DecideChange(ctx, id, state, by, note, at)
}
