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
//
// Part 0 is the caller's; the others are claimed, not assigned: the caller (once done with
// part 0) and its helpers each take the next part nobody has taken until none is left. A
// helper that starts late (its thread descheduled, as on a busy shared machine) leaves its
// part to the caller instead of holding the call up. Which goroutine computes a part never
// changes the part's result; keeping part 0 on the caller keeps the same data on the same
// core from one call to the next (the first half of W1 in the MLP's forward product, its
// weight gradient and its Adam update).

// helperSpin is how long an idle helper spins before parking. The MLP's training steps call
// parallel kernels less than 50 us apart, so its helpers stay awake; a spinning helper takes
// time from another process that shares its core. Measured on the 2-core development machine,
// 5-epoch training, 2 threads, four runs each: with the machine otherwise idle, 50 us and
// 200 us tie (batch 32 1.35-1.46 s against 1.39-1.46, batch 128 0.69-0.86 against 0.69-0.80)
// and 20 us loses at batch 32 (1.94-2.41 s: helpers park between calls); with a busy loop on
// one core, batch 128 takes 1.54-1.79 s at 50 us against 1.84-2.14 at 200 us (1 thread:
// 1.16-1.29).
const helperSpin = 50 * time.Microsecond

// callerSpin is how long a caller waits for its helpers' parts, spinning, before it parks.
// Its core has nothing else of this process to do meanwhile, and a parked caller pays for a
// wake-up once the last part is done: that is the cost when a helper's core is slowed by a
// neighbour (the shared machine's slow minutes, when even one-thread kernels run at half
// speed). Batch-128 training, 2 threads, 200 us against 50 us, alternating every 16 steps
// within one run: slow minutes 503 vs 547 and 585 vs 606 us a step, idle ones 298-319 vs
// 303-318, and with a busy loop on one core 637-790 vs 642-764 (a tie).
const callerSpin = 200 * time.Microsecond

// parter is one parallel call: runPart computes one of its parts.
type parter interface {
	runPart(part int)
}

type helper struct {
	call     atomic.Pointer[parallelCall] // a call handed over and not yet picked up
	claimed  atomic.Bool                  // owned by a call from claim until it is done with it
	sleeping atomic.Bool
	wake     chan struct{}
}

// parallelCall is one call's parts, and the helpers that picked it up and are still in it.
// The caller takes back the hand-overs no helper has picked up once it runs out of parts to
// claim, and waits for the helpers that did, so a late helper never sees the call at all and
// the caller alone returns it to callPool.
type parallelCall struct {
	job      parter
	parts    int32
	next     atomic.Int32 // the first part nobody has claimed
	finished atomic.Int32 // parts computed
	inside   atomic.Int32 // helpers handed the call that have not yet let go of it
	sleeping atomic.Bool  // the caller is parked in wait
	done     chan struct{}
}

const maxHelpers = 256

var (
	helpersMu sync.Mutex
	helpers   []*helper
	callPool  = sync.Pool{New: func() any { return &parallelCall{done: make(chan struct{}, 1)} }}
)

// A Parter is work cut into parts for RunParts.
type Parter interface {
	RunPart(part int)
}

// RunParts calls job.RunPart(part) once for each part in [0, parts) and returns when all
// have returned. The parts run on the calling goroutine and up to min(parts, Threads())-1
// helpers of the worker pool, each taking the next part nobody has taken; kernels called
// inside a part use the helpers left free, or none. It allocates nothing in steady state.
func RunParts(job Parter, parts int) {
	if parts < 1 {
		return
	}
	a := adapterPool.Get().(*partsAdapter)
	a.job = job
	runParallel(a, parts)
	a.job = nil
	adapterPool.Put(a)
}

// partsAdapter gives a Parter the pool's internal interface.
type partsAdapter struct{ job Parter }

func (a *partsAdapter) runPart(part int) { a.job.RunPart(part) }

var adapterPool = sync.Pool{New: func() any { return new(partsAdapter) }}

