package audit_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

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

// gateLog records each transaction's actions; Appends wait for gate while
// it is non-nil.
type gateLog struct {
	countLog
	gate chan struct{}
	txs  chan []string
}

func (l *gateLog) Append(ctx context.Context, es ...audit.Entry) error {
	if l.gate != nil {
		<-l.gate
	}
	acts := make([]string, len(es))
	for i, e := range es {
		acts[i] = e.Action
	}
	slices.Sort(acts) // concurrent Appends queue in any order
	l.txs <- acts
	return l.countLog.Append(ctx, es...)
}

func TestBatcherLingersOnlyWhenBusy(t *testing.T) {
	l := &gateLog{gate: make(chan struct{}), txs: make(chan []string, 10)}
	b := audit.NewBatcher(l)
	b.SetLinger(300 * time.Millisecond)
	defer b.Close()
	ctx := context.Background()
	appendAsync := func(action string) chan error {
		errc := make(chan error, 1)
		go func() { errc <- b.Append(ctx, audit.Entry{Action: action}) }()
		return errc
	}
	// Idle: a lone entry is committed without waiting.
	a := appendAsync("a")
	time.Sleep(20 * time.Millisecond) // a is in the log, blocked on the gate
	bc := []chan error{appendAsync("b"), appendAsync("c")}
	time.Sleep(20 * time.Millisecond) // b and c are queued behind it
	t0 := time.Now()
	close(l.gate)
	if err := <-a; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 200*time.Millisecond {
		t.Errorf("a lone entry on an idle log waited %v", d)
	}
	for _, c := range bc {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(<-l.txs, <-l.txs); got != "[a] [b c]" {
		t.Fatalf("transactions %s, want [a] [b c]", got)
	}
	// Busy (the last batch had two): the next batch stays open, so an
	// entry that comes 30 ms later joins it.
	d := appendAsync("d")
	time.Sleep(30 * time.Millisecond)
	e := appendAsync("e")
	for _, c := range []chan error{d, e} {
		if err := <-c; err != nil {
			t.Fatal(err)
		}
	}
	if got := fmt.Sprint(<-l.txs); got != "[d e]" {
		t.Fatalf("transaction %s, want [d e]", got)
	}
	if s := b.Stats(); s.Commits != 3 || s.Entries != 5 {
		t.Fatalf("stats %+v, want 3 commits of 5 entries", s)
	}
}
