package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lanesml/lanes/tensor"
)

// Dataset is examples with integer class labels, served in mini-batches.
// datasets/mnist.Set is one; TensorData wraps tensors already in memory.
type Dataset interface {
	Len() int
	Features() int
	// Batch writes examples idx into x (len(idx) x Features, row-major) and their labels.
	Batch(x []float32, labels []int32, idx []int)
}

// ByteBatches is a Dataset whose features are bytes times a fixed scale, as 8-bit images
// scaled to [0, 1] are; datasets/mnist.Set is one. When the network's first layer is Dense,
// Fit draws its training batches (a ValidationSplit's too) as bytes and the layer multiplies
// them as bytes (kernels.SgemmBytes): a quarter of the memory to move, and the same weights
// to the bit as from the floats Batch writes.
type ByteBatches interface {
	Dataset
	// BatchBytes writes examples idx into x (len(idx) x Features bytes) and their labels.
	BatchBytes(x []byte, labels []int32, idx []int)
	// ByteScale is what a byte is multiplied by: the feature Batch writes for byte v is
	// float32(v) * ByteScale().
	ByteScale() float32
}

// TensorData is a Dataset of a matrix X (one example a row) and labels Y.
type TensorData struct {
	X *tensor.Tensor
	Y []int32
}

// Len, Features and Batch make TensorData a Dataset.
func (d TensorData) Len() int      { return d.X.Dim(0) }
func (d TensorData) Features() int { return d.X.Dim(1) }
func (d TensorData) Batch(x []float32, labels []int32, idx []int) {
	f, src := d.Features(), d.X.Data()
	for i, e := range idx {
		copy(x[i*f:(i+1)*f], src[e*f:(e+1)*f])
		labels[i] = d.Y[e]
	}
}

// subset is the examples idx of a Dataset.
type subset struct {
	Dataset
	idx    []int
	picked *[]int // a batch's indices in Dataset, kept so that drawing a batch allocates nothing
}

func (s subset) Len() int { return len(s.idx) }
func (s subset) Batch(x []float32, labels []int32, idx []int) {
	s.Dataset.Batch(x, labels, s.pick(idx))
}

// pick maps a batch's indices in s to indices in s.Dataset, so that the whole batch is
// drawn in one call (one gather, split over the workers, for MNIST).
func (s subset) pick(idx []int) []int {
	p := (*s.picked)[:0]
	for _, e := range idx {
		p = append(p, s.idx[e])
	}
	*s.picked = p
	return p
}

// byteSubset is a subset of a ByteBatches, which draws its batches as bytes too.
type byteSubset struct {
	subset
	bytes ByteBatches
}

func (s byteSubset) BatchBytes(x []byte, labels []int32, idx []int) {
	s.bytes.BatchBytes(x, labels, s.pick(idx))
}
func (s byteSubset) ByteScale() float32 { return s.bytes.ByteScale() }

// subsetOf is the examples idx of data: a byteSubset when data has bytes to give, so that
// a ValidationSplit's training part is drawn as bytes too, else a subset. Fit makes it once,
// and a step's type assertion then costs no allocation.
func subsetOf(data Dataset, idx []int) Dataset {
	sub := subset{data, idx, new([]int)}
	if bytes, ok := data.(ByteBatches); ok {
		return byteSubset{sub, bytes}
	}
	return sub
}

// Model is a network with the loss it is trained on and the optimizer that trains it.
type Model struct {
	Net       *Sequential
	Loss      Loss
	Optimizer Optimizer

	// Epoch is the number of epochs trained so far (it continues across Fit calls and
	// checkpoints).
	Epoch int
	// Meta is saved with checkpoints and restored by Load: strings a program wants to keep
	// with the model (lanes train records its seed and batch size there).
	Meta map[string]string

	batch   batchBuffers
	params_ []NamedParam // Net.Params(), listed once
	rows    *rowStep     // the row-parallel step (rows.go), set up at its first use
}

// batchBuffers are one batch's input, labels and loss gradient, reused step to step.
type batchBuffers struct {
	x, grad *tensor.Tensor
	x8      []byte // the input drawn as bytes (ByteBatches)
	labels  []int32
	pred    []int32
	xs      map[int]*tensor.Tensor // views of x for batches smaller than the first
}

// Init sets every parameter from its initializer, drawing from one generator seeded with
// seed, layer by layer: the same seed gives the same network.
func (m *Model) Init(seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x6c616e6573))
	for _, l := range m.Net.Layers {
		if d, ok := l.(*Dense); ok {
			d.initialize(r)
		}
	}
}

