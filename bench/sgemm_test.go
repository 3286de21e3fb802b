package bench

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/lanesml/lanes/kernels"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// gemmShapes: the MLP's four products at batch 32, a larger batch, and squares.
var gemmShapes = []gemmShape{
	{m: 32, k: 784, n: 128},
	{m: 784, k: 32, n: 128, transA: true},
	{m: 32, k: 128, n: 10},
	{m: 32, k: 10, n: 128, transB: true},
	{m: 256, k: 784, n: 128},
	{m: 256, k: 256, n: 256},
	{m: 512, k: 512, n: 512},
	{m: 1024, k: 1024, n: 1024},
	{m: 2048, k: 2048, n: 2048},
}

func reportGFLOPS(b *testing.B, s gemmShape) {
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOPS")
}

// BenchmarkSgemm runs every tier and gonum on every shape at 1 thread and at GOMAXPROCS:
// BenchmarkSgemm/<tier>/<shape>/threads=<n>, with a GFLOPS metric.
func BenchmarkSgemm(b *testing.B) {
	defer kernels.SetThreads(0)
	forEachTier(b, func(b *testing.B) {
		for _, s := range gemmShapes {
			if kernels.ISA() == "generic" && s.m*s.n*s.k > 512*512*512 {
				continue // minutes per iteration, and not what the generic tier is for
			}
			for _, th := range threadCounts() {
				b.Run(fmt.Sprintf("%v/threads=%d", s, th), func(b *testing.B) {
					kernels.SetThreads(th)
					a, lda, bm, ldb, c := gemmOperands(s)
					for b.Loop() {
						kernels.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					reportGFLOPS(b, s)
				})
			}
		}
	})
	b.Run("gonum", func(b *testing.B) {
		impl := gonum.Implementation{}
		tr := func(t bool) blas.Transpose {
			if t {
				return blas.Trans
			}
			return blas.NoTrans
		}
		for _, s := range gemmShapes {
			if s.m*s.n*s.k > 512*512*512 {
				continue // gonum takes seconds per call here
			}
			for _, th := range threadCounts() {
				b.Run(fmt.Sprintf("%v/threads=%d", s, th), func(b *testing.B) {
					defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(th)) // gonum splits work by GOMAXPROCS
					a, lda, bm, ldb, c := gemmOperands(s)
					for b.Loop() {
						impl.Sgemm(tr(s.transA), tr(s.transB), s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					reportGFLOPS(b, s)
				})
			}
		}
	})
}

// BenchmarkSgemmZerosInA runs the MLP's two layer-1 products with an A that is 81% zeros, as
// a batch of MNIST images is, so that Sgemm takes its sparse path:
// BenchmarkSgemmZerosInA/<tier>/<shape>/threads=<n>, and gonum (which also skips zeros of A
// when B is not transposed) on the same data. GFLOPS counts the dense product's
// multiply-adds, so it compares with BenchmarkSgemm's figures for the same shape.
func BenchmarkSgemmZerosInA(b *testing.B) {
	defer kernels.SetThreads(0)
	shapes := []gemmShape{{m: 32, k: 784, n: 128}, {m: 784, k: 32, n: 128, transA: true}}
	operands := func(s gemmShape) (a []float32, lda int, bm []float32, ldb int, c []float32) {
		a, lda, bm, ldb, c = gemmOperands(s)
		for i := range a {
			if i%100 >= 19 { // 19% nonzero, spread over every row and column
				a[i] = 0
			}
		}
		return a, lda, bm, ldb, c
	}
	forEachTier(b, func(b *testing.B) {
		for _, s := range shapes {
			for _, th := range threadCounts() {
				b.Run(fmt.Sprintf("%v/threads=%d", s, th), func(b *testing.B) {
					kernels.SetThreads(th)
					a, lda, bm, ldb, c := operands(s)
					for b.Loop() {
						kernels.Sgemm(s.transA, false, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					reportGFLOPS(b, s)
				})
			}
		}
	})
	b.Run("gonum", func(b *testing.B) {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%v/threads=1", s), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
				a, lda, bm, ldb, c := operands(s)
				tA := blas.NoTrans
				if s.transA {
					tA = blas.Trans
				}
				for b.Loop() {
					gonum.Implementation{}.Sgemm(tA, blas.NoTrans, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				reportGFLOPS(b, s)
			})
		}
	})
}

// BenchmarkSgemmBytes runs BenchmarkSgemmZerosInA's products with A as bytes that stand for
// scale times their value (kernels.SgemmBytes), as a first layer fed 8-bit images runs them:
// BenchmarkSgemmBytes/<tier>/<shape>/threads=<n>, with the same 19% of A nonzero, so that
// its figures compare with those of the float A.
func BenchmarkSgemmBytes(b *testing.B) {
	defer kernels.SetThreads(0)
	shapes := []gemmShape{{m: 32, k: 784, n: 128}, {m: 784, k: 32, n: 128, transA: true}, {m: 128, k: 784, n: 128}, {m: 784, k: 128, n: 128, transA: true}}
	forEachTier(b, func(b *testing.B) {
		for _, s := range shapes {
			for _, th := range threadCounts() {
				b.Run(fmt.Sprintf("%v/threads=%d", s, th), func(b *testing.B) {
					kernels.SetThreads(th)
					_, lda, bm, ldb, c := gemmOperands(s)
					a := make([]byte, s.m*s.k)
					for i := range a {
						if i%100 < 19 { // 19% nonzero, spread over every row and column
							a[i] = byte(1 + i%255)
						}
					}
					for b.Loop() {
						kernels.SgemmBytes(s.transA, s.m, s.n, s.k, 1, a, 1.0/255, lda, bm, ldb, 0, c, s.n)
					}
					reportGFLOPS(b, s)
				})
			}
		}
	})
}
