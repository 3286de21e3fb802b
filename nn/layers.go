package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/tensor"
)

// Param is a trainable tensor and the gradient of the loss with respect to it.
type Param struct {
	Name  string
	Value *tensor.Tensor
	Grad  *tensor.Tensor
}

// Layer is one stage of a network. Inputs and outputs are matrices with one example a row.
type Layer interface {
	// Forward returns the layer's output for the batch x. The output belongs to the layer
	// and stays valid until its next Forward; x must stay unchanged until Backward.
	Forward(x *tensor.Tensor) (*tensor.Tensor, error)
	// Backward takes the gradient of the loss with respect to the last output, sets the
	// gradients of the layer's parameters, and returns the gradient with respect to its
	// input (owned by the layer).
	Backward(dy *tensor.Tensor) (*tensor.Tensor, error)
	// Params lists the trainable parameters, in a fixed order.
	Params() []*Param
	// Spec describes the layer for checkpoints.
	Spec() LayerSpec
}

// LayerSpec is a layer's type and sizes, as a checkpoint records them.
type LayerSpec struct {
	Type string `json:"type"`
	In   int    `json:"in,omitempty"`
	Out  int    `json:"out,omitempty"`
}

// buffer returns a rows x cols tensor held in *t, reallocated only when the shape changes.
func buffer(t **tensor.Tensor, rows, cols int) *tensor.Tensor {
	if *t == nil || (*t).Dim(0) != rows || (*t).Dim(1) != cols {
		*t = tensor.New(rows, cols)
	}
	return *t
}

// Initializer fills w, a fanIn x fanOut weight matrix, from r.
type Initializer func(r *rand.Rand, w []float32, fanIn, fanOut int)

// Dense is a fully connected layer: y = x W + b, with W [in, out] and b [out].
type Dense struct {
	In, Out int
	W, B    Param
	// Init fills W at Model.Init; nil means GlorotUniform. B starts at zero.
	Init Initializer
	// NoInputGrad skips computing the gradient of the input (Backward returns nil): the
	// first layer of a network needs none, and it is a third of the layer's work.
	NoInputGrad bool

	x     *tensor.Tensor
	x8    byteRows // the input when it came as bytes (ForwardBytes); x is then nil
	y, dx *tensor.Tensor
}

// byteRows is a batch of rows of bytes that stand for scale times their value.
type byteRows struct {
	x     []byte
	rows  int
	scale float32
}

// NewDense returns a Dense layer from in to out features.
func NewDense(in, out int) *Dense {
	if in < 1 || out < 1 {
		panic(fmt.Sprintf("nn: NewDense(%d, %d): both sizes must be at least 1", in, out))
	}
	return &Dense{
		In: in, Out: out,
		W: Param{Name: "weight", Value: tensor.New(in, out), Grad: tensor.New(in, out)},
		B: Param{Name: "bias", Value: tensor.New(out), Grad: tensor.New(out)},
	}
}

func (d *Dense) initialize(r *rand.Rand) {
	init := d.Init
	if init == nil {
		init = GlorotUniform
	}
	init(r, d.W.Value.Data(), d.In, d.Out)
	clear(d.B.Value.Data())
}

// Forward returns x W + b for the batch x ([rows, In]).
func (d *Dense) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	y, _, err := d.begin(x, false)
	if err != nil {
		return nil, err
	}
	d.forwardRows(0, x.Dim(0))
	return y, nil
}

// ForwardBytes is Forward for a batch of rows x cols bytes (cols must be In) that stand
// for scale times their value, 8-bit images say: the result is the same, to the bit, as
// Forward's on the floats float32(v) * scale (kernels.SgemmBytes), and Backward works from
// the bytes too. The layer keeps x until the next Forward.
func (d *Dense) ForwardBytes(x []byte, scale float32, rows, cols int) (*tensor.Tensor, error) {
	if rows < 1 || cols != d.In || len(x) != rows*cols {
		return nil, fmt.Errorf("dense %dx%d: input of %d bytes as %d rows of %d: %w", d.In, d.Out, len(x), rows, cols, tensor.ErrShape)
	}
	if err := d.checkParams(); err != nil {
		return nil, err
	}
	d.x, d.x8 = nil, byteRows{x, rows, scale}
	y := buffer(&d.y, rows, d.Out)
	d.forwardRows(0, rows)
	return y, nil
}