// FitConfig says how to train. Zero values: 1 epoch, batches of 32, no shuffling, no
// validation, no callbacks. Negative counts, a ValidationSplit outside [0, 1), or both ways
// of validating at once are errors.
type FitConfig struct {
	Epochs    int
	BatchSize int
	// Shuffle draws a new order of the training examples every epoch, from Seed and the
	// epoch number.
	Shuffle bool
	Seed    uint64
	// ValidationSplit holds out this fraction of the training data (the last examples, as
	// Keras does) for validation; ValidationData gives a separate set instead.
	ValidationSplit float64
	ValidationData  Dataset
	Callbacks       []Callback
}

// check reports the first field of cfg that makes no sense.
func (cfg FitConfig) check() error {
	switch {
	case cfg.Epochs < 0:
		return fmt.Errorf("nn: FitConfig.Epochs is %d, a negative count", cfg.Epochs)
	case cfg.BatchSize < 0:
		return fmt.Errorf("nn: FitConfig.BatchSize is %d, a negative size", cfg.BatchSize)
	case !(cfg.ValidationSplit >= 0 && cfg.ValidationSplit < 1): // also NaN
		return fmt.Errorf("nn: FitConfig.ValidationSplit %v is not in [0, 1)", cfg.ValidationSplit)
	case cfg.ValidationSplit > 0 && cfg.ValidationData != nil:
		return errors.New("nn: FitConfig has both ValidationSplit and ValidationData; give one")
	}
	return nil
}

// BatchInfo is the state of training after one step.
type BatchInfo struct {
	Epoch, Step, Steps int     // Step counts from 1 to Steps within the epoch
	Loss, Accuracy     float64 // running means over the epoch so far
	Samples            int     // examples trained on so far this epoch
	Elapsed            time.Duration
}

// EpochInfo is the result of one epoch.
type EpochInfo struct {
	Epoch                int // counts from 1
	Loss, Accuracy       float64
	ValLoss, ValAccuracy float64 // NaN without validation data
	Seconds              float64
}

// Metric returns the named figure: "loss", "accuracy", "val_loss" or "val_accuracy".
func (e EpochInfo) Metric(name string) (float64, error) {
	switch name {
	case "loss":
		return e.Loss, nil
	case "accuracy":
		return e.Accuracy, nil
	case "val_loss":
		return e.ValLoss, nil
	case "val_accuracy":
		return e.ValAccuracy, nil
	}
	return 0, fmt.Errorf("nn: unknown metric %q (loss, accuracy, val_loss, val_accuracy)", name)
}

// Callback hears about training as it goes; returning true from OnEpochEnd stops it.
type Callback interface {
	OnBatchEnd(BatchInfo)
	OnEpochEnd(*Model, EpochInfo) (stop bool, err error)
}

// History is what Fit saw, epoch by epoch.
type History struct {
	Epochs []EpochInfo
}

// ErrNotFinite is returned when the training loss becomes NaN or infinite.
var ErrNotFinite = errors.New("nn: training loss is not finite")

// Fit trains the model on data. It stops after the current step when ctx is cancelled and
// returns ctx.Err() with the history so far.
func (m *Model) Fit(ctx context.Context, data Dataset, cfg FitConfig) (*History, error) {
	if m.Net == nil || m.Loss == nil || m.Optimizer == nil {
		return nil, errors.New("nn: Fit needs a model with Net, Loss and Optimizer")
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if o, ok := m.Optimizer.(interface{ check() error }); ok {
		if err := o.check(); err != nil {
			return nil, err
		}
	}
	epochs, bs := max(cfg.Epochs, 1), cfg.BatchSize
	if bs == 0 {
		bs = 32
	}
	train, val := data, cfg.ValidationData
	if cfg.ValidationSplit > 0 {
		n := data.Len() - int(math.Round(cfg.ValidationSplit*float64(data.Len())))
		train, val = subsetOf(data, seq(0, n)), subsetOf(data, seq(n, data.Len()))
	}
	if train.Len() == 0 {
		return nil, errors.New("nn: no training examples")
	}
	order := seq(0, train.Len())
	hist := &History{}
	first := m.Epoch
	for e := first + 1; e <= first+epochs; e++ {
		start := time.Now()
		if cfg.Shuffle {
			// The order depends on the seed and the epoch alone, so a run resumed from a
			// checkpoint draws the same batches as one that never stopped.
			for i := range order {
				order[i] = i
			}
			r := rand.New(rand.NewPCG(cfg.Seed, uint64(e)))
			r.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		steps := (len(order) + bs - 1) / bs
		var lossSum, correct float64
		seen := 0
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				return hist, err
			}
			idx := order[s*bs : min(len(order), (s+1)*bs)]
			loss, hits, err := m.trainStep(train, idx)
			if err != nil {
				return hist, fmt.Errorf("epoch %d step %d: %w", e, s+1, err)
			}
			lossSum += float64(loss) * float64(len(idx))
			correct += float64(hits)
			seen += len(idx)
			info := BatchInfo{Epoch: e, Step: s + 1, Steps: steps, Loss: lossSum / float64(seen),
				Accuracy: correct / float64(seen), Samples: seen, Elapsed: time.Since(start)}
			for _, c := range cfg.Callbacks {
				c.OnBatchEnd(info)
			}
		}
		m.Epoch = e
		info := EpochInfo{Epoch: e, Loss: lossSum / float64(seen), Accuracy: correct / float64(seen),
			ValLoss: math.NaN(), ValAccuracy: math.NaN(), Seconds: time.Since(start).Seconds()}
		if val != nil && val.Len() > 0 {
			var err error
			if info.ValLoss, info.ValAccuracy, err = m.Evaluate(val, bs); err != nil {
				return hist, err
			}
		}
		hist.Epochs = append(hist.Epochs, info)
		stop := false
		for _, c := range cfg.Callbacks {
			s, err := c.OnEpochEnd(m, info)
			if err != nil {
				return hist, err
			}
			stop = stop || s
		}
		if stop {
			break
		}
	}
	return hist, nil
}

