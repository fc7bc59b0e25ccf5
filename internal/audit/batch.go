package audit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Batcher limits.
const (
	// maxBatch is the most entries written in one transaction.
	maxBatch = 256
	// queueLen bounds the entries waiting to be written; Append blocks
	// (until its context ends) when the queue is full.
	queueLen = 4096
	// DefaultLinger is how long a busy Batcher holds a batch open for
	// more entries. A commit costs about as much as tens of rows, so
	// under load waiting this long for company is cheaper than
	// committing at once; an idle server never waits.
	DefaultLinger = 300 * time.Microsecond
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("audit: log closed")

// Batcher is a Log that groups concurrent Appends into one transaction
// (group commit): every Append still returns only after its entries are
// written, so nothing is acknowledged before it is durable, but a busy
// server pays for one commit per batch instead of one per request.
type Batcher struct {
	Log
	// OnError, when set, is told about failed commits (for entries queued
	// with Enqueue nobody else hears of them). Set it before use.
	OnError func(err error, entries int)
	queue   chan pending
	done    chan struct{}

	mu     sync.RWMutex
	closed bool

	commits, entries atomic.Uint64
	linger           atomic.Int64 // time.Duration
}

// SetLinger sets how long a batch stays open for more entries when the
// previous one had company; 0 commits what is queued at once. The
// default is DefaultLinger.
func (b *Batcher) SetLinger(d time.Duration) { b.linger.Store(int64(max(d, 0))) }

// BatchStats counts what a Batcher wrote: Entries / Commits is the mean
// batch size.
type BatchStats struct {
	Commits, Entries uint64
}

// Stats returns the commits and entries written so far.
func (b *Batcher) Stats() BatchStats {
	return BatchStats{Commits: b.commits.Load(), Entries: b.entries.Load()}
}

type pending struct {
	entries []Entry
	result  chan error
}

// NewBatcher starts the writer goroutine over log; Close stops it.
func NewBatcher(log Log) *Batcher {
	b := &Batcher{Log: log, queue: make(chan pending, queueLen), done: make(chan struct{})}
	b.SetLinger(DefaultLinger)
	go b.run()
	return b
}

// Append implements Log.
func (b *Batcher) Append(ctx context.Context, entries ...Entry) error {
	p := pending{entries: entries, result: make(chan error, 1)}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return ErrClosed
	}
	select {
	case b.queue <- p:
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	b.mu.RUnlock()
	select {
	case err := <-p.result:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Enqueue queues entries and returns without waiting for the commit. It
// blocks only while the queue is full (backpressure: memory stays bounded,
// nothing is dropped). Close writes everything enqueued; a crash loses what
// was queued but not yet committed (normally a few milliseconds' worth).
func (b *Batcher) Enqueue(ctx context.Context, entries ...Entry) error {
	p := pending{entries: entries}
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	select {
	case b.queue <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes what is queued and stops the writer.
func (b *Batcher) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.done
	return nil
}

func (b *Batcher) run() {
	defer close(b.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	busy := false
	for first := range b.queue {
		batch, n, open := b.gather([]pending{first}, len(first.entries), nil)
		// Under load, hold the batch open a little longer: the requests
		// being handled right now will want to join it, and one commit of
		// many rows costs far less than many commits of one or two.
		if linger := time.Duration(b.linger.Load()); busy && open && n < maxBatch && linger > 0 {
			timer.Reset(linger)
			batch, n, _ = b.gather(batch, n, timer.C)
			timer.Stop()
		}
		busy = len(batch) > 1
		all := make([]Entry, 0, n)
		for _, p := range batch {
			all = append(all, p.entries...)
		}
		err := b.Log.Append(context.Background(), all...)
		if err == nil {
			b.commits.Add(1)
			b.entries.Add(uint64(len(all)))
		}
		for _, p := range batch {
			if p.result != nil {
				p.result <- err
			}
		}
		if err != nil && b.OnError != nil {
			b.OnError(err, len(all))
		}
	}
}

// gather adds queued entries to batch (n entries so far) until it holds
// maxBatch, the queue is empty (stop nil) or stop fires. open is false
// once the queue is closed.
func (b *Batcher) gather(batch []pending, n int, stop <-chan time.Time) (_ []pending, _ int, open bool) {
	for n < maxBatch {
		var p pending
		var ok bool
		if stop == nil {
			select {
			case p, ok = <-b.queue:
			default:
				return batch, n, true
			}
		} else {
			select {
			case p, ok = <-b.queue:
			case <-stop:
				return batch, n, true
			}
		}
		if !ok {
			return batch, n, false
		}
		batch = append(batch, p)
		n += len(p.entries)
	}
	return batch, n, true
}