// Backward sets dW = x^T dy and db = the column sums of dy, and returns dx = dy W^T
// (nil when NoInputGrad is set).
func (d *Dense) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if d.x == nil && d.x8.x == nil {
		return nil, fmt.Errorf("dense: Backward before Forward")
	}
	if err := d.paramGrads(dy); err != nil { // checks dy against x
		return nil, err
	}
	if d.NoInputGrad {
		return nil, nil
	}
	buffer(&d.dx, dy.Dim(0), d.In)
	d.backwardRows(dy, 0, dy.Dim(0))
	return d.dx, nil
}

// begin, forwardRows, backwardRows and paramGrads make Dense a rowLayer (rows.go); Forward
// and Backward are them on all rows.

func (d *Dense) begin(x *tensor.Tensor, inputGrad bool) (y, dx *tensor.Tensor, err error) {
	if err := d.checkInput(x); err != nil {
		return nil, nil, err
	}
	d.x, d.x8 = x, byteRows{}
	if inputGrad {
		dx = buffer(&d.dx, x.Dim(0), d.In)
	}
	return buffer(&d.y, x.Dim(0), d.Out), dx, nil
}

func (d *Dense) forwardRows(lo, hi int) {
	y, w := rowsOf(d.y, lo, hi), d.W.Value.Data()
	if x := d.x8; x.x != nil {
		kernels.SgemmBytes(false, hi-lo, d.Out, d.In, 1, x.x[lo*d.In:hi*d.In], x.scale, d.In, w, d.Out, 0, y, d.Out)
	} else {
		kernels.Sgemm(false, false, hi-lo, d.Out, d.In, 1, rowsOf(d.x, lo, hi), d.In, w, d.Out, 0, y, d.Out)
	}
	kernels.AddBias(y, d.B.Value.Data(), hi-lo, d.Out)
}

func (d *Dense) backwardRows(dy *tensor.Tensor, lo, hi int) {
	kernels.Sgemm(false, true, hi-lo, d.In, d.Out, 1, rowsOf(dy, lo, hi), d.Out, d.W.Value.Data(), d.Out, 0, rowsOf(d.dx, lo, hi), d.In)
}

func (d *Dense) paramGrads(dy *tensor.Tensor) error {
	if x := d.x8; x.x != nil {
		g := d.W.Grad
		if dy.Rank() != 2 || dy.Dim(0) != x.rows || dy.Dim(1) != d.Out || g.Rank() != 2 || g.Dim(0) != d.In || g.Dim(1) != d.Out {
			return fmt.Errorf("dense %dx%d: output gradient %v for %d rows, weight gradient %v: %w",
				d.In, d.Out, dy.Shape(), x.rows, g.Shape(), tensor.ErrShape)
		}
		kernels.SgemmBytes(true, d.In, d.Out, x.rows, 1, x.x, x.scale, d.In, dy.Data(), d.Out, 0, g.Data(), d.Out)
	} else if err := tensor.MatMulInto(d.W.Grad, d.x, dy, true, false); err != nil {
		return err
	}
	return tensor.SumRowsInto(d.B.Grad, dy)
}

// checkInput reports an x that is not a batch of rows of In features, or parameters that
// are not In x Out and Out (checkParams).
func (d *Dense) checkInput(x *tensor.Tensor) error {
	if x.Rank() != 2 || x.Dim(1) != d.In {
		return fmt.Errorf("dense %dx%d: input %v: %w", d.In, d.Out, x.Shape(), tensor.ErrShape)
	}
	return d.checkParams()
}

// checkParams reports parameters that are not In x Out and Out.
func (d *Dense) checkParams() error {
	w, b := d.W.Value, d.B.Value
	if w.Rank() != 2 || w.Dim(0) != d.In || w.Dim(1) != d.Out || b.Rank() != 1 || b.Dim(0) != d.Out {
		return fmt.Errorf("dense %dx%d: weight %v and bias %v: %w", d.In, d.Out, w.Shape(), b.Shape(), tensor.ErrShape)
	}
	return nil
}

