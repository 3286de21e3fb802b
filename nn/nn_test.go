package nn

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lanesml/lanes/internal/race"
	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/tensor"
)

// ref64 is a float64 forward pass of a network, for finite differences.
func ref64(layers []Layer, x [][]float64) [][]float64 {
	for _, l := range layers {
		var out [][]float64
		switch l := l.(type) {
		case *Dense:
			w, b := l.W.Value.Data(), l.B.Value.Data()
			for _, row := range x {
				y := make([]float64, l.Out)
				for j := range y {
					y[j] = float64(b[j])
					for i, v := range row {
						y[j] += v * float64(w[i*l.Out+j])
					}
				}
				out = append(out, y)
			}
		case *Softmax:
			for _, row := range x {
				m, sum := math.Inf(-1), 0.0
				for _, v := range row {
					m = math.Max(m, v)
				}
				y := make([]float64, len(row))
				for j, v := range row {
					y[j] = math.Exp(v - m)
					sum += y[j]
				}
				for j := range y {
					y[j] /= sum
				}
				out = append(out, y)
			}
		case *activation:
			f := map[string]func(float64) float64{
				"relu":    func(v float64) float64 { return math.Max(v, 0) },
				"sigmoid": func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
				"tanh":    math.Tanh,
				"gelu": func(v float64) float64 {
					return 0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v)))
				},
			}[l.kind]
			for _, row := range x {
				y := make([]float64, len(row))
				for j, v := range row {
					y[j] = f(v)
				}
				out = append(out, y)
			}
		}
		x = out
	}
	return x
}

func loss64(loss Loss, out [][]float64, labels []int32) float64 {
	var sum float64
	for i, row := range out {
		switch loss.(type) {
		case SparseCrossEntropy:
			m, z := math.Inf(-1), 0.0
			for _, v := range row {
				m = math.Max(m, v)
			}
			for _, v := range row {
				z += math.Exp(v - m)
			}
			sum += math.Log(z) + m - row[labels[i]]
		case MeanSquaredError:
			for j, v := range row {
				t := 0.0
				if j == int(labels[i]) {
					t = 1
				}
				sum += (v - t) * (v - t) / float64(len(row))
			}
		}
	}
	return sum / float64(len(out))
}

// TestGradientsAgainstFiniteDifferences checks every layer's and loss's backward pass: the
// analytic gradients of every parameter and of the input against central differences of
// the float64 forward pass.
func TestGradientsAgainstFiniteDifferences(t *testing.T) {
	acts := map[string]func() Layer{"relu": NewReLU, "sigmoid": NewSigmoid, "tanh": NewTanh, "gelu": NewGELU,
		"softmax": func() Layer { return NewSoftmax() }}
	for _, loss := range []Loss{SparseCrossEntropy{}, MeanSquaredError{}} {
		for name, act := range acts {
			net := &Sequential{Layers: []Layer{NewDense(5, 4), act(), NewDense(4, 3)}} // input grad kept
			m := &Model{Net: net, Loss: loss}
			m.Init(7)
			r := rand.New(rand.NewPCG(5, 6))
			rows := 3
			x := tensor.New(rows, 5)
			for i := range x.Data() {
				x.Data()[i] = float32(r.NormFloat64())
			}
			labels := []int32{0, 2, 1}
			out, err := net.Forward(x)
			if err != nil {
				t.Fatal(err)
			}
			grad := tensor.New(rows, 3)
			if _, err := loss.Compute(grad, out, labels); err != nil {
				t.Fatal(err)
			}
			if err := net.Backward(grad); err != nil {
				t.Fatal(err)
			}
			dx := net.Layers[0].(*Dense).dx.Data()
			x64 := func() [][]float64 {
				rowsX := make([][]float64, rows)
				for i := range rowsX {
					for j := 0; j < 5; j++ {
						rowsX[i] = append(rowsX[i], float64(x.Data()[i*5+j]))
					}
				}
				return rowsX
			}
			const h = 1e-3
			check := func(what string, analytic float32, nudge func(d float64)) {
				nudge(h)
				up := loss64(loss, ref64(net.Layers, x64()), labels)
				nudge(-2 * h)
				down := loss64(loss, ref64(net.Layers, x64()), labels)
				nudge(h)
				numeric := (up - down) / (2 * h)
				if d := math.Abs(float64(analytic) - numeric); d > 2e-3*math.Abs(numeric)+2e-4 {
					t.Errorf("%s/%s: %s: analytic %v, numeric %v", loss.Name(), name, what, analytic, numeric)
				}
			}
			for _, p := range net.Params() {
				for i := range p.Value.Data() {
					v := p.Value.Data()
					check(p.Name, p.Grad.Data()[i], func(d float64) { v[i] = float32(float64(v[i]) + d) })
				}
			}
			for i := range x.Data() {
				check("input", dx[i], func(d float64) { x.Data()[i] = float32(float64(x.Data()[i]) + d) })
			}
		}
	}
}

