package main

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// firstTwoCPUs returns the two lowest CPUs this process may run on, or ok false when it
// may run on fewer than two.
func firstTwoCPUs() (a, b int, ok bool) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0, 0, false
	}
	var cpus []int
	for c := 0; c < 1024 && len(cpus) < 2; c++ {
		if set.IsSet(c) {
			cpus = append(cpus, c)
		}
	}
	if len(cpus) < 2 {
		return 0, 0, false
	}
	return cpus[0], cpus[1], true
}

// coreRoundTrip measures how long one cache line takes to go from CPU a to CPU b and back:
// two threads, pinned one to each, hand a counter to and fro. It returns the best of five
// runs of 20,000 round trips (a descheduled thread spoils a run, not the figure). Each
// pinned thread ends with its goroutine, so no other goroutine inherits its affinity. A
// run that takes over a second (the CPUs busy with other work) ends the measurement with an
// error, so the whole takes a few seconds at most.
func coreRoundTrip(a, b int) (time.Duration, error) {
	const trips, runs = 20000, 5
	var turn struct {
		_ [64]byte
		n atomic.Int64 // odd: b's move; even: a's
		_ [64]byte
	}
	errs := make([]error, 2)
	best := time.Duration(1 << 62)
	var wg sync.WaitGroup
	player := func(id, cpu int) {
		defer wg.Done()
		runtime.LockOSThread() // never unlocked: the thread exits with the goroutine
		var set unix.CPUSet
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			errs[id] = fmt.Errorf("pinning a thread to CPU %d: %w", cpu, err)
			turn.n.Store(-1) // release the other player
			return
		}
		deadline := time.Now().Add(time.Second)
		for r := 0; r < runs; r++ {
			start := time.Now()
			for i := 0; i < trips; i++ {
				mine := int64(2*(r*trips+i) + id)
				for spins := 0; ; spins++ {
					v := turn.n.Load()
					if v == mine {
						break
					}
					if v < 0 {
						return
					}
					if spins&0xffff == 0xffff && time.Now().After(deadline) {
						errs[id] = errNoAnswer
						turn.n.Store(-1)
						return
					}
				}
				if !turn.n.CompareAndSwap(mine, mine+1) { // the other player gave up
					return
				}
			}
			if id == 0 {
				best = min(best, time.Since(start)/trips)
			}
			deadline = time.Now().Add(time.Second)
		}
	}
	wg.Add(2)
	go player(0, a)
	go player(1, b)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return best, nil
}