func seq(lo, hi int) []int {
	s := make([]int, hi-lo)
	for i := range s {
		s[i] = lo + i
	}
	return s
}

// input returns the batch tensors for n examples of f features, reusing the first batch's
// buffers (views of them for a smaller last batch).
func (m *Model) input(n, f int) (x *tensor.Tensor, labels, pred []int32) {
	b := &m.batch
	if b.x == nil || b.x.Dim(1) != f || b.x.Dim(0) < n {
		b.x, b.xs = tensor.New(n, f), nil
	}
	labels, pred = m.labels(n)
	x = b.x
	if n < b.x.Dim(0) {
		if b.xs == nil {
			b.xs = map[int]*tensor.Tensor{}
		}
		if x = b.xs[n]; x == nil {
			x, _ = b.x.Rows(0, n)
			b.xs[n] = x
		}
	}
	return x, labels, pred
}

// labels returns the batch buffers for n examples' labels and predictions.
func (m *Model) labels(n int) (labels, pred []int32) {
	b := &m.batch
	if len(b.labels) < n {
		b.labels, b.pred = make([]int32, n), make([]int32, n)
	}
	return b.labels[:n], b.pred[:n]
}

// firstForward draws examples idx of data and runs the network's first layer on them: as
// bytes when data has them and that layer is Dense (see ByteBatches), else as floats.
func (m *Model) firstForward(data Dataset, idx []int) (out *tensor.Tensor, labels, pred []int32, err error) {
	first := m.Net.Layers[0]
	if bytes, ok := data.(ByteBatches); ok {
		if d, ok := first.(*Dense); ok {
			n, f := len(idx), data.Features()
			labels, pred = m.labels(n)
			if cap(m.batch.x8) < n*f {
				m.batch.x8 = make([]byte, n*f)
			}
			x8 := m.batch.x8[:n*f]
			bytes.BatchBytes(x8, labels, idx)
			if out, err = d.ForwardBytes(x8, bytes.ByteScale(), n, f); err != nil {
				return nil, nil, nil, fmt.Errorf("layer 0: %w", err)
			}
			return out, labels, pred, nil
		}
	}
	x, labels, pred := m.draw(data, idx)
	if out, err = first.Forward(x); err != nil {
		return nil, nil, nil, fmt.Errorf("layer 0: %w", err)
	}
	return out, labels, pred, nil
}

// draw writes examples idx of data into the batch buffers (see input).
func (m *Model) draw(data Dataset, idx []int) (x *tensor.Tensor, labels, pred []int32) {
	x, labels, pred = m.input(len(idx), data.Features())
	data.Batch(x.Data(), labels, idx)
	return x, labels, pred
}

// forward draws examples idx and runs the network on them.
func (m *Model) forward(data Dataset, idx []int) (out *tensor.Tensor, labels, pred []int32, err error) {
	x, labels, pred := m.draw(data, idx)
	if out, err = m.Net.Forward(x); err != nil {
		return nil, nil, nil, err
	}
	if err := tensor.ArgmaxRowsInto(pred, out); err != nil {
		return nil, nil, nil, err
	}
	return out, labels, pred, nil
}

func (m *Model) lossGrad(out *tensor.Tensor) *tensor.Tensor {
	return buffer(&m.batch.grad, out.Dim(0), out.Dim(1))
}