// randomData is a small classification set: 3 classes, 10 features.
func randomData(n int) TensorData {
	r := rand.New(rand.NewPCG(1, 2))
	x := tensor.New(n, 10)
	y := make([]int32, n)
	for i := 0; i < n; i++ {
		y[i] = int32(r.IntN(3))
		for j := 0; j < 10; j++ {
			x.Data()[i*10+j] = float32(r.NormFloat64()) + float32(int(y[i])*(j%3))
		}
	}
	return TensorData{X: x, Y: y}
}

func smallModel(seed uint64) *Model {
	m := &Model{Net: NewSequential(NewDense(10, 16), NewReLU(), NewDense(16, 3)), Loss: SparseCrossEntropy{}, Optimizer: &Adam{LR: 0.01}}
	m.Init(seed)
	return m
}

func weights(m *Model) []float32 {
	var w []float32
	for _, p := range m.params() {
		w = append(w, p.Value.Data()...)
	}
	return w
}

func TestFitLearnsAndIsDeterministic(t *testing.T) {
	data := randomData(300)
	cfg := FitConfig{Epochs: 5, BatchSize: 16, Shuffle: true, Seed: 3, ValidationSplit: 0.2}
	for _, threads := range []int{1, 2} {
		kernels.SetThreads(threads)
		a, b := smallModel(4), smallModel(4)
		ha, err := a.Fit(context.Background(), data, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Fit(context.Background(), data, cfg); err != nil {
			t.Fatal(err)
		}
		last := ha.Epochs[len(ha.Epochs)-1]
		if last.Accuracy < 0.8 || last.Loss >= ha.Epochs[0].Loss || math.IsNaN(last.ValLoss) {
			t.Errorf("threads=%d: did not learn: %+v", threads, ha.Epochs)
		}
		wa, wb := weights(a), weights(b)
		for i := range wa {
			if math.Float32bits(wa[i]) != math.Float32bits(wb[i]) {
				t.Fatalf("threads=%d: weight %d differs between identical runs: %v vs %v", threads, i, wa[i], wb[i])
			}
		}
	}
	kernels.SetThreads(0)
}

func TestTrainStepAllocatesNothing(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	var data Dataset = randomData(64) // converted once, as Fit receives it
	m := smallModel(1)
	idx := seq(0, 32)
	if _, _, err := m.trainStep(data, idx); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if _, _, err := m.trainStep(data, idx); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("a training step allocates %v times, want 0", allocs)
	}
}

type cancelAfter struct {
	steps  int
	cancel context.CancelFunc
	seen   int
}

func (c *cancelAfter) OnBatchEnd(BatchInfo) {
	c.seen++
	if c.seen == c.steps {
		c.cancel()
	}
}
func (c *cancelAfter) OnEpochEnd(*Model, EpochInfo) (bool, error) { return false, nil }

func TestFitHonoursCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cb := &cancelAfter{steps: 3, cancel: cancel}
	_, err := smallModel(1).Fit(ctx, randomData(300), FitConfig{Epochs: 2, BatchSize: 10, Callbacks: []Callback{cb}})
	if !errors.Is(err, context.Canceled) || cb.seen != 3 {
		t.Errorf("Fit after cancel at step 3: err %v after %d steps", err, cb.seen)
	}
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	m := smallModel(1)
	m.Optimizer = &Adam{LR: 0.5} // too large: validation loss soon gets worse
	es := &EarlyStopping{Monitor: "val_loss", Patience: 2, RestoreBest: true}
	best := math.Inf(1)
	var bestW []float32
	rec := recorder{onEpoch: func(m *Model, e EpochInfo) {
		if e.ValLoss < best {
			best, bestW = e.ValLoss, weights(m)
		}
	}}
	h, err := m.Fit(context.Background(), randomData(200), FitConfig{Epochs: 30, BatchSize: 10, ValidationSplit: 0.3,
		Callbacks: []Callback{rec, es}})
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Epochs) == 30 {
		t.Skip("validation loss kept improving; nothing to stop")
	}
	w := weights(m)
	for i := range w {
		if w[i] != bestW[i] {
			t.Fatalf("after stopping at epoch %d, weight %d is %v, best epoch had %v", len(h.Epochs), i, w[i], bestW[i])
		}
	}
}

type recorder struct{ onEpoch func(*Model, EpochInfo) }

func (r recorder) OnBatchEnd(BatchInfo) {}
func (r recorder) OnEpochEnd(m *Model, e EpochInfo) (bool, error) {
	r.onEpoch(m, e)
	return false, nil
}

