package scan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Two lanes. The escalation's stages after its localisers read either
// bar regions (the model reader and the binarizers) or 2D regions (the
// matrix stages), and a label's SN is in one or the other: a photo whose
// SN is in a Code 128 spends its budget in the matrix stages before the
// model reader reaches it, and the other way round. When the process has
// a core to spare (Governor), those stages run in two lanes at once, each
// on a copy of the scan's state, and a code either lane finds that settles
// the photo stops both. Without a spare core (a busy server) the stages
// run in one lane, in the order stages lists them.

// laneSplit names the first stage that runs in a lane: the stages before
// it locate the regions both lanes read.
const laneSplit = "matrix-sharpened"

// secondLane lists the stages of the second lane: the 2D reads, then the
// model reader on the windows refineBars places (the matrix stages end
// in a few hundred milliseconds on a label whose SN is in bars), then the
// finer localisation and its stages, then the whole-photo passes that end
// the list of stages. The others after laneSplit run in the first lane:
// the bar stages and the model reader on the localisers' regions.
var secondLane = map[string]bool{
	"matrix-sharpened":            true,
	"matrix-denoised":             true,
	"matrix-halved":               true,
	"inverted":                    true,
	"matrix-tight":                true,
	"model-refined":               true,
	"model-refined-glare":         true,
	"pyramid":                     true,
	"pyramid-bars":                true,
	"pyramid-envelope":            true,
	"pyramid-model":               true,
	"pyramid-model-refined":       true,
	"pyramid-model-perspective":   true,
	"pyramid-model-refined-glare": true,
	"rows-dense":                  true,
	"rows-45":                     true,
	"full-resolution":             true,
	"working-located":             true,
}

// Lane numbers, as StageTrace.Lane gives them; 0 is the fast path, the
// localisers, and every stage of a scan in one lane.
const (
	laneFirst  = 1
	laneSecond = 2
)

// lane is one sequence of stages run within the scan's budget.
type lane struct {
	ctx  context.Context // the scan's: ends when the scan is cancelled
	ectx context.Context // ends with the budget, or when the other lane settles the photo
	end  time.Time       // the budget's end
	// unit is the time a stage of cost 1 takes on this photo and
	// machine: the fast path's at first, then the most a whole-photo
	// stage took over its cost (busy photos make every pass slow).
	unit    time.Duration
	skipped bool // a whole-photo stage was passed over for want of time
	n       int  // 0 (one lane), laneFirst or laneSecond
}

// board is where two lanes publish the codes each has found, so that
// either can tell when the two together explain the photo.
type board struct {
	mu    sync.Mutex
	found [3]*session // by lane number; each a snapshot, never changed
}

// publish records a snapshot of lane n's codes.
func (b *board) publish(n int, s *session) {
	snap := s.snapshot()
	b.mu.Lock()
	b.found[n] = snap
	b.mu.Unlock()
}

// peer returns the last snapshot the lane other than n published, or nil.
func (b *board) peer(n int) *session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.found[laneFirst+laneSecond-n]
}

// escalateLanes runs the stages in two lanes (see above) and returns why
// the escalation stopped.
func (e *escalation) escalateLanes(ctx context.Context, budget, fast time.Duration, low plane, mLow affine) StopReason {
	ectx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	ln := &lane{ctx: ctx, ectx: ectx, end: time.Now().Add(budget), unit: fast}
	// The spare core works out the coarse stage's plan while this one
	// runs the stages before it. A scan done before the coarse stage
	// stops the plan, and waits for its goroutine: the spare core is the
	// scan's until it returns.
	actx, acancel := context.WithCancel(ctx)
	ahead := planAhead(actx, e.full, e.f)
	e.ahead = ahead
	defer func() {
		acancel()
		<-ahead.done
	}()
	all := e.stages(low, mLow)
	split := slices.IndexFunc(all, func(st *stage) bool { return st.name == laneSplit })
	if split < 0 {
		return e.runLane(ln, all)
	}
	later, stop, ended := e.pass(ln, all[:split], false)
	if ended {
		return stop
	}
	lctx, lcancel := context.WithCancel(ectx)
	defer lcancel()
	b := &board{}
	forks := [2]*escalation{e.fork(b, laneFirst), e.fork(b, laneSecond)}
	// The coarse stage, when passed over beside an IMEI, runs in the
	// first lane: the plan goes with it.
	forks[0].ahead, e.ahead = e.ahead, nil
	lanes := [2]*lane{}
	var wg sync.WaitGroup
	var crash any
	var crashMu sync.Mutex
	for i, fe := range forks {
		// Each lane's stages are its own: they act on its copy of
		// the state. The localisers' stages passed over beside an
		// IMEI end the first lane.
		own := fe.stages(low, mLow)
		var sts []*stage
		for _, st := range own[split:] {
			if secondLane[st.name] == (fe.lane == laneSecond) {
				sts = append(sts, st)
			}
		}
		if fe.lane == laneFirst {
			for _, st := range own[:split] {
				if slices.ContainsFunc(later, func(l *stage) bool { return l.name == st.name }) {
					sts = append(sts, st)
				}
			}
		}
		lanes[i] = &lane{ctx: ctx, ectx: lctx, end: ln.end, unit: ln.unit, n: fe.lane}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					crashMu.Lock()
					crash = r
					crashMu.Unlock()
					lcancel()
				}
			}()
			if fe.runLane(lanes[i], sts) == StopFound {
				lcancel()
			}
		}()
	}
	wg.Wait()
	if crash != nil {
		// As if the stage had run in the scan's own goroutine.
		panic(fmt.Sprintf("scan: escalation lane: %v", crash))
	}
	for i, fe := range forks {
		e.ses.absorb(fe.ses)
		e.trace.Stages = append(e.trace.Stages, fe.trace.Stages...)
		ln.skipped = ln.skipped || lanes[i].skipped
	}
	if e.done() {
		return StopFound
	}
	return ln.ended()
}

// fork returns a copy of e's state for lane n, publishing on b: the
// session's codes, the regions found so far and the windows cached; the
// image and the fast path's regions are shared, since no stage changes
// them.
func (e *escalation) fork(b *board, n int) *escalation {
	return &escalation{
		ses: e.ses.fork(), full: e.full, f: e.f, regions: e.regions,
		extra: slices.Clone(e.extra), matrices: slices.Clone(e.matrices), large: slices.Clone(e.large),
		trace: &Trace{}, cache: maps.Clone(e.cache), cached: e.cached,
		modelDone: maps.Clone(e.modelDone), placed: maps.Clone(e.placed),
		board: b, lane: n,
	}
}

// view returns e as it decides whether the photo is explained: with a
// board, its codes and the other lane's last published ones together.
func (e *escalation) view() *escalation {
	if e.board == nil {
		return e
	}
	p := e.board.peer(e.lane)
	if p == nil || len(p.order) == 0 {
		return e
	}
	m := e.ses.snapshot()
	m.absorb(p)
	v := *e
	v.ses = m
	return &v
}
