package api

import (
	"context"
	"sync"
	"time"

	"posid/internal/registry"
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
type cachedStore struct {
	registry.Store
	ttl time.Duration
	now func() time.Time

	mu      sync.RWMutex
	devices map[string]cachedDevice
}

type cachedDevice struct {
	d       registry.Device
	expires time.Time
}

func newCachedStore(st registry.Store, ttl time.Duration) *cachedStore {
	return &cachedStore{Store: st, ttl: ttl, now: time.Now, devices: map[string]cachedDevice{}}
}

// GetDevice implements registry.Store.
func (c *cachedStore) GetDevice(ctx context.Context, sn string, opt registry.ReadOptions) (registry.Device, error) {
	if opt.RevealAccount {
		return c.Store.GetDevice(ctx, sn, opt)
	}
	now := c.now()
	c.mu.RLock()
	e, ok := c.devices[sn]
	c.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return copyDevice(e.d), nil
	}
	d, err := c.Store.GetDevice(ctx, sn, opt)
	if err != nil {
		return d, err
	}
	c.mu.Lock()
	if len(c.devices) >= maxCachedDevices {
		clear(c.devices)
	}
	c.devices[sn] = cachedDevice{d: copyDevice(d), expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return d, nil
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
