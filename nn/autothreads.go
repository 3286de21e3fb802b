package nn

import (
	"math"
	"runtime"
	"slices"
	"time"

	"github.com/lanesml/lanes/kernels"
)

// AutoThreads is a Callback that chooses, while Fit runs, how many workers the kernels use
// (kernels.SetThreads), among 1, 2, 4, ... up to Max. Now and then it runs a few steps on the
// counts next to the one in use (half and twice as many), and moves to the fastest: which is
// fastest changes with what else the machine runs and, on a shared virtual machine, with
// where the host puts its CPUs. (On the 2-core development machine, with another process
// busy on one core, 5 epochs took 0.54 s on 1 worker against 0.87 on 2 at batch 128, and
// 0.91 against 1.60 at batch 32; on an idle machine 2 workers win by 1.5 times.) Trying only
// the neighbours keeps a trial cheap on a machine of many cores, where a step on 1 worker
// could take as long as dozens on all of them; a count further away is reached one move at a
// time. A training step gives the same weights, to the bit, on any number of workers, so the
// choice changes how fast training goes and nothing else. When Fit returns, the count of its
// last step stays set: the last choice, or the count being tried if Fit stopped in a trial.
//
// The count in use is timed on its latest steps; another count on steps just after it is
// set, which pay for moving the weights to other cores' caches, so a change must win by that
// much too. Step times are the times between calls of OnBatchEnd: other callbacks' work
// counts as part of each step. AutoThreads sets the worker count of the whole process, so two
// models trained at once with one each would both set it.
type AutoThreads struct {
	// Max is the most workers tried; 0 means runtime.GOMAXPROCS(0).
	Max int
	// Every is the longest a choice runs before its neighbours are tried again; 0 means
	// 2 s. After a trial that changes the choice, the next comes 50 ms later (or Every, if
	// shorter); each trial that keeps it doubles the wait, up to Every.
	Every time.Duration

	counts  []int             // the worker counts to choose from, fewest first
	chosen  int               // the count in use outside trials
	recent  []time.Duration   // the chosen count's latest step times, a ring
	steady  int               // steps on the chosen count since it was set (or a trial ended)
	times   [][]time.Duration // a trial's step times, by index in counts
	trial   []int             // the trial under way: an index in counts for each step
	next    int               // the entry of trial the running step is; -1 between trials
	due     time.Time         // when the next trial may start
	wait    time.Duration     // from the last trial to the next
	stepEnd time.Time         // when the last step ended
	clock   func() time.Time  // time.Now, or a test's
}

// A trial runs settleSteps untimed and timedSteps timed steps on each neighbour of the chosen
// count (the first steps after a change are not timed: the helpers wake up, the data starts
// to move), whose last timedSteps steps are its figure. On 2 cores that is 10 steps on the other
// count, about 0.4 ms more than on the faster one at batch 32.
const (
	settleSteps = 2
	timedSteps  = 8
	minSteady   = 16                    // steps on a choice before a trial: its latest are warm
	minWait     = 50 * time.Millisecond // from a trial that changed the choice to the next
)

// OnBatchEnd times the step that just ended and sets the worker count for the next one.
func (a *AutoThreads) OnBatchEnd(BatchInfo) {
	if a.clock == nil {
		a.clock = time.Now
	}
	now := a.clock()
	if a.counts == nil {
		a.start(now)
	}
	took := now.Sub(a.stepEnd)
	a.stepEnd = now
	if a.next < 0 {
		a.recent[a.steady%timedSteps] = took
		a.steady++
		if len(a.counts) > 1 && a.steady >= max(minSteady, timedSteps) && !now.Before(a.due) {
			a.startTrial()
		}
		return
	}
	if a.next%(settleSteps+timedSteps) >= settleSteps {
		i := a.trial[a.next]
		a.times[i] = append(a.times[i], took)
	}
	if a.next++; a.next < len(a.trial) {
		kernels.SetThreads(a.counts[a.trial[a.next]])
		return
	}
	choice := a.fastest()
	if choice == a.chosen {
		a.wait = min(2*a.wait, a.every())
	} else {
		a.chosen, a.wait = choice, min(minWait, a.every())
	}
	kernels.SetThreads(choice)
	a.next, a.steady, a.due = -1, 0, now.Add(a.wait)
}

// OnEpochEnd does nothing: AutoThreads decides between steps.
func (a *AutoThreads) OnEpochEnd(*Model, EpochInfo) (bool, error) { return false, nil }

// start lists the counts to choose from and takes the one in use as the first choice.
func (a *AutoThreads) start(now time.Time) {
	most := a.Max
	if most <= 0 {
		most = runtime.GOMAXPROCS(0)
	}
	for n := 1; n < most; n *= 2 {
		a.counts = append(a.counts, n)
	}
	a.counts = append(a.counts, most)
	a.chosen = kernels.Threads()
	if !slices.Contains(a.counts, a.chosen) {
		a.chosen = most
		kernels.SetThreads(most)
	}
	a.recent = make([]time.Duration, timedSteps)
	a.times = make([][]time.Duration, len(a.counts))
	for i := range a.times {
		a.times[i] = make([]time.Duration, 0, timedSteps)
	}
	a.next, a.wait, a.stepEnd, a.due = -1, min(minWait, a.every()), now, now
}

// startTrial plans a trial of the counts next to the chosen one, whose figures are its last
// steps, and sets the first count to try.
func (a *AutoThreads) startTrial() {
	a.trial = a.trial[:0]
	c := slices.Index(a.counts, a.chosen)
	for i := range a.counts {
		a.times[i] = a.times[i][:0]
		switch i {
		case c:
			a.times[i] = append(a.times[i], a.recent...)
		case c - 1, c + 1:
			for range settleSteps + timedSteps {
				a.trial = append(a.trial, i)
			}
		}
	}
	a.next = 0
	kernels.SetThreads(a.counts[a.trial[0]])
}

func (a *AutoThreads) every() time.Duration {
	if a.Every > 0 {
		return a.Every
	}
	return 2 * time.Second
}

// fastest returns the count whose timed steps in the trial have the smallest median, the
// fewest workers on a tie.
func (a *AutoThreads) fastest() int {
	best, bestTime := a.chosen, time.Duration(math.MaxInt64)
	for i, ts := range a.times {
		if len(ts) == 0 {
			continue // not tried
		}
		slices.Sort(ts)
		if m := ts[len(ts)/2]; m < bestTime {
			best, bestTime = a.counts[i], m
		}
	}
	return best
}
