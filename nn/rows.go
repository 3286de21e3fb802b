package nn

import (
	"fmt"
	"math"

	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/tensor"
)

// A training step's forward pass, its loss and its input gradients treat each example (row)
// on its own; only the gradients of the parameters sum over the batch. So when more than one
// worker is available (kernels.SetThreads), trainStep runs the first layer on the whole batch
// (its product, on the widest input, is split well by the kernels themselves), then cuts the
// batch into blocks of rows and runs the other layers, the loss and the input gradients back
// down to the first layer for each block in one parallel call, writing into the layers'
// whole-batch buffers; then the parameter gradients and the update for the whole batch, as
// before. Each row goes through the same kernel calls on the same values as in the serial
// step, so the weights come out the same to the bit. The MNIST MLP's second layer, loss and
// ReLUs then run on every core with one handoff, where the serial step made three for its
// small products and ran the rest on one core.

// rowLayer is a layer that can be run a block of rows at a time (Dense, Softmax and the
// activations are).
type rowLayer interface {
	Layer
	// begin checks the input's shape, keeps x, and returns the whole batch's buffers for
	// the output, whose rows forwardRows then writes, and, with inputGrad, for the input
	// gradient, whose rows backwardRows writes (dx is nil without).
	begin(x *tensor.Tensor, inputGrad bool) (y, dx *tensor.Tensor, err error)
	// forwardRows computes rows [lo, hi) of the output from those of the input.
	forwardRows(lo, hi int)
	// backwardRows computes rows [lo, hi) of the input gradient from those of dy, the
	// gradient of the output.
	backwardRows(dy *tensor.Tensor, lo, hi int)
	// paramGrads sets the parameters' gradients from dy, the whole batch's output gradient.
	paramGrads(dy *tensor.Tensor) error
}

// rowLoss is a Loss that can be computed a block of rows at a time.
type rowLoss interface {
	Loss
	// check reports what Compute would find wrong with its arguments.
	check(grad, pred *tensor.Tensor, labels []int32) error
	// computeRows writes rows [lo, hi) of the batch's gradient, exactly as Compute writes
	// them, and returns their share of the batch's mean loss.
	computeRows(grad, pred *tensor.Tensor, labels []int32, lo, hi int) float64
}

// minBlockRows is the fewest rows a block of a row-parallel step gets: batch 32 on two
// cores is cut in two.
const minBlockRows = 16

// rowStep is the state of row-parallel training steps, kept so that a step allocates
// nothing: the layers, what each block needs, and each block's share of the loss.
type rowStep struct {
	layers []rowLayer // layers[i] for i >= 1; the first layer runs on the whole batch
	loss   rowLoss
	down   int // the lowest layer that gets an output gradient (see gradientFloor)

	labels, pred []int32
	rows, blocks int
	losses       []float64        // each block's share of the mean loss
	out          *tensor.Tensor   // the last layer's output
	outGrads     []*tensor.Tensor // each layer's output gradient, down to layer down
}

// rowSteps returns the model's row-parallel step for a batch of rows examples, or nil when
// the step runs serially: one worker, too few rows, a single layer, or a layer after the
// first or a loss that cannot be cut into rows.
func (m *Model) rowSteps(rows int) *rowStep {
	blocks := min(kernels.Threads(), rows/minBlockRows)
	if blocks < 2 {
		return nil
	}
	r := m.rows
	if r == nil || !r.runs(m) {
		if r = newRowStep(m); r == nil {
			return nil
		}
		m.rows = r
	}
	r.down = gradientFloor(m.Net.Layers)
	if cap(r.losses) < blocks {
		r.losses = make([]float64, blocks)
	}
	r.losses = r.losses[:blocks]
	r.rows, r.blocks = rows, blocks
	return r
}

