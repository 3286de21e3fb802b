package bench

import (
	"fmt"
	"testing"

	"github.com/lanesml/lanes/datasets/mnist"
	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/nn"
	"github.com/lanesml/lanes/tensor"
)

// BenchmarkTrainStep is one forward, backward and Adam step of the MNIST MLP on random
// inputs: BenchmarkTrainStep/<tier>/batch<N>, with a samples/s metric.
func BenchmarkTrainStep(b *testing.B) {
	forEachTier(b, func(b *testing.B) {
		for _, batch := range []int{32, 128, 256} {
			b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
				x, _ := tensor.FromSlice(randomVec(batch*784), batch, 784)
				labels := make([]int32, batch)
				for i := range labels {
					labels[i] = int32(i % 10)
				}
				m := mlp()
				data := nn.TensorData{X: x, Y: labels}
				cfg := nn.FitConfig{Epochs: 1, BatchSize: batch}
				for b.Loop() {
					m.Epoch = 0
					if _, err := m.Fit(b.Context(), data, cfg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "samples/s")
				_ = kernels.ISA()
			})
		}
	})
}

// BenchmarkTrainStepThreads is BenchmarkTrainStep at batch 32 with 1 thread and GOMAXPROCS.
func BenchmarkTrainStepThreads(b *testing.B) {
	defer kernels.SetThreads(0)
	for _, th := range threadCounts() {
		b.Run(fmt.Sprintf("%s/batch32/threads=%d", kernels.ISA(), th), func(b *testing.B) {
			kernels.SetThreads(th)
			x, _ := tensor.FromSlice(randomVec(32*784), 32, 784)
			labels := make([]int32, 32)
			m := mlp()
			data := nn.TensorData{X: x, Y: labels}
			cfg := nn.FitConfig{Epochs: 1, BatchSize: 32}
			for b.Loop() {
				m.Epoch = 0
				if _, err := m.Fit(b.Context(), data, cfg); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(32*b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}

// BenchmarkTrainStepMNIST is BenchmarkTrainStep on batches of the real MNIST training set
// (81% zero pixels, which the first layer's products skip; random inputs have none), at
// batch 32 and 128, on every tier: BenchmarkTrainStepMNIST/<tier>/batch<N>, samples/s. It
// is skipped when the MNIST files cannot be found (see mnist.Locate).
func BenchmarkTrainStepMNIST(b *testing.B) {
	dir, err := mnist.Locate()
	if err != nil {
		b.Skip(err)
	}
	train, _, err := mnist.Load(dir)
	if err != nil {
		b.Fatal(err)
	}
	const steps = 256
	forEachTier(b, func(b *testing.B) {
		for _, batch := range []int{32, 128} {
			b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
				data := firstSamples{train, steps * batch}
				m := mlp()
				cfg := nn.FitConfig{Epochs: 1, BatchSize: batch}
				for b.Loop() {
					m.Epoch = 0
					if _, err := m.Fit(b.Context(), data, cfg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(steps*batch*b.N)/b.Elapsed().Seconds(), "samples/s")
			})
		}
	})
}
