package kernels

import (
	"math"
	"runtime"
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

// nestedJob counts its parts' runs, and in each part calls a parallel kernel and records
// how many workers it saw. With together, each part waits for every part to start before it
// looks, and for every part to have looked before it goes on.
type nestedJob struct {
	runs             []atomic.Int32
	seen             []int
	x, y             []float32
	together         bool
	started, counted atomic.Int32
}

func (j *nestedJob) RunPart(part int) {
	j.runs[part].Add(1)
	meet := func(c *atomic.Int32) {
		for c.Add(1); j.together && int(c.Load()) < len(j.runs); {
			runtime.Gosched()
		}
	}
	meet(&j.started)
	j.seen[part] = workers()
	meet(&j.counted)
	n := len(j.x) / len(j.runs)
	AdamUpdate(j.x[part*n:(part+1)*n], j.y[part*n:(part+1)*n], make([]float32, n), make([]float32, n), 0.1, 0.9, 0.999, 1e-7, 0, 1)
}

// TestRunParts runs every part once for part counts below, at and above the thread count,
// with kernels called inside the parts; a part that runs while every helper is held must
// see one worker, so that its kernels run whole.
func TestRunParts(t *testing.T) {
	defer SetThreads(0)
	for _, threads := range []int{1, 2, 3} {
		SetThreads(threads)
		for _, parts := range []int{0, 1, 2, 3, 5} {
			reps := 20
			if testing.Short() {
				reps = 4
			}
			for range reps {
				job := &nestedJob{runs: make([]atomic.Int32, parts), seen: make([]int, parts),
					x: make([]float32, 1<<17), y: make([]float32, 1<<17), together: parts == threads}
				for i := range job.y {
					job.y[i] = 1
				}
				RunParts(job, parts)
				for p := range job.runs {
					if n := job.runs[p].Load(); n != 1 {
						t.Fatalf("threads=%d, %d parts: part %d ran %d times", threads, parts, p, n)
					}
				}
				for i, x := range job.x[:parts*(len(job.x)/max(parts, 1))] {
					if math.Abs(float64(x)+0.1) > 1e-6 {
						t.Fatalf("threads=%d, %d parts: the kernel inside a part left x[%d] = %v, want -0.1", threads, parts, i, x)
					}
				}
				if job.together && threads > 1 {
					for p, w := range job.seen {
						if w != 1 {
							t.Fatalf("threads=%d, %d parts: part %d saw %d workers while every helper was held", threads, parts, p, w)
						}
					}
				}
			}
		}
	}
}