// trainStep runs one forward, backward and optimizer step on examples idx, and returns the
// batch's mean loss and how many it classified right.
func (m *Model) trainStep(data Dataset, idx []int) (float32, int, error) {
	in, labels, pred, err := m.firstForward(data, idx)
	if err != nil {
		return 0, 0, err
	}
	if r := m.rowSteps(len(idx)); r != nil {
		return m.trainStepRows(r, in, labels, pred)
	}
	out, err := m.Net.forwardFrom(1, in)
	if err != nil {
		return 0, 0, err
	}
	if err := tensor.ArgmaxRowsInto(pred, out); err != nil {
		return 0, 0, err
	}
	grad := m.lossGrad(out)
	loss, err := m.Loss.Compute(grad, out, labels)
	if err != nil {
		return 0, 0, err
	}
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		// Stop before the update: the weights stay those of the last good step.
		return loss, 0, fmt.Errorf("%w (%v)", ErrNotFinite, loss)
	}
	if err := m.Net.Backward(grad); err != nil {
		return 0, 0, err
	}
	m.Optimizer.Step(m.params())
	return loss, hits(pred, labels), nil
}

// params lists the network's parameters once and then reuses the list, which keeps names
// from being formatted at every step.
func (m *Model) params() []NamedParam {
	if m.params_ == nil {
		m.params_ = m.Net.Params()
	}
	return m.params_
}

func hits(pred, labels []int32) int {
	n := 0
	for i, p := range pred {
		if p == labels[i] {
			n++
		}
	}
	return n
}

// Evaluate returns the mean loss and the accuracy of the model on data, in batches of
// batchSize (32 when zero).
func (m *Model) Evaluate(data Dataset, batchSize int) (loss, accuracy float64, err error) {
	if batchSize <= 0 {
		batchSize = 32
	}
	n := data.Len()
	if n == 0 {
		return math.NaN(), math.NaN(), errors.New("nn: Evaluate on no examples")
	}
	var lossSum float64
	correct := 0
	idx := make([]int, 0, batchSize)
	for lo := 0; lo < n; lo += batchSize {
		idx = idx[:0]
		for i := lo; i < min(n, lo+batchSize); i++ {
			idx = append(idx, i)
		}
		out, labels, pred, err := m.forward(data, idx)
		if err != nil {
			return 0, 0, err
		}
		l, err := m.Loss.Compute(m.lossGrad(out), out, labels)
		if err != nil {
			return 0, 0, err
		}
		lossSum += float64(l) * float64(len(idx))
		correct += hits(pred, labels)
	}
	return lossSum / float64(n), float64(correct) / float64(n), nil
}

// Predict returns the network's output for x (one example a row), a new tensor.
func (m *Model) Predict(x *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := m.Net.Forward(x)
	if err != nil {
		return nil, err
	}
	return out.Clone(), nil
}

// EarlyStopping stops training when Monitor ("val_loss" by default; any EpochInfo metric)
// has not improved for Patience epochs, and with RestoreBest puts back the weights of the
// best epoch. Losses improve downwards, accuracies upwards.
type EarlyStopping struct {
	Monitor     string
	Patience    int
	RestoreBest bool

	best    float64
	bestAt  int
	weights map[string][]float32
}

// OnBatchEnd does nothing: EarlyStopping decides at epoch ends.
func (es *EarlyStopping) OnBatchEnd(BatchInfo) {}

// OnEpochEnd records the monitored figure and stops training when it has not improved
// for Patience epochs.
func (es *EarlyStopping) OnEpochEnd(m *Model, e EpochInfo) (bool, error) {
	name := es.Monitor
	if name == "" {
		name = "val_loss"
	}
	v, err := e.Metric(name)
	if err != nil {
		return false, err
	}
	if math.IsNaN(v) {
		return false, fmt.Errorf("nn: EarlyStopping monitors %s, which this training does not measure", name)
	}
	better := v < es.best
	if name == "accuracy" || name == "val_accuracy" {
		better = v > es.best
	}
	if es.bestAt == 0 || better {
		es.best, es.bestAt = v, e.Epoch
		if es.RestoreBest {
			es.weights = snapshot(m, es.weights)
		}
		return false, nil
	}
	if e.Epoch-es.bestAt < max(es.Patience, 1) {
		return false, nil
	}
	if es.RestoreBest && es.weights != nil {
		for _, p := range m.params() {
			copy(p.Value.Data(), es.weights[p.Name])
		}
	}
	return true, nil
}

// snapshot copies every parameter's values, reusing buf.
func snapshot(m *Model, buf map[string][]float32) map[string][]float32 {
	if buf == nil {
		buf = map[string][]float32{}
	}
	for _, p := range m.params() {
		buf[p.Name] = append(buf[p.Name][:0], p.Value.Data()...)
	}
	return buf
}
