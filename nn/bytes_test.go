package nn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lanesml/lanes/internal/race"
	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/tensor"
)

// byteData is a ByteBatches of features bytes an example, mostly zeros (as pixels of a
// dark background are; about 82% here), with labels that depend on them.
type byteData struct {
	x        []byte
	y        []int32
	features int
	scale    float32
}

func newByteData(n, features int) *byteData {
	r := rand.New(rand.NewPCG(11, 12))
	d := &byteData{x: make([]byte, n*features), y: make([]int32, n), features: features, scale: 1.0 / 255}
	for i := 0; i < n; i++ {
		d.y[i] = int32(r.IntN(3))
		for j := 0; j < features; j++ {
			if r.IntN(10) == 0 || (j%3 == int(d.y[i]) && r.IntN(4) == 0) {
				d.x[i*features+j] = byte(1 + r.IntN(255))
			}
		}
	}
	return d
}

func (d *byteData) Len() int      { return len(d.y) }
func (d *byteData) Features() int { return d.features }
func (d *byteData) Batch(x []float32, labels []int32, idx []int) {
	for i, e := range idx {
		kernels.BytesToFloat32(x[i*d.features:(i+1)*d.features], d.x[e*d.features:(e+1)*d.features], d.scale)
		labels[i] = d.y[e]
	}
}
func (d *byteData) BatchBytes(x []byte, labels []int32, idx []int) {
	for i, e := range idx {
		copy(x[i*d.features:(i+1)*d.features], d.x[e*d.features:(e+1)*d.features])
		labels[i] = d.y[e]
	}
}
func (d *byteData) ByteScale() float32 { return d.scale }

// floatsOnly hides a Dataset's bytes, so that a model trains on its floats.
type floatsOnly struct{ Dataset }

// TestByteBatchesGiveSameWeights trains the same networks on a ByteBatches (the first layer
// fed bytes) and on its floats, on 1 thread (the serial step) and 2 (the row-parallel one):
// the weights must be the same to the bit. The hidden layer of 128 takes SgemmBytes's sparse
// path, the one of 16 its dense one; the last batch is short; with a ValidationSplit, the
// training part is a subset, drawn as bytes too.
func TestByteBatchesGiveSameWeights(t *testing.T) {
	defer kernels.SetThreads(0)
	data := newByteData(300, 100)
	for _, c := range []struct {
		hidden int
		split  float64
	}{{128, 0}, {16, 0}, {128, 0.2}} {
		hidden, cfg := c.hidden, FitConfig{Epochs: 2, BatchSize: 64, Shuffle: true, Seed: 5, ValidationSplit: c.split}
		for _, threads := range []int{1, 2} {
			kernels.SetThreads(threads)
			models := [2]*Model{}
			for i, d := range []Dataset{data, floatsOnly{data}} {
				m := &Model{Net: NewSequential(NewDense(100, hidden), NewReLU(), NewDense(hidden, 3)),
					Loss: SparseCrossEntropy{}, Optimizer: &Adam{LR: 0.01}}
				m.Init(6)
				if _, err := m.Fit(context.Background(), d, cfg); err != nil {
					t.Fatal(err)
				}
				models[i] = m
			}
			if models[0].batch.x8 == nil || models[1].batch.x8 != nil {
				t.Fatalf("%+v, %d threads: not the byte-fed model alone drew bytes", c, threads)
			}
			wb, wf := weights(models[0]), weights(models[1])
			for i := range wb {
				if math.Float32bits(wb[i]) != math.Float32bits(wf[i]) {
					t.Fatalf("%+v, %d threads: weight %d is %v from bytes, %v from floats", c, threads, i, wb[i], wf[i])
				}
			}
		}
	}
}

