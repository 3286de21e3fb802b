package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"github.com/lanesml/lanes/datasets/mnist"
	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/nn"
	"github.com/lanesml/lanes/tensor"
)

// Result is one measured figure of lanes bench.
type Result struct {
	Group   string  `json:"group"`   // "sgemm", "vector", "train" or "peak"
	Case    string  `json:"case"`    // the shape or kernel, e.g. "32x784x128" or "softmax 256x1000"
	Tier    string  `json:"tier"`    // "avx512", "avx2", "generic", or "gonum"
	Threads int     `json:"threads"` // worker threads
	Value   float64 `json:"value"`
	Unit    string  `json:"unit"`              // "GFLOPS", "GB/s", "samples/s"
	Size    int     `json:"size,omitempty"`    // for square SGEMM: n of n x n x n
	OfPeak  float64 `json:"of_peak,omitempty"` // SGEMM: share of the tier's measured FMA peak per thread
}

// Options says how long to measure.
type Options struct {
	// Quick measures each case for a short time and skips the largest ones; it finishes in
	// well under 20 seconds.
	Quick bool
	// Progress, when set, hears the name of each case as it starts.
	Progress io.Writer
}

// Run measures the key cases on every available tier, at 1 thread and at GOMAXPROCS, with
// gonum's SGEMM beside them, and returns the figures. It leaves the kernel tier and thread
// count as it found them.
func Run(opt Options) []Result {
	before := kernels.ISA()
	defer kernels.SetISA(before)
	defer kernels.SetThreads(0)
	var out []Result
	data, dataName := trainData()
	for _, tier := range kernels.Available() {
		kernels.SetISA(tier)
		peak := kernels.MeasurePeak(measureTime(opt) / 2)
		out = append(out, Result{Group: "peak", Case: "fma", Tier: tier, Threads: 1, Value: peak, Unit: "GFLOPS"})
		for _, th := range threadCounts() {
			kernels.SetThreads(th)
			for _, s := range runShapes(opt, tier) {
				progress(opt, "sgemm %s %s threads=%d", tier, s, th)
				v := measure(opt, gemmFLOPs(s), func(a, b, c []float32, lda, ldb int) func() {
					return func() { kernels.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
				}, s)
				out = append(out, Result{Group: "sgemm", Case: s.String(), Tier: tier, Threads: th, Value: v, Unit: "GFLOPS",
					Size: squareSize(s), OfPeak: v / (peak * float64(th))})
			}
			out = append(out, vectorResults(opt, tier, th)...)
			progress(opt, "train %s threads=%d", tier, th)
			out = append(out, Result{Group: "train", Case: "mlp batch32 " + dataName, Tier: tier, Threads: th,
				Value: trainSamplesPerSecond(opt, data, 32), Unit: "samples/s"})
		}
	}
	impl := gonum.Implementation{}
	for _, th := range threadCounts() {
		prev := runtime.GOMAXPROCS(th) // gonum splits its work by GOMAXPROCS
		for _, s := range runShapes(opt, "gonum") {
			progress(opt, "sgemm gonum %s threads=%d", s, th)
			v := measure(opt, gemmFLOPs(s), func(a, b, c []float32, lda, ldb int) func() {
				return func() {
					impl.Sgemm(trans(s.transA), trans(s.transB), s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n)
				}
			}, s)
			out = append(out, Result{Group: "sgemm", Case: s.String(), Tier: "gonum", Threads: th, Value: v, Unit: "GFLOPS", Size: squareSize(s)})
		}
		runtime.GOMAXPROCS(prev)
	}
	return out
}

func progress(opt Options, format string, a ...any) {
	if opt.Progress != nil {
		fmt.Fprintf(opt.Progress, format+"\n", a...)
	}
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// runShapes are the MLP's products and squares of growing size; slow implementations skip
// the squares where one call takes longer than the whole quick run can afford.
func runShapes(opt Options, tier string) []gemmShape {
	shapes := []gemmShape{{m: 32, k: 784, n: 128}, {m: 784, k: 32, n: 128, transA: true}, {m: 256, k: 784, n: 128}}
	limit := 2048
	if tier == "generic" || tier == "gonum" {
		limit = 512
	} else if opt.Quick {
		limit = 1024
	}
	for n := 128; n <= limit; n *= 2 {
		shapes = append(shapes, gemmShape{m: n, k: n, n: n})
	}
	return shapes
}

func squareSize(s gemmShape) int {
	if s.m == s.n && s.n == s.k && !s.transA && !s.transB {
		return s.n
	}
	return 0
}

func gemmFLOPs(s gemmShape) float64 { return 2 * float64(s.m) * float64(s.n) * float64(s.k) }

func measureTime(opt Options) time.Duration {
	if opt.Quick {
		return 40 * time.Millisecond
	}
	return 300 * time.Millisecond
}

// timeIt runs f repeatedly for about d, in three rounds, and returns the best seconds per call.
func timeIt(d time.Duration, f func()) float64 {
	f() // warm caches and buffers
	best := 0.0
	for round := 0; round < 3; round++ {
		n := 0
		start := time.Now()
		for time.Since(start) < d/3 || n == 0 {
			f()
			n++
		}
		per := time.Since(start).Seconds() / float64(n)
		if best == 0 || per < best {
			best = per
		}
	}
	return best
}

func measure(opt Options, flops float64, call func(a, b, c []float32, lda, ldb int) func(), s gemmShape) float64 {
	a, lda, b, ldb, c := gemmOperands(s)
	return flops / timeIt(measureTime(opt), call(a, b, c, lda, ldb)) / 1e9
}

func vectorResults(opt Options, tier string, th int) []Result {
	const n = 1 << 16
	x, y := randomVec(n), make([]float32, n)
	sx := randomVec(256 * 1000)
	sy := make([]float32, len(sx))
	p, g := randomVec(mlpParams), randomVec(mlpParams)
	m, v := make([]float32, mlpParams), make([]float32, mlpParams)
	step := 0
	cases := []struct {
		name  string
		bytes int
		f     func()
	}{
		{"softmax 256x1000", 8 * len(sx), func() { kernels.Softmax(sy, sx, 256, 1000) }},
		{"exp 65536", 8 * n, func() { kernels.Exp(y, x) }},
		{"tanh 65536", 8 * n, func() { kernels.Tanh(y, x) }},
		{"sigmoid 65536", 8 * n, func() { kernels.Sigmoid(y, x) }},
		{"relu 65536", 8 * n, func() { kernels.ReLU(y, x) }},
		{"adam 101770", 28 * mlpParams, func() { step++; kernels.AdamUpdate(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7, 0, step) }},
	}
	var out []Result
	for _, c := range cases {
		progress(opt, "%s %s threads=%d", c.name, tier, th)
		sec := timeIt(measureTime(opt), c.f)
		out = append(out, Result{Group: "vector", Case: c.name, Tier: tier, Threads: th, Value: float64(c.bytes) / sec / 1e9, Unit: "GB/s"})
	}
	return out
}

// trainSamples is how many samples a training figure's epoch has: 64 steps at batch 32.
const trainSamples = 64 * 32

// trainData returns what training figures are measured on, and its name: the first
// trainSamples images of MNIST's training set when the files can be found (mnist.Locate),
// otherwise random inputs, which lack MNIST's 81% zeros and so time the dense products
// where MNIST takes Sgemm's sparse path.
func trainData() (nn.Dataset, string) {
	if dir, err := mnist.Locate(); err == nil {
		if train, _, err := mnist.Load(dir); err == nil {
			return firstSamples{train, trainSamples}, "mnist"
		}
	}
	x, _ := tensor.FromSlice(randomVec(trainSamples*784), trainSamples, 784)
	labels := make([]int32, trainSamples)
	for i := range labels {
		labels[i] = int32(i % 10)
	}
	return nn.TensorData{X: x, Y: labels}, "random inputs"
}

// firstSamples is the first n samples of a dataset.
type firstSamples struct {
	nn.Dataset
	n int
}

func (f firstSamples) Len() int { return f.n }

// trainSamplesPerSecond times epochs of full training steps of the MNIST MLP on data.
func trainSamplesPerSecond(opt Options, data nn.Dataset, batch int) float64 {
	m := mlp()
	sec := timeIt(measureTime(opt)*2, func() {
		m.Epoch = 0
		m.Fit(context.Background(), data, nn.FitConfig{Epochs: 1, BatchSize: batch})
	})
	return float64(data.Len()) / sec
}