func TestCheckpointRoundTrip(t *testing.T) {
	m := smallModel(2)
	data := randomData(100)
	cfg := FitConfig{Epochs: 2, BatchSize: 20, Shuffle: true, Seed: 9}
	if _, err := m.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := m.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 2 {
		t.Errorf("epoch %d after loading, want 2", got.Epoch)
	}
	wa, wb := weights(m), weights(got)
	for i := range wa {
		if wa[i] != wb[i] {
			t.Fatalf("weight %d: saved %v, loaded %v", i, wa[i], wb[i])
		}
	}
	// Two epochs, a checkpoint, one more epoch: the same bits as three epochs in one go.
	straight := smallModel(2)
	cfg.Epochs = 3
	if _, err := straight.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 1
	if _, err := got.Fit(context.Background(), data, cfg); err != nil {
		t.Fatal(err)
	}
	wa, wb = weights(straight), weights(got)
	for i := range wa {
		if wa[i] != wb[i] {
			t.Fatalf("weight %d: 3 epochs straight %v, 2 + checkpoint + 1 %v", i, wa[i], wb[i])
		}
	}
}

// TestHostileCheckpoints: every malformed file is an error that names the problem.
func TestHostileCheckpoints(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.safetensors")
	if err := smallModel(1).Save(good); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(good)
	hlen := binary.LittleEndian.Uint64(raw)
	header := string(raw[8 : 8+hlen])
	withHeader := func(h string) []byte {
		for len(h)%8 != 0 {
			h += " "
		}
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), raw[8+hlen:]...)
	}
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty":           {nil, "too short"},
		"truncated":       {raw[:len(raw)-100], "outside"},
		"header-too-long": {binary.LittleEndian.AppendUint64(nil, 1<<40), "does not fit"},
		"not-json":        {withHeader("[1, 2, 3]"), "not a JSON object"},
		"wrong-dtype":     {withHeader(strings.Replace(header, `"F32"`, `"F16"`, 1)), "dtype"},
		"offsets-outside": {withHeader(strings.Replace(header, `"data_offsets":[0,`, `"data_offsets":[99999999,`, 1)), "outside"},
		"wrong-shape":     {withHeader(strings.Replace(header, `[16,3]`, `[3,16]`, 1)), "architecture says"},
		"no-metadata":     {withHeader(strings.Replace(header, `"format":"lanes"`, `"format":"other"`, 1)), "architecture"},
		"zero-features":   {withHeader(strings.Replace(header, `\"in\":10`, `\"in\":0`, 1)), "dense layer of 0 x 16 features"},
	}
	for name, c := range cases {
		p := filepath.Join(dir, name)
		os.WriteFile(p, c.data, 0o644)
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want one naming the file and saying %q", name, err, c.want)
		}
	}
}

func TestSGDMomentumAndNesterov(t *testing.T) {
	for _, opt := range []*SGD{{LR: 0.1}, {LR: 0.05, Momentum: 0.9}, {LR: 0.05, Momentum: 0.9, Nesterov: true}} {
		m := smallModel(3)
		m.Optimizer = opt
		h, err := m.Fit(context.Background(), randomData(200), FitConfig{Epochs: 5, BatchSize: 20})
		if err != nil {
			t.Fatal(err)
		}
		if h.Epochs[4].Loss >= h.Epochs[0].Loss {
			t.Errorf("SGD %+v did not reduce the loss: %+v", *opt, h.Epochs)
		}
	}
}

func TestInitializers(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	w := make([]float32, 100*50)
	for name, c := range map[string]struct {
		init Initializer
		std  float64
	}{
		"glorot_uniform": {GlorotUniform, math.Sqrt(2.0 / 150)},
		"glorot_normal":  {GlorotNormal, math.Sqrt(2.0 / 150)},
		"he_uniform":     {HeUniform, math.Sqrt(2.0 / 100)},
		"he_normal":      {HeNormal, math.Sqrt(2.0 / 100)},
	} {
		c.init(r, w, 100, 50)
		var ss float64
		for _, v := range w {
			ss += float64(v) * float64(v)
		}
		if std := math.Sqrt(ss / float64(len(w))); math.Abs(std-c.std) > 0.05*c.std {
			t.Errorf("%s: standard deviation %v, want %v", name, std, c.std)
		}
	}
	Zeros(r, w, 100, 50)
	for _, v := range w {
		if v != 0 {
			t.Fatal("Zeros left a non-zero")
		}
	}
}

