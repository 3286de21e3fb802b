package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/lanesml/lanes/kernels"
)

// forEachTier runs b.Run once per available tier, with that tier active.
func forEachTier(b *testing.B, f func(b *testing.B)) {
	before := kernels.ISA()
	defer kernels.SetISA(before)
	for _, tier := range kernels.Available() {
		if err := kernels.SetISA(tier); err != nil {
			b.Fatal(err)
		}
		b.Run(tier, f)
	}
}

func randomVec(n int) []float32 {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// reportGBs reports the bytes an operation moves per call as GB/s.
func reportGBs(b *testing.B, bytesPerOp int) {
	b.ReportMetric(float64(bytesPerOp)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

var vecSizes = []int{256, 4096, 65536}

var sink float32

func BenchmarkDot(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, n := range vecSizes {
			x, y := randomVec(n), randomVec(n)
			b.Run(fmt.Sprint(n), func(b *testing.B) {
				for b.Loop() {
					sink += kernels.Dot(x, y)
				}
				reportGBs(b, 8*n)
			})
		}
	})
}

func BenchmarkAxpy(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, n := range vecSizes {
			x, y := randomVec(n), randomVec(n)
			b.Run(fmt.Sprint(n), func(b *testing.B) {
				for b.Loop() {
					kernels.Axpy(1e-3, x, y)
				}
				reportGBs(b, 12*n) // read x and y, write y
			})
		}
	})
}

func BenchmarkScale(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, n := range vecSizes {
			x := randomVec(n)
			b.Run(fmt.Sprint(n), func(b *testing.B) {
				for b.Loop() {
					kernels.Scale(1.0000001, x)
				}
				reportGBs(b, 8*n)
			})
		}
	})
}
