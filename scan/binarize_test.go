package scan

import (
	"math"
	"math/rand/v2"
	"testing"
)

// thresholdLocalDefinition is thresholdLocal's plain-mean threshold
// (k = 0) computed as it is defined, box by box, in floating point.
func thresholdLocalDefinition(p plane, r int) plane {
	q := newPlane(p.w, p.h)
	for y := 0; y < p.h; y++ {
		for x := 0; x < p.w; x++ {
			var s, sq, n float64
			for yy := max(0, y-r); yy <= min(p.h-1, y+r); yy++ {
				for xx := max(0, x-r); xx <= min(p.w-1, x+r); xx++ {
					v := float64(p.pix[yy*p.stride+xx])
					s, sq, n = s+v, sq+v*v, n+1
				}
			}
			m := s / n
			q.pix[y*q.w+x] = 255
			if math.Sqrt(math.Max(0, sq/n-m*m)) >= minEnvelope/4 && float64(p.pix[y*p.stride+x]) < m {
				q.pix[y*q.w+x] = 0
			}
		}
	}
	return q
}

// TestThresholdLocalMean checks the integer form of the plain-mean
// threshold against its definition on planes of every contrast, from
// flat (all white) to full, with boxes that reach past the edges.
func TestThresholdLocalMean(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 24 {
		w, h := 20+rng.IntN(60), 20+rng.IntN(60)
		p := newPlane(w, h)
		spread := 1 + trial*10
		for i := range p.pix {
			p.pix[i] = byte(min(255, 100+rng.IntN(spread)))
		}
		r := 1 + rng.IntN(8)
		got, want := p.thresholdLocal(r, 0), thresholdLocalDefinition(p, r)
		for i := range got.pix {
			if got.pix[i] != want.pix[i] {
				t.Fatalf("spread %d, radius %d: pixel (%d, %d) is %d, want %d", spread, r, i%w, i/w, got.pix[i], want.pix[i])
			}
		}
	}
}

// BenchmarkThresholdLocal times the local thresholds on a 1.2 MP window:
// the plain mean (integers) and Sauvola (floating point, a root per
// pixel), the same sliding sums under both.
func BenchmarkThresholdLocal(b *testing.B) {
	p := newPlane(1200, 1000)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range p.pix {
		p.pix[i] = byte(rng.IntN(256))
	}
	for _, c := range []struct {
		name string
		k    float64
	}{{"mean", 0}, {"sauvola", sauvolaK}} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				p.thresholdLocal(6, c.k)
			}
		})
	}
}

// TestSlidingMax compares slidingMax with the maximum taken window by
// window, on random rows and radii, the window cut at the row's ends.
func TestSlidingMax(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for _, c := range []struct{ n, r, levels int }{
		{1, 0, 256}, {1, 3, 256}, {17, 1, 4}, {64, 5, 256}, {200, 40, 3}, {50, 80, 256},
	} {
		src := make([]byte, c.n)
		for i := range src {
			src[i] = byte(rng.IntN(c.levels))
		}
		out, dq := make([]byte, c.n), make([]int, c.n)
		slidingMax(src, c.r, out, dq)
		for x := range src {
			want := byte(0)
			for i := max(0, x-c.r); i <= min(c.n-1, x+c.r); i++ {
				want = max(want, src[i])
			}
			if out[x] != want {
				t.Fatalf("n %d r %d: max at %d = %d, want %d", c.n, c.r, x, out[x], want)
			}
		}
	}
}

// BenchmarkEnvelopeNormalized times envelopeNormalized on a noisy window
// of a bar stage's size.
func BenchmarkEnvelopeNormalized(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := newPlane(1600, 400)
	for i := range p.pix {
		p.pix[i] = byte(rng.IntN(256))
	}
	r := envelopeRadius(p.w)
	b.ResetTimer()
	for range b.N {
		p.envelopeNormalized(r)
	}
}
