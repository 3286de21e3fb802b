package nn

import (
	"fmt"
	"math"

	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/tensor"
)

// Optimizer updates parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every parameter.
	Step(params []NamedParam)
	// State returns the optimizer's tensors (by parameter and moment name) and its step
	// count, for checkpoints; SetState restores them.
	State() (map[string]*tensor.Tensor, int)
	SetState(state map[string]*tensor.Tensor, step int) error
}

// SGD is stochastic gradient descent with optional momentum (Nesterov's when set).
// Zero LR means 0.01.
type SGD struct {
	LR       float32
	Momentum float32
	Nesterov bool

	velocity map[string]*tensor.Tensor
	step     int
}

// Step applies one update: w -= lr*g, or through the velocity with momentum.
func (o *SGD) Step(params []NamedParam) {
	lr := o.LR
	if lr == 0 {
		lr = 0.01
	}
	o.step++
	for _, p := range params {
		w, g := p.Value.Data(), p.Grad.Data()
		if o.Momentum == 0 {
			kernels.Axpy(-lr, g, w)
			continue
		}
		v := moment(&o.velocity, p.Name, p.Value)
		// v = momentum*v - lr*g; w += v, or with Nesterov w += momentum*v - lr*g.
		kernels.Scale(o.Momentum, v)
		kernels.Axpy(-lr, g, v)
		if o.Nesterov {
			kernels.Axpy(o.Momentum, v, w)
			kernels.Axpy(-lr, g, w)
		} else {
			kernels.Axpy(1, v, w)
		}
	}
}

// check reports the first setting that cannot train.
func (o *SGD) check() error {
	return firstError(nonNegative("SGD.LR", o.LR), unitInterval("SGD.Momentum", o.Momentum))
}

// State returns the velocities and the step count.
func (o *SGD) State() (map[string]*tensor.Tensor, int) {
	return prefixed(o.velocity, "velocity"), o.step
}

// SetState restores what State returned.
func (o *SGD) SetState(state map[string]*tensor.Tensor, step int) error {
	o.velocity = unprefixed(state, "velocity")
	o.step = step
	return nil
}

// moment returns the optimizer tensor for a parameter, creating it (zero) on first use.
func moment(m *map[string]*tensor.Tensor, name string, like *tensor.Tensor) []float32 {
	if *m == nil {
		*m = map[string]*tensor.Tensor{}
	}
	t, ok := (*m)[name]
	if !ok {
		t = tensor.New(like.Shape()...)
		(*m)[name] = t
	}
	return t.Data()
}

// Adam is Adam (Kingma & Ba) with decoupled weight decay when WeightDecay is set (AdamW).
// Zero fields take Keras' defaults: LR 0.001, Beta1 0.9, Beta2 0.999, Eps 1e-7.
type Adam struct {
	LR, Beta1, Beta2, Eps float32
	WeightDecay           float32

	m, v map[string]*tensor.Tensor
	step int

	ps, gs, ms, vs [][]float32 // Step's lists of slices, kept so that a step allocates nothing
}

// NewAdamW returns Adam with decoupled weight decay 0.01 (PyTorch's AdamW default).
func NewAdamW() *Adam { return &Adam{WeightDecay: 0.01} }

func orDefault(x, def float32) float32 {
	if x == 0 {
		return def
	}
	return x
}

// Step applies one Adam update to every parameter with the fused kernel, all parameters in
// one call (kernels.AdamUpdates), so that the workers share the small ones too.
func (o *Adam) Step(params []NamedParam) {
	o.step++
	lr, b1, b2, eps := orDefault(o.LR, 0.001), orDefault(o.Beta1, 0.9), orDefault(o.Beta2, 0.999), orDefault(o.Eps, 1e-7)
	o.ps, o.gs, o.ms, o.vs = o.ps[:0], o.gs[:0], o.ms[:0], o.vs[:0]
	for _, p := range params {
		o.ps, o.gs = append(o.ps, p.Value.Data()), append(o.gs, p.Grad.Data())
		o.ms, o.vs = append(o.ms, moment(&o.m, p.Name, p.Value)), append(o.vs, moment(&o.v, p.Name, p.Value))
	}
	kernels.AdamUpdates(o.ps, o.gs, o.ms, o.vs, lr, b1, b2, eps, o.WeightDecay, o.step)
}

// check reports the first setting that cannot train.
func (o *Adam) check() error {
	return firstError(nonNegative("Adam.LR", o.LR), unitInterval("Adam.Beta1", o.Beta1),
		unitInterval("Adam.Beta2", o.Beta2), nonNegative("Adam.Eps", o.Eps),
		nonNegative("Adam.WeightDecay", o.WeightDecay))
}

// nonNegative checks a setting that must be a finite number >= 0 (0 takes the default).
func nonNegative(name string, v float32) error {
	if !(v >= 0) || math.IsInf(float64(v), 1) { // also NaN
		return fmt.Errorf("nn: %s is %v, not a finite number >= 0", name, v)
	}
	return nil
}

// unitInterval checks a setting that must be in [0, 1).
func unitInterval(name string, v float32) error {
	if !(v >= 0 && v < 1) {
		return fmt.Errorf("nn: %s is %v, not in [0, 1)", name, v)
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// State returns the first and second moments and the step count.
func (o *Adam) State() (map[string]*tensor.Tensor, int) {
	s := prefixed(o.m, "m")
	for k, t := range prefixed(o.v, "v") {
		s[k] = t
	}
	return s, o.step
}

// SetState restores what State returned.
func (o *Adam) SetState(state map[string]*tensor.Tensor, step int) error {
	o.m, o.v = unprefixed(state, "m"), unprefixed(state, "v")
	if len(o.m) != len(o.v) {
		return fmt.Errorf("adam: checkpoint has %d first moments and %d second moments", len(o.m), len(o.v))
	}
	o.step = step
	return nil
}

// prefixed names each tensor <param>.<kind>.
func prefixed(m map[string]*tensor.Tensor, kind string) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	for name, t := range m {
		out[name+"."+kind] = t
	}
	return out
}

func unprefixed(m map[string]*tensor.Tensor, kind string) map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	suffix := "." + kind
	for name, t := range m {
		if len(name) > len(suffix) && name[len(name)-len(suffix):] == suffix {
			out[name[:len(name)-len(suffix)]] = t
		}
	}
	return out
}
