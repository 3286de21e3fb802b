package kernels

import (
	"runtime"
	"syscall"
	"testing"
)

// threadJob records the OS thread each part ran on.
type threadJob struct{ tids []int }

func (j *threadJob) RunPart(part int) { j.tids[part] = syscall.Gettid() }

// TestCallerRunsPartZero: part 0 of a parallel call always runs on the calling goroutine
// (here locked to its thread, so that its thread tells it apart from the helpers), whatever
// the helpers are doing, so that the same data stays on the same core from call to call.
func TestCallerRunsPartZero(t *testing.T) {
	defer SetThreads(0)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self := syscall.Gettid()
	for _, threads := range []int{2, 3, 4} {
		SetThreads(threads)
		for _, parts := range []int{1, 2, 3, 8} {
			job := &threadJob{tids: make([]int, parts)}
			for i := range 20000 {
				RunParts(job, parts)
				if job.tids[0] != self {
					t.Fatalf("threads=%d parts=%d, call %d: part 0 ran on thread %d, the caller is on %d",
						threads, parts, i, job.tids[0], self)
				}
			}
		}
	}
}
