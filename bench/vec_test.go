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

// BenchmarkBytesToFloat32 converts one MNIST batch of 32 images of pixels (784 bytes each),
// counted as 5 bytes an element (one read, four written).
func BenchmarkBytesToFloat32(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		const n = 32 * 784
		src, dst := make([]byte, n), make([]float32, n)
		for i := range src {
			src[i] = byte(i)
		}
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				kernels.BytesToFloat32(dst, src, 1.0/255)
			}
			reportGBs(b, 5*n)
		})
	})
}

// BenchmarkGatherBytesToFloat32 draws shuffled batches of 784-byte rows from 60,000 (47 MB,
// MNIST's training set in size, so the rows are cache misses) as a training loop does:
// BenchmarkGatherBytesToFloat32/<tier>/batch<N>/threads=<n>, rows per second.
func BenchmarkGatherBytesToFloat32(b *testing.B) {
	defer kernels.SetThreads(0)
	const rows, width = 60000, 784
	src := make([]byte, rows*width)
	for i := range src {
		src[i] = byte(i * 7)
	}
	order := rand.New(rand.NewPCG(1, 2)).Perm(rows)
	forEachTier(b, func(b *testing.B) {
		for _, batch := range []int{32, 128} {
			for _, th := range threadCounts() {
				b.Run(fmt.Sprintf("batch%d/threads=%d", batch, th), func(b *testing.B) {
					kernels.SetThreads(th)
					dst := make([]float32, batch*width)
					next := 0
					for b.Loop() {
						if next+batch > rows {
							next = 0
						}
						kernels.GatherBytesToFloat32(dst, src, order[next:next+batch], width, 1.0/255)
						next += batch
					}
					b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "rows/s")
				})
			}
		}
	})
}

var softmaxShapes = [][2]int{{32, 10}, {256, 1000}, {4096, 1000}, {64, 32000}}

// BenchmarkSoftmax reports GB/s as the baselines count it: 8 bytes (read + write) an element.
func BenchmarkSoftmax(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, s := range softmaxShapes {
			rows, cols := s[0], s[1]
			x, y := randomVec(rows*cols), make([]float32, rows*cols)
			b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
				for b.Loop() {
					kernels.Softmax(y, x, rows, cols)
				}
				reportGBs(b, 8*rows*cols)
			})
		}
	})
}

func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, s := range [][2]int{{32, 10}, {128, 10}, {256, 1000}} {
			rows, cols := s[0], s[1]
			x, grad := randomVec(rows*cols), make([]float32, rows*cols)
			labels := make([]int32, rows)
			for i := range labels {
				labels[i] = int32(i % cols)
			}
			b.Run(fmt.Sprintf("%dx%d", rows, cols), func(b *testing.B) {
				for b.Loop() {
					sink += kernels.SoftmaxCrossEntropy(grad, x, labels, rows, cols)
				}
				reportGBs(b, 8*rows*cols)
			})
		}
	})
}

// BenchmarkRowKernels times the row kernels of a training step on the MLP's batch-128
// shapes (10 classes, 128 hidden units): BenchmarkRowKernels/<tier>/<kernel>/<rows>x<cols>.
func BenchmarkRowKernels(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, cols := range []int{10, 128} {
			const rows = 128
			x, v := randomVec(rows*cols), randomVec(cols)
			idx := make([]int32, rows)
			shape := fmt.Sprintf("%dx%d", rows, cols)
			b.Run("AddBias/"+shape, func(b *testing.B) {
				for b.Loop() {
					kernels.AddBias(x, v, rows, cols)
				}
			})
			b.Run("SumRows/"+shape, func(b *testing.B) {
				for b.Loop() {
					kernels.SumRows(v, x, rows, cols)
				}
			})
			b.Run("ArgmaxRows/"+shape, func(b *testing.B) {
				for b.Loop() {
					kernels.ArgmaxRows(idx, x, rows, cols)
				}
			})
		}
	})
}

// BenchmarkActivation runs the element-wise kernels out of place, 8 bytes an element.
func BenchmarkActivation(b *testing.B) {
	funcs := []struct {
		name string
		f    func(dst, src []float32)
	}{{"exp", kernels.Exp}, {"tanh", kernels.Tanh}, {"sigmoid", kernels.Sigmoid},
		{"gelu", kernels.GELU}, {"relu", kernels.ReLU}}
	forEachTier(b, func(b *testing.B) {
		for _, fn := range funcs {
			for _, n := range []int{4096, 1 << 16, 1 << 20} {
				x, y := randomVec(n), make([]float32, n)
				b.Run(fmt.Sprintf("%s/%d", fn.name, n), func(b *testing.B) {
					for b.Loop() {
						fn.f(y, x)
					}
					reportGBs(b, 8*n)
				})
			}
		}
	})
}

func BenchmarkAdamUpdate(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		p, g := randomVec(mlpParams), randomVec(mlpParams)
		m, v := make([]float32, mlpParams), make([]float32, mlpParams)
		b.Run(fmt.Sprint(mlpParams), func(b *testing.B) {
			step := 0
			for b.Loop() {
				step++
				kernels.AdamUpdate(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7, 0, step)
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "us/op")
		})
	})
}

// BenchmarkAdamUpdates is one Adam step over the MLP's four parameters (784x128, 128,
// 128x10, 10): BenchmarkAdamUpdates/<tier>/<how>/threads=<n>, where how is "each" (an
// AdamUpdate call per parameter, as Adam.Step did) or "together" (one AdamUpdates call).
func BenchmarkAdamUpdates(b *testing.B) {
	defer kernels.SetThreads(0)
	forEachTier(b, func(b *testing.B) {
		var ps, gs, ms, vs [][]float32
		for _, n := range []int{784 * 128, 128, 128 * 10, 10} {
			ps, gs = append(ps, randomVec(n)), append(gs, randomVec(n))
			ms, vs = append(ms, make([]float32, n)), append(vs, make([]float32, n))
		}
		for _, th := range threadCounts() {
			for _, how := range []string{"each", "together"} {
				b.Run(fmt.Sprintf("%s/threads=%d", how, th), func(b *testing.B) {
					kernels.SetThreads(th)
					step := 0
					for b.Loop() {
						step++
						if how == "together" {
							kernels.AdamUpdates(ps, gs, ms, vs, 1e-3, 0.9, 0.999, 1e-7, 0, step)
							continue
						}
						for i := range ps {
							kernels.AdamUpdate(ps[i], gs[i], ms[i], vs[i], 1e-3, 0.9, 0.999, 1e-7, 0, step)
						}
					}
					b.ReportMetric(b.Elapsed().Seconds()*1e6/float64(b.N), "us/op")
				})
			}
		}
	})
}
