// Command photogen writes realistic label photos (internal/photogen) with
// their truth, for bench/photos.sh:
//
//	go run ./bench/photogen -seed 1 -n 100 -o /tmp/photos
//
// writes /tmp/photos/TIER/TIER-NNN.jpg, the truth as TIER-NNN.json (SN,
// every code's format and text, the photo's conditions) and the SN alone
// as TIER-NNN.txt (the layout bench/peers/peers.py reads).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"posid/internal/photogen"
)

func main() {
	seed := flag.Uint64("seed", photogen.TuningSeed, "seed (tuning: 1, held-out: 20261206)")
	n := flag.Int("n", 100, "photos per tier")
	out := flag.String("o", "photos", "output directory")
	tiers := flag.String("tiers", "easy,medium,hard", "comma-separated tiers")
	mp := flag.Float64("mp", 0, "force the frame size in megapixels (0: the tier picks)")
	jobs := flag.Int("j", runtime.NumCPU(), "photos generated at once")
	glare := flag.Bool("glare", true, "draw the glare (false: the same photos without it)")
	flag.Parse()
	opts := photogen.Options{MP: *mp, NoGlare: !*glare}
	if err := run(*seed, *n, *out, strings.Split(*tiers, ","), opts, *jobs); err != nil {
		fmt.Fprintln(os.Stderr, "photogen:", err)
		os.Exit(1)
	}
}

func run(seed uint64, n int, out string, tiers []string, opts photogen.Options, jobs int) error {
	type job struct {
		tier photogen.Tier
		i    int
	}
	work := make(chan job)
	errs := make(chan error, jobs)
	var wg sync.WaitGroup
	for range max(1, jobs) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				if err := write(seed, j.tier, j.i, out, opts); err != nil {
					errs <- err
					for range work {
					}
					return
				}
			}
		}()
	}
	for _, t := range tiers {
		tier := photogen.Tier(strings.TrimSpace(t))
		if err := os.MkdirAll(filepath.Join(out, string(tier)), 0o755); err != nil {
			return err
		}
		for i := range n {
			work <- job{tier, i}
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	return <-errs
}

func write(seed uint64, tier photogen.Tier, i int, out string, opts photogen.Options) error {
	p, err := photogen.Generate(context.Background(), seed, tier, i, opts)
	if err != nil {
		return fmt.Errorf("%s %d: %w", tier, i, err)
	}
	base := filepath.Join(out, string(tier), p.Truth.Name)
	truth, err := json.MarshalIndent(p.Truth, "", "  ")
	if err != nil {
		return err
	}
	for ext, data := range map[string][]byte{".jpg": p.JPEG, ".json": truth, ".txt": []byte(p.Truth.SN)} {
		if err := os.WriteFile(base+ext, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
