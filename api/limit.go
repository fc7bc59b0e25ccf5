package api

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// maxBuckets bounds the rate limiter's memory; when full, buckets idle
// long enough to be full again are dropped, and if none are, the oldest
// half goes.
const maxBuckets = 100_000

// limiter is a set of token buckets keyed by client address or API key.
// State is in memory, per process: N servers behind a balancer allow N
// times the rate.
type limiter struct {
	rate  float64 // tokens per second; <= 0 disables
	burst float64
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes one token from key's bucket; when empty it returns how long
// until the next token.
func (l *limiter) allow(key string) (time.Duration, bool) {
	if l.rate <= 0 {
		return 0, true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweep(now)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.buckets[key] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second)), false
}

// sweep drops buckets that have refilled completely (their state is the
// same as a new bucket's), or the older half when none have.
func (l *limiter) sweep(now time.Time) {
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.last) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) < maxBuckets {
		return
	}
	n := 0
	for k := range l.buckets {
		if n >= maxBuckets/2 {
			break
		}
		delete(l.buckets, k)
		n++
	}
}

// clientScanShare sets the default cap on one client's decodes: a client
// (resolved address, or API key) may have at most 1/clientScanShare of the
// decode slots running or waiting, and at least one. With the rest left
// to others, a client posting photos as fast as it can cannot starve a
// scanner at another address or with another key.
const clientScanShare = 2

// retryClientScans is the Retry-After sent with a 429 to a client that
// has its share of decodes running or waiting.
const retryClientScans = time.Second

// gate bounds concurrent image decodes: slots run, a bounded number of
// callers wait for a slot, the rest are refused at once. Nothing queues
// without bound, so memory held by waiting uploads is bounded too. One
// client may hold at most perClient of the running and waiting places
// (per client address and per API key), so no client starves the others.
// The memory of the decodes themselves is bounded by the scanner's
// scan.Governor, whose ErrBusy decode answers like a full gate.
type gate struct {
	slots     chan struct{}
	waiting   chan struct{}
	perClient int // <= 0: no cap
	m         *metrics

	mu   sync.Mutex
	held map[string]int // client key → decodes running or waiting; no zero entries
}

func newGate(running, queued, perClient int, m *metrics) *gate {
	return &gate{slots: make(chan struct{}, running), waiting: make(chan struct{}, queued), perClient: perClient, m: m, held: map[string]int{}}
}

// retryBusy is the Retry-After sent with a 503 from a full gate.
const retryBusy = 2 * time.Second

// scanClients names the clients a decode counts against: the resolved
// client address (an IPv6 client's /64, see addrkey) and, when the
// request has one, its API key.
func scanClients(c *fiber.Ctx) []string {
	keys := []string{"ip:" + clientKey(c)}
	if k, ok := principal(c); ok {
		keys = append(keys, "key:"+k.ID)
	}
	return keys
}

// claim counts one decode against each of clients, or none when one of
// them already holds perClient; it returns the client over its share.
func (g *gate) claim(clients []string) (string, bool) {
	if g.perClient <= 0 {
		return "", true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range clients {
		if g.held[k] >= g.perClient {
			return k, false
		}
	}
	for _, k := range clients {
		g.held[k]++
	}
	return "", true
}

// unclaim undoes claim.
func (g *gate) unclaim(clients []string) {
	if g.perClient <= 0 {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range clients {
		if g.held[k]--; g.held[k] <= 0 {
			delete(g.held, k)
		}
	}
}

// enter takes a slot, waiting at most wait; release it with the returned
// func. A client that already has its share running or waiting is refused
// at once with 429.
func (g *gate) enter(c *fiber.Ctx, wait time.Duration) (func(), error) {
	clients := scanClients(c)
	if k, ok := g.claim(clients); !ok {
		g.m.scanClientLimited.Inc()
		who, _ := strings.CutPrefix(k, "ip:")
		if id, isKey := strings.CutPrefix(k, "key:"); isKey {
			who = "API key " + id
		}
		return nil, retryAfter(fmt.Errorf("%w: %s already has %d scans decoding or waiting, the most one client may", errRateLimited, who, g.perClient), retryClientScans)
	}
	release, err := g.take(c, wait)
	if err != nil {
		g.unclaim(clients)
		return nil, err
	}
	return func() { release(); g.unclaim(clients) }, nil
}

// take takes a slot, waiting at most wait.
func (g *gate) take(c *fiber.Ctx, wait time.Duration) (func(), error) {
	select {
	case g.slots <- struct{}{}:
		return g.leave(), nil
	default:
	}
	select {
	case g.waiting <- struct{}{}:
	default:
		g.m.scanRejected.Inc()
		return nil, retryAfter(fmt.Errorf("%w: %d decodes running and %d waiting", errBusy, cap(g.slots), cap(g.waiting)), retryBusy)
	}
	g.m.scanQueue.Inc()
	defer func() { <-g.waiting; g.m.scanQueue.Dec() }()
	t := time.NewTimer(wait)
	defer t.Stop()
	ctx := c.UserContext()
	select {
	case g.slots <- struct{}{}:
		return g.leave(), nil
	case <-t.C:
	case <-ctx.Done():
	}
	g.m.scanRejected.Inc()
	return nil, retryAfter(fmt.Errorf("%w: no decode slot free within %s", errBusy, wait), retryBusy)
}

func (g *gate) leave() func() {
	g.m.scanRunning.Inc()
	return func() { g.m.scanRunning.Dec(); <-g.slots }
}
