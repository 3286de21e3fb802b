package nn

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/lanesml/lanes/kernels"
)

// rowNets are networks and losses that cover every layer and loss the row-parallel step
// cuts into blocks, including a network whose first layer is no Dense.
var rowNets = []struct {
	name string
	make func() *Model
}{
	{"relu-crossentropy", func() *Model { return smallModel(7) }},
	{"sigmoid-tanh-softmax-mse", func() *Model {
		m := &Model{Net: NewSequential(NewDense(10, 12), NewSigmoid(), NewDense(12, 8), NewTanh(), NewDense(8, 3), NewSoftmax()),
			Loss: MeanSquaredError{}, Optimizer: &Adam{LR: 0.01}}
		m.Init(8)
		return m
	}},
	{"frozen-below-layer-2", func() *Model {
		frozen := NewDense(16, 8)
		frozen.NoInputGrad = true // layers 0 and 1 get no gradient, as in Sequential.Backward
		m := &Model{Net: NewSequential(NewDense(10, 16), NewReLU(), frozen, NewReLU(), NewDense(8, 3)),
			Loss: SparseCrossEntropy{}, Optimizer: &Adam{LR: 0.01}}
		m.Init(10)
		return m
	}},
	{"gelu-first", func() *Model {
		m := &Model{Net: NewSequential(NewGELU(), NewDense(10, 16), NewReLU(), NewDense(16, 3)),
			Loss: SparseCrossEntropy{}, Optimizer: &Adam{LR: 0.01}}
		m.Init(9)
		return m
	}},
}

// TestRowStepMatchesSerialStep trains each network with the row-parallel step (batches of 64
// cut into 2 and 4 blocks) and with the serial one (1 thread): the weights must be the same
// to the bit, the reported losses equal but for the last bits (they are summed in another
// order), and the row step must have been the one that ran.
func TestRowStepMatchesSerialStep(t *testing.T) {
	defer kernels.SetThreads(0)
	data := randomData(320)
	cfg := FitConfig{Epochs: 2, BatchSize: 64, Shuffle: true, Seed: 5}
	for _, net := range rowNets {
		kernels.SetThreads(1)
		serial := net.make()
		hs, err := serial.Fit(context.Background(), data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if serial.rows != nil {
			t.Fatalf("%s: 1 thread took the row-parallel step", net.name)
		}
		for _, threads := range []int{2, 4} {
			kernels.SetThreads(threads)
			m := net.make()
			h, err := m.Fit(context.Background(), data, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if m.rows == nil || m.rows.blocks != threads {
				t.Fatalf("%s, %d threads: the row-parallel step did not run in %d blocks", net.name, threads, threads)
			}
			ws, w := weights(serial), weights(m)
			for i := range ws {
				if math.Float32bits(w[i]) != math.Float32bits(ws[i]) {
					t.Fatalf("%s, %d threads: weight %d is %v, serial %v", net.name, threads, i, w[i], ws[i])
				}
			}
			for e := range h.Epochs {
				got, want := h.Epochs[e].Loss, hs.Epochs[e].Loss
				if math.Abs(got-want) > 1e-6*math.Abs(want) {
					t.Errorf("%s, %d threads: epoch %d loss %v, serial %v", net.name, threads, e+1, got, want)
				}
			}
		}
	}
}

// TestRowStepFollowsNetworkChanges: a layer swapped between two Fit calls is the one the
// next row-parallel step runs.
func TestRowStepFollowsNetworkChanges(t *testing.T) {
	defer kernels.SetThreads(0)
	kernels.SetThreads(2)
	data := randomData(128)
	cfg := FitConfig{Epochs: 1, BatchSize: 64}
	m := smallModel(3)
	if _, err := m.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	swapped := NewDense(16, 3)
	m.Net.Layers[2] = swapped
	m.Optimizer = &Adam{LR: 0.01} // its moments belong to the old layer's shapes
	m.params_ = nil
	before := append([]float32(nil), swapped.W.Value.Data()...)
	if _, err := m.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	changed := false
	for i, w := range swapped.W.Value.Data() {
		changed = changed || w != before[i]
	}
	if !changed || m.rows.layers[2] != rowLayer(swapped) {
		t.Fatal("the row-parallel step kept training the layer that was replaced")
	}
}

// TestRowStepStopsOnNonFiniteLoss: a NaN input makes the row-parallel step return
// ErrNotFinite before any update.
func TestRowStepStopsOnNonFiniteLoss(t *testing.T) {
	defer kernels.SetThreads(0)
	kernels.SetThreads(2)
	data := &poisoned{TensorData: randomData(128), after: 1}
	m := smallModel(1)
	_, err := m.Fit(context.Background(), data, FitConfig{Epochs: 1, BatchSize: 64})
	if !errors.Is(err, ErrNotFinite) || m.rows == nil {
		t.Fatalf("error %v (row step ran: %v), want ErrNotFinite from the row-parallel step", err, m.rows != nil)
	}
	for _, w := range weights(m) {
		if w != w {
			t.Fatal("NaN weights after a NaN loss: the bad step was applied")
		}
	}
}
