package kernels

import (
	"sync/atomic"
	"testing"
)

// countingJob counts how many times each part runs.
type countingJob struct{ runs []atomic.Int32 }

func (j *countingJob) runPart(part int) { j.runs[part].Add(1) }

// TestLateHelperLeavesItsPart plays a helper that was handed a call but starts only after
// the caller has finished: the caller must have computed every part itself, each once, and
// the late helper must claim none, nor may the call go back to the pool before it lets go.
func TestLateHelperLeavesItsPart(t *testing.T) {
	const parts = 5
	job := &countingJob{runs: make([]atomic.Int32, parts)}
	c := &parallelCall{done: make(chan struct{}, 1), job: job, parts: parts}
	c.holders.Store(2) // the caller and one helper that has not started
	c.work()           // the caller
	c.wait()
	for p := range job.runs {
		if n := job.runs[p].Load(); n != 1 {
			t.Fatalf("part %d ran %d times before the helper started", p, n)
		}
	}
	c.release() // the caller lets go: the helper still holds the call
	if c.holders.Load() != 1 {
		t.Fatalf("holders = %d after the caller let go, want the late helper's 1", c.holders.Load())
	}
	c.work() // the late helper finds nothing left
	c.release()
	for p := range job.runs {
		if n := job.runs[p].Load(); n != 1 {
			t.Fatalf("part %d ran %d times after the late helper", p, n)
		}
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