// TestDenseForwardBytes: ForwardBytes gives Forward's output on the floats, and Backward
// after it the same gradients; bad shapes are errors that wrap tensor.ErrShape.
func TestDenseForwardBytes(t *testing.T) {
	data := newByteData(8, 70)
	d := NewDense(70, 64)
	d.initialize(rand.New(rand.NewPCG(1, 1)))
	x := tensor.New(8, 70)
	idx := seq(0, 8)
	data.Batch(x.Data(), make([]int32, 8), idx)
	want, err := d.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	want = want.Clone()
	dy := tensor.New(8, 64)
	for i := range dy.Data() {
		dy.Data()[i] = float32(i%7) - 3
	}
	if _, err := d.Backward(dy); err != nil {
		t.Fatal(err)
	}
	wantGrad := d.W.Grad.Clone()
	got, err := d.ForwardBytes(data.x, data.scale, 8, 70)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Backward(dy); err != nil {
		t.Fatal(err)
	}
	for i, v := range want.Data() {
		if math.Float32bits(got.Data()[i]) != math.Float32bits(v) {
			t.Fatalf("output %d: %v from bytes, %v from floats", i, got.Data()[i], v)
		}
	}
	for i, v := range wantGrad.Data() {
		if math.Float32bits(d.W.Grad.Data()[i]) != math.Float32bits(v) {
			t.Fatalf("weight gradient %d: %v from bytes, %v from floats", i, d.W.Grad.Data()[i], v)
		}
	}
	for _, c := range []struct {
		x          []byte
		rows, cols int
	}{{data.x, 8, 69}, {data.x[:69], 1, 70}, {data.x, 0, 70}, {data.x, 7, 70}} {
		if _, err := d.ForwardBytes(c.x, 1, c.rows, c.cols); !errors.Is(err, tensor.ErrShape) {
			t.Errorf("%d bytes as %d x %d: err = %v, want tensor.ErrShape", len(c.x), c.rows, c.cols, err)
		}
	}
	if _, err := d.ForwardBytes(data.x, data.scale, 8, 70); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Backward(tensor.New(7, 64)); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("Backward with 7 rows after 8 bytes rows: err = %v, want tensor.ErrShape", err)
	}
}

// TestByteTrainStepAllocatesNothing is TestTrainStepAllocatesNothing for a ByteBatches and
// for a ValidationSplit's subset of one, on the serial and the row-parallel step.
func TestByteTrainStepAllocatesNothing(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer kernels.SetThreads(0)
	bytes := newByteData(64, 100)
	for i, data := range []Dataset{bytes, subsetOf(bytes, seq(0, 64))} {
		for _, threads := range []int{1, 2} {
			kernels.SetThreads(threads)
			m := &Model{Net: NewSequential(NewDense(100, 128), NewReLU(), NewDense(128, 3)), Loss: SparseCrossEntropy{}, Optimizer: &Adam{}}
			m.Init(2)
			idx := seq(0, 64)
			if _, _, err := m.trainStep(data, idx); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(50, func() {
				if _, _, err := m.trainStep(data, idx); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("dataset %d, threads=%d: a training step on bytes allocates %v times, want 0", i, threads, allocs)
			}
		}
	}
}

// TestSubsetDrawsItsExamples: a subset (a ValidationSplit's part) draws, as floats and as
// bytes, the examples of the whole dataset that its indices name, in the batch's order.
func TestSubsetDrawsItsExamples(t *testing.T) {
	const n, f = 20, 7
	data := newByteData(n, f)
	sub := subsetOf(data, seq(12, n)).(byteSubset)
	idx := []int{5, 0, 7, 5}
	x, labels := make([]float32, len(idx)*f), make([]int32, len(idx))
	x8, labels8 := make([]byte, len(idx)*f), make([]int32, len(idx))
	sub.Batch(x, labels, idx)
	sub.BatchBytes(x8, labels8, idx)
	for i, e := range idx {
		want := make([]float32, f)
		wantLabels := make([]int32, 1)
		data.Batch(want, wantLabels, []int{12 + e})
		for j := range f {
			if x[i*f+j] != want[j] || x8[i*f+j] != data.x[(12+e)*f+j] {
				t.Fatalf("row %d (subset example %d), feature %d: %v and byte %d, want example %d's %v and %d",
					i, e, j, x[i*f+j], x8[i*f+j], 12+e, want[j], data.x[(12+e)*f+j])
			}
		}
		if labels[i] != wantLabels[0] || labels8[i] != wantLabels[0] {
			t.Fatalf("row %d: labels %d and %d, want %d", i, labels[i], labels8[i], wantLabels[0])
		}
	}
}
