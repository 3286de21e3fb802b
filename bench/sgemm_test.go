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
