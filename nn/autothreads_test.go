package nn

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/lanesml/lanes/kernels"
)

// fakeClock is a clock that moves only when told.
type fakeClock struct{ now time.Time }

func (c *fakeClock) read() time.Time { return c.now }

// fakeSteps drives an AutoThreads as Fit would, on clock, which moves on by cost(workers)
// at every step, and returns the worker counts the steps ran on.
func fakeSteps(a *AutoThreads, clock *fakeClock, steps int, cost func(workers int) time.Duration) []int {
	a.clock = clock.read
	ran := make([]int, steps)
	for i := range ran {
		ran[i] = kernels.Threads()
		clock.now = clock.now.Add(cost(ran[i]))
		a.OnBatchEnd(BatchInfo{})
	}
	return ran
}

// TestAutoThreadsChoosesTheFastest: on a clock where each worker count has its own step
// time, AutoThreads settles on the fastest count, tries the others again later, and follows
// a change of which is fastest; timed noise on a switch's first steps does not mislead it.
func TestAutoThreadsChoosesTheFastest(t *testing.T) {
	defer kernels.SetThreads(0)
	kernels.SetThreads(4)
	fastest := 2
	cost := func(workers int) time.Duration {
		d := 100 * time.Microsecond
		if workers == fastest {
			d = 60 * time.Microsecond
		}
		return d
	}
	a, clock := &AutoThreads{Max: 4, Every: 20 * time.Millisecond}, &fakeClock{}
	ran := fakeSteps(a, clock, 2000, cost)
	if got := kernels.Threads(); got != 2 {
		t.Fatalf("settled on %d workers, want 2, the fastest", got)
	}
	tried := map[int]bool{}
	for _, n := range ran {
		tried[n] = true
	}
	if !tried[1] || !tried[2] || !tried[4] {
		t.Fatalf("tried %v, want 1, 2 and 4", tried)
	}
	fastest = 1 // the machine changes: now 1 worker is fastest
	ran = fakeSteps(a, clock, 2000, cost)
	if got := kernels.Threads(); got != 1 {
		t.Fatalf("after the change, settled on %d workers, want 1", got)
	}
	ones := 0
	for _, n := range ran[1000:] {
		if n == 1 {
			ones++
		}
	}
	if ones < 900 {
		t.Fatalf("%d of the last 1000 steps ran on 1 worker, want most", ones)
	}

	// A count whose first steps after a switch are slow but that is faster once settled
	// still wins, and a count that is slow throughout never does.
	kernels.SetThreads(1)
	sinceSwitch, last := 0, 0
	b := &AutoThreads{Max: 2}
	fakeSteps(b, &fakeClock{}, 5000, func(workers int) time.Duration {
		if workers != last {
			sinceSwitch, last = 0, workers
		}
		sinceSwitch++
		if workers == 2 && sinceSwitch > 1 {
			return 50 * time.Microsecond
		}
		return 100 * time.Microsecond
	})
	if got := kernels.Threads(); got != 2 {
		t.Fatalf("settled on %d workers, want 2, fast after its first step", got)
	}
}

// TestAutoThreadsWalksToFarCounts: a trial tries only the counts next to the chosen one
// (from 8 workers, 4), and the choice reaches a count further away one move at a time.
func TestAutoThreadsWalksToFarCounts(t *testing.T) {
	defer kernels.SetThreads(0)
	kernels.SetThreads(8)
	ran := fakeSteps(&AutoThreads{Max: 8}, &fakeClock{}, 20000, func(workers int) time.Duration {
		return time.Duration(workers) * 10 * time.Microsecond // fewer is faster
	})
	var order []int // the counts in the order they were first used
	for _, n := range ran {
		if !slices.Contains(order, n) {
			order = append(order, n)
		}
	}
	if !slices.Equal(order, []int{8, 4, 2, 1}) {
		t.Fatalf("counts first used in the order %v, want 8, 4, 2, 1", order)
	}
	if got := kernels.Threads(); got != 1 {
		t.Fatalf("settled on %d workers, want 1", got)
	}
}

// TestAutoThreadsOneWorker: with nothing to choose from, AutoThreads changes nothing.
func TestAutoThreadsOneWorker(t *testing.T) {
	defer kernels.SetThreads(0)
	kernels.SetThreads(1)
	for _, n := range fakeSteps(&AutoThreads{Max: 1}, &fakeClock{}, 500, func(int) time.Duration { return time.Millisecond }) {
		if n != 1 {
			t.Fatalf("a step ran on %d workers with Max 1", n)
		}
	}
}

// TestAutoThreadsKeepsTheWeights: training with AutoThreads, which here runs steps on 1, 2
// and 4 workers, gives the weights of training on 1 worker, to the bit.
func TestAutoThreadsKeepsTheWeights(t *testing.T) {
	defer kernels.SetThreads(0)
	data := randomData(1280)
	cfg := FitConfig{Epochs: 4, BatchSize: 64, Shuffle: true, Seed: 5} // 80 steps
	kernels.SetThreads(1)
	serial := smallModel(7)
	if _, err := serial.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	counter := &threadCounter{seen: map[int]int{}}
	// A clock on which more workers are faster, so that AutoThreads moves from 1 to 2 to 4
	// and the steps run on all three.
	now := time.Unix(0, 0)
	a := &AutoThreads{Max: 4, Every: time.Nanosecond, clock: func() time.Time {
		now = now.Add(time.Duration(400/kernels.Threads()) * time.Microsecond)
		return now
	}}
	cfg.Callbacks = []Callback{counter, a} // counter sees the count each step ran on
	m := smallModel(7)
	if _, err := m.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	if len(counter.seen) < 3 {
		t.Fatalf("the steps ran on %v workers: AutoThreads did not try 1, 2 and 4", counter.seen)
	}
	ws, w := weights(serial), weights(m)
	for i := range ws {
		if math.Float32bits(w[i]) != math.Float32bits(ws[i]) {
			t.Fatalf("weight %d is %v with AutoThreads, %v on 1 worker", i, w[i], ws[i])
		}
	}
}

// threadCounter counts the steps run on each worker count.
type threadCounter struct{ seen map[int]int }

func (c *threadCounter) OnBatchEnd(BatchInfo)                       { c.seen[kernels.Threads()]++ }
func (c *threadCounter) OnEpochEnd(*Model, EpochInfo) (bool, error) { return false, nil }
