package audit_test

import (
	"context"
	"sync"
	"testing"

	"posid/internal/audit"
)

// countLog counts entries and transactions.
type countLog struct {
	mu           sync.Mutex
	entries, txs int
}

func (l *countLog) Append(ctx context.Context, es ...audit.Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries += len(es)
	l.txs++
	return nil
}

func (l *countLog) List(ctx context.Context, f audit.Filter) ([]audit.Entry, int64, error) {
	return nil, 0, nil
}

func TestBatcherWritesEveryEntry(t *testing.T) {
	l := &countLog{}
	b := audit.NewBatcher(l)
	var wg sync.WaitGroup
	for i := 0; i < 500; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Append(context.Background(), audit.Entry{Action: "x"}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b.Close()
	if l.entries != 500 {
		t.Fatalf("%d entries written, want 500", l.entries)
	}
	if err := b.Append(context.Background(), audit.Entry{}); err != audit.ErrClosed {
		t.Errorf("append after close: %v", err)
	}
	t.Logf("%d entries in %d transactions", l.entries, l.txs)
}

func TestBatcherEnqueueWrittenByClose(t *testing.T) {
	l := &countLog{}
	b := audit.NewBatcher(l)
	for i := 0; i < 1000; i++ {
		if err := b.Enqueue(context.Background(), audit.Entry{Action: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	if l.entries != 1000 {
		t.Fatalf("%d entries written, want 1000", l.entries)
	}
}
