package scan

import "golang.org/x/sync/semaphore"

// SpareCore lends the tests in package scan_test a spare core of g.
func SpareCore(g *Governor) (release func(), ok bool) { return g.spareCore() }

// SetSpareCores gives g n spare cores, whatever GOMAXPROCS is.
func SetSpareCores(g *Governor, n int64) { g.cores = semaphore.NewWeighted(n) }
