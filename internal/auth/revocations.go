package auth

import (
	"context"
	"time"
)

// RevocationPollInterval is how often a store without push notification
// (SQLite) reads its revocation counter: one indexed read per process per
// interval, so a revocation made by any process reaches every cache well
// within a second.
const RevocationPollInterval = 250 * time.Millisecond

// Revocations tells a process that a key was revoked somewhere: by this
// process, by another server on the same database, or by the CLI. Stores
// bump a counter in the same transaction as the revocation; SQLite polls
// it, PostgreSQL also announces it with NOTIFY.
type Revocations interface {
	// Watch calls changed after every revocation it learns of, and once
	// when it cannot tell whether one was missed (e.g. after a reconnect).
	// It blocks until ctx ends and then returns ctx.Err().
	Watch(ctx context.Context, changed func()) error
}

// Clear drops every cached key, so the next request of each reads the store.
func (c *Cache) Clear() {
	c.mu.Lock()
	clear(c.keys)
	c.gen++
	c.mu.Unlock()
}
