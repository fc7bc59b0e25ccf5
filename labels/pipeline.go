package labels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
)

// pipelineDepth is how many labels per worker may be laid out ahead of the
// renderer; it bounds the memory held in flight.
const pipelineDepth = 8

// laidOut is one label and its layout, or the error that stopped the batch.
type laidOut struct {
	label  Label
	layout *Layout
	err    error
}

// layouts reads src in order on one goroutine, lays labels out on
// GOMAXPROCS workers and delivers them in source order. The batch ends with
// io.EOF or the first error. Cancel ctx to stop early.
func layouts(ctx context.Context, src Source, opts Options) <-chan laidOut {
	workers := max(1, runtime.GOMAXPROCS(0))
	out := make(chan laidOut, workers*pipelineDepth)
	order := make(chan chan laidOut, workers*pipelineDepth)
	jobs := make(chan func(), workers)
	for range workers {
		go func() {
			for job := range jobs {
				job()
			}
		}()
	}
	go func() { // reader: source order, one future per label
		defer close(order)
		defer close(jobs)
		for n := 1; ; n++ {
			l, err := src.Next(ctx)
			fut := make(chan laidOut, 1)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					err = fmt.Errorf("label %d: %w", n, err)
				}
				fut <- laidOut{err: err}
				select {
				case order <- fut:
				case <-ctx.Done():
				}
				return
			}
			select {
			case order <- fut:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- func() {
				lay, err := NewLayout(l, opts)
				if err != nil {
					err = fmt.Errorf("label %d: %w", n, err)
				}
				fut <- laidOut{label: l, layout: lay, err: err}
			}:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { // collector: futures in order
		defer close(out)
		for fut := range order {
			var r laidOut
			select {
			case r = <-fut:
			case <-ctx.Done():
				return
			}
			select {
			case out <- r:
			case <-ctx.Done():
				return
			}
			if r.err != nil {
				return
			}
		}
	}()
	return out
}

// eachLayout calls fn for every label of src in order, laying labels out
// concurrently. It returns the number of labels fn accepted.
func eachLayout(parent context.Context, src Source, opts Options, fn func(i int, l Label, lay *Layout) error) (int, error) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	n := 0
	for r := range layouts(ctx, src, opts) {
		if err := parent.Err(); err != nil {
			return n, err
		}
		if errors.Is(r.err, io.EOF) {
			return n, nil
		}
		if r.err != nil {
			return n, r.err
		}
		if err := fn(n, r.label, r.layout); err != nil {
			return n, err
		}
		n++
		if opts.Progress != nil {
			opts.Progress(n)
		}
	}
	// The channel closed without EOF: the context ended.
	if err := ctx.Err(); err != nil {
		return n, err
	}
	return n, nil
}