// Params returns the weight and the bias.
func (d *Dense) Params() []*Param { return []*Param{&d.W, &d.B} }

// Spec describes the layer for checkpoints.
func (d *Dense) Spec() LayerSpec { return LayerSpec{Type: "dense", In: d.In, Out: d.Out} }

// activation is a parameter-free element-wise layer. It keeps what its backward needs:
// the input (ReLU, GELU) or the output (Sigmoid, Tanh).
type activation struct {
	kind      string
	forward   func(dst, src []float32)
	backward  func(dst, grad, saved []float32)
	keepInput bool

	x, saved, y, dx *tensor.Tensor
}

// NewReLU returns max(x, 0).
func NewReLU() Layer {
	return &activation{kind: "relu", forward: kernels.ReLU, backward: kernels.ReLUBackward, keepInput: true}
}

// NewSigmoid returns 1/(1+exp(-x)).
func NewSigmoid() Layer {
	return &activation{kind: "sigmoid", forward: kernels.Sigmoid, backward: kernels.SigmoidBackward}
}

// NewTanh returns tanh(x).
func NewTanh() Layer {
	return &activation{kind: "tanh", forward: kernels.Tanh, backward: kernels.TanhBackward}
}

// NewGELU returns the tanh approximation of GELU.
func NewGELU() Layer {
	return &activation{kind: "gelu", forward: kernels.GELU, backward: kernels.GELUBackward, keepInput: true}
}

func (a *activation) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	y, _, err := a.begin(x, false)
	if err != nil {
		return nil, err
	}
	a.forwardRows(0, x.Dim(0))
	return y, nil
}

func (a *activation) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if a.saved == nil || !dy.SameShape(a.saved) {
		return nil, fmt.Errorf("%s: Backward with gradient %v after Forward of %v: %w", a.kind, dy.Shape(), shapeOf(a.saved), tensor.ErrShape)
	}
	buffer(&a.dx, dy.Dim(0), dy.Dim(1))
	a.backwardRows(dy, 0, dy.Dim(0))
	return a.dx, nil
}

func (a *activation) begin(x *tensor.Tensor, inputGrad bool) (y, dx *tensor.Tensor, err error) {
	if err := a.checkInput(x); err != nil {
		return nil, nil, err
	}
	y = buffer(&a.y, x.Dim(0), x.Dim(1))
	a.x, a.saved = x, y
	if a.keepInput {
		a.saved = x
	}
	if inputGrad {
		dx = buffer(&a.dx, x.Dim(0), x.Dim(1))
	}
	return y, dx, nil
}

func (a *activation) forwardRows(lo, hi int) { a.forward(rowsOf(a.y, lo, hi), rowsOf(a.x, lo, hi)) }

func (a *activation) backwardRows(dy *tensor.Tensor, lo, hi int) {
	a.backward(rowsOf(a.dx, lo, hi), rowsOf(dy, lo, hi), rowsOf(a.saved, lo, hi))
}

func (a *activation) paramGrads(*tensor.Tensor) error { return nil }

func (a *activation) checkInput(x *tensor.Tensor) error {
	if x.Rank() != 2 {
		return fmt.Errorf("%s: input %v is not a batch of rows: %w", a.kind, x.Shape(), tensor.ErrShape)
	}
	return nil
}

func shapeOf(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape()
}

func (a *activation) Params() []*Param { return nil }
func (a *activation) Spec() LayerSpec  { return LayerSpec{Type: a.kind} }

// Softmax is a row-wise softmax layer. To train a classifier, prefer SparseCrossEntropy on
// the logits, which fuses the two and is more accurate.
type Softmax struct {
	x, y, dx *tensor.Tensor
}

// NewSoftmax returns a row-wise softmax layer.
func NewSoftmax() *Softmax { return &Softmax{} }

// Forward returns the row-wise softmax of x.
func (s *Softmax) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	y, _, err := s.begin(x, false)
	if err != nil {
		return nil, err
	}
	s.forwardRows(0, x.Dim(0))
	return y, nil
}

