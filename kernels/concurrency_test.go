package kernels

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// TestConcurrentCalls runs Sgemm (dense and sparse A) and the vector kernels from many
// goroutines at once (the worker pool shared, helpers claimed and released concurrently) and
// checks each result against the same call made alone.
func TestConcurrentCalls(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	type job struct {
		m, n, k int
		a, b    []float32
		want    []float32
		logits  []float32
		wantSm  []float32
	}
	r := rand.New(rand.NewPCG(61, 62))
	jobs := make([]job, 16)
	for i := range jobs {
		j := &jobs[i]
		j.m, j.n, j.k = 40+i*13, 64+i*7, 100+i*11
		if i%4 == 0 || i == 1 {
			j.m, j.n, j.k = 256, 256, 256 // large enough to be split across helpers
		}
		j.a, j.b = make([]float32, j.m*j.k), make([]float32, j.k*j.n)
		uniform(r, j.a)
		uniform(r, j.b)
		if i%2 == 1 { // A 85% zeros: the sparse path
			for x := range j.a {
				if r.IntN(100) < 85 {
					j.a[x] = 0
				}
			}
		}
		j.want = make([]float32, j.m*j.n)
		Sgemm(false, false, j.m, j.n, j.k, 1, j.a, j.k, j.b, j.n, 0, j.want, j.n)
		j.logits = append([]float32(nil), j.want...)
		j.wantSm = make([]float32, len(j.logits))
		Softmax(j.wantSm, j.logits, j.m, j.n)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for rep := 0; rep < 5; rep++ {
				j := &jobs[(g+rep)%len(jobs)]
				c := make([]float32, j.m*j.n)
				Sgemm(false, false, j.m, j.n, j.k, 1, j.a, j.k, j.b, j.n, 0, c, j.n)
				sm := make([]float32, len(c))
				Softmax(sm, c, j.m, j.n)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(j.want[i]) || math.Float32bits(sm[i]) != math.Float32bits(j.wantSm[i]) {
						errs <- "a concurrent call's result differs from the same call alone"
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
