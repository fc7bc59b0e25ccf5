package auth

import (
	"context"
	"sync"
	"time"

	"posid/internal/audit"
)

// DefaultCacheTTL is how long a cached key is trusted before it is read
// again. A revocation made anywhere clears the cache (Clear, called on the
// store's Revocations signal); the
// TTL only bounds how long a key stays cached when no watch runs.
const DefaultCacheTTL = 30 * time.Second

// maxCached bounds the cache; when full it is cleared.
const maxCached = 10_000

// Cache is a Store that remembers keys read by Key for a TTL, so that
// authenticating a request costs no database read. Unknown ids are not
// cached (that would let a client fill the cache).
type Cache struct {
	Store
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	keys map[string]cachedKey
	// gen counts Clear calls: a read that started before a Clear must not
	// put its (possibly revoked) key back into the cache.
	gen uint64
}

type cachedKey struct {
	key     Key
	expires time.Time
}

// NewCache wraps st; ttl <= 0 means DefaultCacheTTL.
func NewCache(st Store, ttl time.Duration) *Cache {
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	return &Cache{Store: st, ttl: ttl, now: time.Now, keys: map[string]cachedKey{}}
}

// Key implements Store, from the cache when fresh.
func (c *Cache) Key(ctx context.Context, id string) (Key, error) {
	now := c.now()
	c.mu.Lock()
	ck, ok := c.keys[id]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(ck.expires) {
		return ck.key, nil
	}
	k, err := c.Store.Key(ctx, id)
	if err != nil {
		return Key{}, err
	}
	c.mu.Lock()
	if gen == c.gen {
		if len(c.keys) >= maxCached {
			clear(c.keys)
		}
		c.keys[id] = cachedKey{key: k, expires: now.Add(c.ttl)}
	}
	c.mu.Unlock()
	return k, nil
}

// RevokeKey implements Store and drops the key from the cache.
func (c *Cache) RevokeKey(ctx context.Context, id string, log ...audit.Entry) (Key, error) {
	k, err := c.Store.RevokeKey(ctx, id, log...)
	c.mu.Lock()
	delete(c.keys, id)
	c.mu.Unlock()
	return k, err
}