// Backward: dx = y * (dy - sum over the row of dy*y).
func (s *Softmax) Backward(dy *tensor.Tensor) (*tensor.Tensor, error) {
	if s.y == nil || !dy.SameShape(s.y) {
		return nil, fmt.Errorf("softmax: Backward with gradient %v after Forward of %v: %w", dy.Shape(), shapeOf(s.y), tensor.ErrShape)
	}
	buffer(&s.dx, dy.Dim(0), dy.Dim(1))
	s.backwardRows(dy, 0, dy.Dim(0))
	return s.dx, nil
}

func (s *Softmax) begin(x *tensor.Tensor, inputGrad bool) (y, dx *tensor.Tensor, err error) {
	if err := s.checkInput(x); err != nil {
		return nil, nil, err
	}
	s.x = x
	if inputGrad {
		dx = buffer(&s.dx, x.Dim(0), x.Dim(1))
	}
	return buffer(&s.y, x.Dim(0), x.Dim(1)), dx, nil
}

func (s *Softmax) forwardRows(lo, hi int) {
	kernels.Softmax(rowsOf(s.y, lo, hi), rowsOf(s.x, lo, hi), hi-lo, s.y.Dim(1))
}

func (s *Softmax) paramGrads(*tensor.Tensor) error { return nil }

// backwardRows writes rows [lo, hi) of dx = y * (dy - sum over the row of dy*y).
func (s *Softmax) backwardRows(dy *tensor.Tensor, lo, hi int) {
	cols := dy.Dim(1)
	y, g, out := s.y.Data(), dy.Data(), s.dx.Data()
	for i := lo; i < hi; i++ {
		yr, gr := y[i*cols:(i+1)*cols], g[i*cols:(i+1)*cols]
		dot := kernels.Dot(yr, gr)
		for j := range yr {
			out[i*cols+j] = yr[j] * (gr[j] - dot)
		}
	}
}

func (s *Softmax) checkInput(x *tensor.Tensor) error {
	if x.Rank() != 2 {
		return fmt.Errorf("softmax: input %v is not a batch of rows: %w", x.Shape(), tensor.ErrShape)
	}
	return nil
}

// Params returns nil: softmax has no parameters.
func (s *Softmax) Params() []*Param { return nil }

// Spec describes the layer for checkpoints.
func (s *Softmax) Spec() LayerSpec { return LayerSpec{Type: "softmax"} }

// Sequential runs layers one after another.
type Sequential struct {
	Layers []Layer
}

// NewSequential chains layers. The first Dense layer is told that no one needs the
// gradient of the network's input.
func NewSequential(layers ...Layer) *Sequential {
	if len(layers) > 0 {
		if d, ok := layers[0].(*Dense); ok {
			d.NoInputGrad = true
		}
	}
	return &Sequential{Layers: layers}
}

// Forward runs x through every layer.
func (s *Sequential) Forward(x *tensor.Tensor) (*tensor.Tensor, error) {
	return s.forwardFrom(0, x)
}

// forwardFrom runs x, the input of layer first, through it and every layer after it.
func (s *Sequential) forwardFrom(first int, x *tensor.Tensor) (*tensor.Tensor, error) {
	var err error
	for i := first; i < len(s.Layers); i++ {
		if x, err = s.Layers[i].Forward(x); err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return x, nil
}

// Backward runs the gradient of the output back through every layer.
func (s *Sequential) Backward(dy *tensor.Tensor) error {
	var err error
	for i := len(s.Layers) - 1; i >= 0 && dy != nil; i-- {
		if dy, err = s.Layers[i].Backward(dy); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
	}
	return nil
}

// Params lists every trainable parameter, layer by layer, named layers.<i>.<name>.
func (s *Sequential) Params() []NamedParam {
	var ps []NamedParam
	for i, l := range s.Layers {
		for _, p := range l.Params() {
			ps = append(ps, NamedParam{Name: fmt.Sprintf("layers.%d.%s", i, p.Name), Param: p})
		}
	}
	return ps
}

// NamedParam is a parameter with its name in the whole network.
type NamedParam struct {
	Name string
	*Param
}