// TestTwoModelsTrainingAtOnce: two models trained concurrently in one process end with the
// same weights as each trained alone.
func TestTwoModelsTrainingAtOnce(t *testing.T) {
	data := randomData(400)
	cfgs := []FitConfig{{Epochs: 3, BatchSize: 16, Shuffle: true, Seed: 1}, {Epochs: 2, BatchSize: 32, Shuffle: true, Seed: 2}}
	alone := make([][]float32, 2)
	for i, cfg := range cfgs {
		m := smallModel(uint64(10 + i))
		if _, err := m.Fit(context.Background(), data, cfg); err != nil {
			t.Fatal(err)
		}
		alone[i] = weights(m)
	}
	together := make([][]float32, 2)
	errs := make(chan error, 2)
	for i, cfg := range cfgs {
		go func() {
			m := smallModel(uint64(10 + i))
			_, err := m.Fit(context.Background(), data, cfg)
			together[i] = weights(m)
			errs <- err
		}()
	}
	for range cfgs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range cfgs {
		for j := range alone[i] {
			if math.Float32bits(alone[i][j]) != math.Float32bits(together[i][j]) {
				t.Fatalf("model %d: weight %d trained alongside another is %v, alone %v", i, j, together[i][j], alone[i][j])
			}
		}
	}
}

// poisoned serves NaN inputs from its after-th batch on.
type poisoned struct {
	TensorData
	after, served int
}

func (p *poisoned) Batch(x []float32, labels []int32, idx []int) {
	p.TensorData.Batch(x, labels, idx)
	if p.served++; p.served > p.after {
		x[0] = float32(math.NaN())
	}
}

type saver struct{ path string }

func (s saver) OnBatchEnd(BatchInfo) {}
func (s saver) OnEpochEnd(m *Model, e EpochInfo) (bool, error) {
	return false, m.Save(s.path)
}

// TestNonFiniteLossStops: a NaN loss in epoch 2 stops training with an error naming the
// epoch and step, and the checkpoint of epoch 1 stays as it was.
func TestNonFiniteLossStops(t *testing.T) {
	data := &poisoned{TensorData: randomData(100), after: 10 + 3} // 10 batches an epoch
	path := filepath.Join(t.TempDir(), "ckpt")
	m := smallModel(1)
	_, err := m.Fit(context.Background(), data, FitConfig{Epochs: 3, BatchSize: 10, Callbacks: []Callback{saver{path}}})
	if !errors.Is(err, ErrNotFinite) || !strings.Contains(err.Error(), "epoch 2 step 4") {
		t.Fatalf("error %v, want ErrNotFinite at epoch 2 step 4", err)
	}
	saved, err := Load(path)
	if err != nil || saved.Epoch != 1 {
		t.Fatalf("checkpoint after the failure: epoch %v, %v; want the intact epoch-1 one", saved.Epoch, err)
	}
	for _, w := range append(weights(saved), weights(m)...) {
		if w != w {
			t.Fatal("NaN weights after a NaN loss: the bad step was applied")
		}
	}
}

// TestFitRejectsBadConfig checks that a config that makes no sense is an error naming the
// field, returned before any step changes the weights.
func TestFitRejectsBadConfig(t *testing.T) {
	data := randomData(50)
	nan := float32(math.NaN())
	cases := []struct {
		cfg  FitConfig
		opt  Optimizer // nil: smallModel's
		want string
	}{
		{FitConfig{Epochs: -1}, nil, "Epochs is -1"},
		{FitConfig{BatchSize: -8}, nil, "BatchSize is -8"},
		{FitConfig{ValidationSplit: 1}, nil, "ValidationSplit 1 is not in [0, 1)"},
		{FitConfig{ValidationSplit: -0.1}, nil, "ValidationSplit -0.1"},
		{FitConfig{ValidationSplit: math.NaN()}, nil, "ValidationSplit NaN"},
		{FitConfig{ValidationSplit: 0.2, ValidationData: data}, nil, "both ValidationSplit and ValidationData"},
		{FitConfig{}, &Adam{LR: -0.001}, "Adam.LR is -0.001"},
		{FitConfig{}, &Adam{LR: nan}, "Adam.LR is NaN"},
		{FitConfig{}, &Adam{Beta1: 1}, "Adam.Beta1 is 1, not in [0, 1)"},
		{FitConfig{}, &Adam{Beta2: 1.5}, "Adam.Beta2 is 1.5"},
		{FitConfig{}, &Adam{Eps: -1}, "Adam.Eps is -1"},
		{FitConfig{}, &Adam{WeightDecay: float32(math.Inf(1))}, "Adam.WeightDecay is +Inf"},
		{FitConfig{}, &SGD{LR: nan}, "SGD.LR is NaN"},
		{FitConfig{}, &SGD{Momentum: 1}, "SGD.Momentum is 1, not in [0, 1)"},
	}
	for _, c := range cases {
		m := smallModel(1)
		if c.opt != nil {
			m.Optimizer = c.opt
		}
		before := weights(m)
		_, err := m.Fit(context.Background(), data, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Fit(%+v): error %v, want one saying %q", c.cfg, err, c.want)
		}
		if !slices.Equal(before, weights(m)) {
			t.Errorf("Fit(%+v) changed the weights before failing", c.cfg)
		}
	}
}
