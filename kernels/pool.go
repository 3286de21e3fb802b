package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool runs the parts of a parallel kernel call on long-lived helper goroutines.
//
// Handing work to a parked goroutine costs tens of microseconds (its thread must be woken),
// as long as a whole MLP matrix product. So helpers, and a caller waiting for them, spin for
// a while before they park: a training loop that calls kernels back to back finds its helpers
// awake. A helper is claimed by one call at a time; when none is free, the caller runs the
// part itself, so concurrent callers never wait on one another.

// spinFor is how long an idle helper, or a caller waiting for helpers, spins before parking.
const spinFor = 200 * time.Microsecond

// parter is one parallel call: runPart computes one of its parts.
type parter interface {
	runPart(part int)
}

type helper struct {
	task     atomic.Pointer[helperTask]
	claimed  atomic.Bool // owned by a call from claim until the part is done
	sleeping atomic.Bool
	wake     chan struct{}
}

type helperTask struct {
	call *parallelCall
	part int
}

// parallelCall tracks the helpers' parts of one call.
type parallelCall struct {
	job       parter
	remaining atomic.Int32
	sleeping  atomic.Bool
	done      chan struct{}
	tasks     [maxHelpers]helperTask
}

const maxHelpers = 256

var (
	helpersMu sync.Mutex
	helpers   []*helper
	callPool  = sync.Pool{New: func() any { return &parallelCall{done: make(chan struct{}, 1)} }}
)

// runParallel runs job.runPart(0..parts-1) and returns when all are done: part 0 on the
// calling goroutine, the others on free helpers (or on the caller when none is free).
func runParallel(job parter, parts int) {
	parts = min(parts, maxHelpers+1)
	ensureHelpers(parts - 1)
	c := callPool.Get().(*parallelCall)
	c.job = job
	var mine [maxHelpers]int // parts no helper could take
	nMine := 0
	hs := helperList()
	next := 0
	for part := 1; part < parts; part++ {
		h := claim(hs, &next)
		if h == nil {
			mine[nMine] = part
			nMine++
			continue
		}
		c.remaining.Add(1)
		c.tasks[part-1] = helperTask{call: c, part: part}
		h.task.Store(&c.tasks[part-1])
		if h.sleeping.Load() {
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
	job.runPart(0)
	for _, part := range mine[:nMine] {
		job.runPart(part)
	}
	c.wait()
	c.job = nil
	callPool.Put(c)
}

// claim returns a free helper, or nil.
func claim(hs []*helper, next *int) *helper {
	for ; *next < len(hs); *next++ {
		if hs[*next].claimed.CompareAndSwap(false, true) {
			*next++
			return hs[*next-1]
		}
	}
	return nil
}

// wait spins, then parks, until every helper part of the call is done.
func (c *parallelCall) wait() {
	deadline := time.Now().Add(spinFor)
	for i := 0; c.remaining.Load() > 0; i++ {
		if i%64 == 63 && time.Now().After(deadline) {
			c.sleeping.Store(true)
			if c.remaining.Load() > 0 {
				<-c.done
			}
			c.sleeping.Store(false)
			continue
		}
		runtime.Gosched()
	}
	select { // drop a wake-up that raced with the last check
	case <-c.done:
	default:
	}
}

func (c *parallelCall) partDone() {
	if c.remaining.Add(-1) == 0 && c.sleeping.Load() {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
}

func helperList() []*helper {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	return helpers
}

// ensureHelpers starts helpers until there are at least n.
func ensureHelpers(n int) {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	for len(helpers) < n {
		h := &helper{wake: make(chan struct{}, 1)}
		helpers = append(helpers, h)
		go h.loop()
	}
}

func (h *helper) loop() {
	for {
		deadline := time.Now().Add(spinFor)
		for i := 0; ; i++ {
			if t := h.task.Swap(nil); t != nil {
				call := t.call
				call.job.runPart(t.part)
				h.claimed.Store(false)
				call.partDone()
				deadline = time.Now().Add(spinFor)
				continue
			}
			if i%64 == 63 && time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
		}
		h.sleeping.Store(true)
		if h.task.Load() == nil {
			<-h.wake
		}
		h.sleeping.Store(false)
	}
}