// workers is how many goroutines a parallel call could have now: the caller and the helpers
// among the first Threads()-1 that no other call holds (a helper not yet started counts as
// free). Kernels split their work into at most that many parts: inside a part of RunParts
// that holds every helper, a product runs whole on the part's goroutine, rather than cut into
// parts that one goroutine then computes one after another. The split never changes a
// result, only how fast it comes.
func workers() int {
	want, hs := usableHelpers()
	free := 1 + want - len(hs) // the caller and the helpers not started
	for _, h := range hs {
		if !h.claimed.Load() {
			free++
		}
	}
	return free
}

// runParallel runs job.runPart(0..parts-1) and returns when all are done, on the calling
// goroutine and up to min(parts, Threads())-1 free helpers.
func runParallel(job parter, parts int) {
	want := min(parts-1, Threads()-1, maxHelpers)
	ensureHelpers(want)
	c := callPool.Get().(*parallelCall)
	c.job, c.parts = job, int32(parts)
	c.next.Store(1) // part 0 is the caller's
	c.finished.Store(0)
	var handed [maxHelpers]*helper
	_, hs := usableHelpers()
	next, n := 0, 0
	for range want {
		h := claim(hs, &next)
		if h == nil {
			break
		}
		c.inside.Add(1)
		handed[n] = h
		n++
		h.call.Store(c)
		if h.sleeping.Load() {
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
	c.run(0)
	c.work()
	c.takeBack(handed[:n])
	c.wait()
	c.job = nil
	callPool.Put(c)
}

// takeBack withdraws the call from the helpers in handed that have not picked it up: every
// part is claimed, so there is nothing left for them to do.
func (c *parallelCall) takeBack(handed []*helper) {
	for _, h := range handed {
		if h.call.CompareAndSwap(c, nil) {
			h.claimed.Store(false)
			c.leave()
		}
	}
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

// work computes parts of the call until none is left to claim.
func (c *parallelCall) work() {
	for {
		part := c.next.Add(1) - 1
		if part >= c.parts {
			return
		}
		c.run(part)
	}
}

// run computes one part of the call.
func (c *parallelCall) run(part int32) {
	c.job.runPart(int(part))
	if c.finished.Add(1) == c.parts {
		c.signal()
	}
}

// leave records that a helper handed the call is done with it.
func (c *parallelCall) leave() {
	if c.inside.Add(-1) == 0 {
		c.signal()
	}
}

// signal wakes the caller if it is parked in wait.
func (c *parallelCall) signal() {
	if c.sleeping.Load() {
		select {
		case c.done <- struct{}{}:
		default:
		}
	}
}

// busy reports whether a part is unfinished or a helper is still in the call.
func (c *parallelCall) busy() bool { return c.finished.Load() < c.parts || c.inside.Load() > 0 }

// wait spins, then parks, until every part of the call is done and every helper that picked
// it up has let go of it.
func (c *parallelCall) wait() {
	deadline := time.Now().Add(callerSpin)
	for i := 0; c.busy(); i++ {
		if i%64 == 63 && time.Now().After(deadline) {
			c.sleeping.Store(true)
			if c.busy() {
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

// usableHelpers returns how many helpers the thread count allows (Threads()-1, at most
// maxHelpers) and those of them that are started: the only ones a call may claim.
func usableHelpers() (want int, started []*helper) {
	want = min(Threads()-1, maxHelpers)
	helpersMu.Lock()
	defer helpersMu.Unlock()
	return want, helpers[:min(len(helpers), want)]
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
		deadline := time.Now().Add(helperSpin)
		for i := 0; ; i++ {
			if c := h.call.Swap(nil); c != nil {
				c.work()
				h.claimed.Store(false)
				c.leave()
				deadline = time.Now().Add(helperSpin)
				continue
			}
			if i%64 == 63 && time.Now().After(deadline) {
				break
			}
			runtime.Gosched()
		}
		h.sleeping.Store(true)
		if h.call.Load() == nil {
			<-h.wake
		}
		h.sleeping.Store(false)
	}
}