// newRowStep returns a row-parallel step for m's layers and loss, or nil if one of them
// cannot be cut into rows.
func newRowStep(m *Model) *rowStep {
	loss, ok := m.Loss.(rowLoss)
	if !ok || len(m.Net.Layers) < 2 {
		return nil
	}
	r := &rowStep{loss: loss, layers: make([]rowLayer, len(m.Net.Layers))}
	for i, l := range m.Net.Layers[1:] {
		if r.layers[i+1], ok = l.(rowLayer); !ok {
			return nil
		}
	}
	r.outGrads = make([]*tensor.Tensor, len(r.layers))
	return r
}

// runs reports whether r was made for m's present layers and loss.
func (r *rowStep) runs(m *Model) bool {
	if Loss(r.loss) != m.Loss || len(r.layers) != len(m.Net.Layers) {
		return false
	}
	for i, l := range r.layers[1:] {
		if Layer(l) != m.Net.Layers[i+1] {
			return false
		}
	}
	return true
}

// gradientFloor is the lowest of layers that gets an output gradient: the backward pass
// stops at the highest Dense layer with NoInputGrad, as in Sequential.Backward, or at the
// network's input.
func gradientFloor(layers []Layer) int {
	for i := len(layers) - 1; i > 0; i-- {
		if d, ok := layers[i].(*Dense); ok && d.NoInputGrad {
			return i
		}
	}
	return 0
}

// trainStepRows is trainStep for a batch with labels, cut into r.blocks blocks of rows; in is
// the first layer's output.
func (m *Model) trainStepRows(r *rowStep, in *tensor.Tensor, labels, pred []int32) (float32, int, error) {
	first := m.Net.Layers[0]
	for i := 1; i < len(r.layers); i++ {
		out, dx, err := r.layers[i].begin(in, i > r.down)
		if err != nil {
			return 0, 0, fmt.Errorf("layer %d: %w", i, err)
		}
		in = out
		if i > r.down {
			r.outGrads[i-1] = dx
		}
	}
	last := len(r.layers) - 1
	r.out, r.outGrads[last] = in, m.lossGrad(in)
	if err := r.loss.check(r.outGrads[last], in, labels); err != nil {
		return 0, 0, err
	}
	r.labels, r.pred = labels, pred
	kernels.RunParts(r, r.blocks)
	var sum float64
	for _, l := range r.losses {
		sum += l
	}
	loss := float32(sum)
	r.labels, r.pred = nil, nil
	if math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) {
		return loss, 0, fmt.Errorf("%w (%v)", ErrNotFinite, loss)
	}
	for i := len(r.layers) - 1; i >= max(r.down, 1); i-- {
		if err := r.layers[i].paramGrads(r.outGrads[i]); err != nil {
			return 0, 0, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	if r.down == 0 {
		if _, err := first.Backward(r.outGrads[0]); err != nil {
			return 0, 0, fmt.Errorf("layer 0: %w", err)
		}
	}
	m.Optimizer.Step(m.params())
	return loss, hits(pred, labels), nil
}

// RunPart runs block b of the step: its rows through every layer after the first, the loss
// and its gradient, and back down to the lowest layer that needs an output gradient.
func (r *rowStep) RunPart(b int) {
	lo, hi := b*r.rows/r.blocks, (b+1)*r.rows/r.blocks
	for _, l := range r.layers[1:] {
		l.forwardRows(lo, hi)
	}
	last := len(r.layers) - 1
	out := r.out
	kernels.ArgmaxRows(r.pred[lo:hi], rowsOf(out, lo, hi), hi-lo, out.Dim(1))
	r.losses[b] = r.loss.computeRows(r.outGrads[last], out, r.labels, lo, hi)
	for i := last; i > r.down; i-- {
		r.layers[i].backwardRows(r.outGrads[i], lo, hi)
	}
}

// rowsOf returns rows [lo, hi) of the matrix t's data.
func rowsOf(t *tensor.Tensor, lo, hi int) []float32 {
	c := t.Dim(1)
	return t.Data()[lo*c : hi*c]
}
