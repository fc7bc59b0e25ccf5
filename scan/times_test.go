package scan

import (
	"context"
	"testing"
	"time"
)

func TestDebugTimes(t *testing.T) {
	for i, sz := range benchSizes {
		photos := makePhotos(t, uint64(100+i), 4, func(int) float64 { return sz.mp })
		for _, p := range photos {
			start := time.Now()
			res, err := New(Options{}).Scan(context.Background(), p.data)
			n := 0
			if res != nil {
				n = len(res.Codes)
			}
			want := len(p.spec.Lines)
			if p.spec.QR != "" {
				want++
			}
			t.Logf("%s %s: %d/%d codes %v %v", sz.name, p.name, n, want, time.Since(start), err)
		}
	}
}
