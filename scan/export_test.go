package scan

import (
	"context"
	"image"

	"golang.org/x/sync/semaphore"
)

// SpareCore lends the tests in package scan_test a spare core of g.
func SpareCore(g *Governor) (release func(), ok bool) { return g.spareCore() }

// SetSpareCores gives g n spare cores, whatever GOMAXPROCS is.
func SetSpareCores(g *Governor, n int64) { g.cores = semaphore.NewWeighted(n) }

// PlanCoarse returns how many regions the coarse stage's plan for img
// holds and how many codes it places in them, until ctx ends.
func PlanCoarse(ctx context.Context, img image.Image) (regions, placed int) {
	full := luminance(img)
	plan := planCoarse(ctx, full, workFactor(full.w, full.h))
	for _, bws := range plan.placed {
		placed += len(bws)
	}
	return len(plan.regions), placed
}
