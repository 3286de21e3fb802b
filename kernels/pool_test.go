package kernels

import (
	"sync/atomic"
	"testing"
)

// countingJob counts how many times each part runs.
type countingJob struct{ runs []atomic.Int32 }

func (j *countingJob) runPart(part int) { j.runs[part].Add(1) }

// TestLateHelperLeavesItsPart plays a helper that was handed a call but has not picked it
// up when the caller runs out of parts: the caller must have computed every part itself,
// each once, and taken the call back, leaving the helper free and the call with nobody in it.
func TestLateHelperLeavesItsPart(t *testing.T) {
	const parts = 5
	job := &countingJob{runs: make([]atomic.Int32, parts)}
	c := &parallelCall{done: make(chan struct{}, 1), job: job, parts: parts}
	h := &helper{wake: make(chan struct{}, 1)} // no goroutine runs it
	h.claimed.Store(true)
	c.inside.Store(1)
	h.call.Store(c)
	c.work()
	c.takeBack([]*helper{h})
	c.wait()
	for p := range job.runs {
		if n := job.runs[p].Load(); n != 1 {
			t.Fatalf("part %d ran %d times", p, n)
		}
	}
	if h.call.Load() != nil || h.claimed.Load() || c.inside.Load() != 0 {
		t.Fatalf("after the call: helper's call %p, claimed %v; %d helpers in the call", h.call.Load(), h.claimed.Load(), c.inside.Load())
	}
}

// TestRunParallelRunsEachPartOnce runs many calls of many parts back to back, with helpers
// started and busy: every part of every call must run exactly once.
func TestRunParallelRunsEachPartOnce(t *testing.T) {
	for parts := 1; parts <= 9; parts++ {
		for range 200 {
			job := &countingJob{runs: make([]atomic.Int32, parts)}
			runParallel(job, parts)
			for p := range job.runs {
				if n := job.runs[p].Load(); n != 1 {
					t.Fatalf("%d parts: part %d ran %d times", parts, p, n)
				}
			}
		}
	}
}
