package tensor

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lanesml/lanes/internal/race"
)

func random(r *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.data {
		t.data[i] = float32(r.IntN(9) - 4) // small integers: sums are exact, results comparable with ==
	}
	return t
}

// shapes covers 1-row and 1-column matrices and a few general ones.
var shapes = [][2]int{{1, 1}, {1, 7}, {7, 1}, {3, 5}, {32, 10}, {17, 33}}

func TestMatMulAgainstLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range shapes {
		for _, k := range []int{1, 4, 19} {
			m, n := s[0], s[1]
			for tr := 0; tr < 4; tr++ {
				ta, tb := tr&1 == 1, tr&2 == 2
				a, b := random(r, m, k), random(r, k, n)
				if ta {
					a = random(r, k, m)
				}
				if tb {
					b = random(r, n, k)
				}
				got, err := MatMul(a, b, ta, tb)
				if err != nil {
					t.Fatal(err)
				}
				at := func(x *Tensor, i, j int, trans bool) float32 {
					if trans {
						i, j = j, i
					}
					return x.data[i*x.shape[1]+j]
				}
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var want float32
						for p := 0; p < k; p++ {
							want += at(a, i, p, ta) * at(b, p, j, tb)
						}
						if g := got.data[i*n+j]; g != want {
							t.Fatalf("%dx%dx%d tA=%v tB=%v: [%d][%d] = %v, want %v", m, k, n, ta, tb, i, j, g, want)
						}
					}
				}
			}
		}
	}
}

func TestElementwiseAndRows(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, s := range shapes {
		rows, cols := s[0], s[1]
		full := random(r, rows+2, cols)
		a, _ := full.Rows(1, rows+1) // a view
		b := random(r, rows, cols)
		sum, _ := Add(a, b)
		diff, _ := Sub(a, b)
		prod, _ := Mul(a, b)
		scaled := Scale(a, -2)
		for i, v := range a.data {
			if sum.data[i] != v+b.data[i] || diff.data[i] != v-b.data[i] || prod.data[i] != v*b.data[i] || scaled.data[i] != -2*v {
				t.Fatalf("%v: element %d: add %v sub %v mul %v scale %v for a=%v b=%v", s, i, sum.data[i], diff.data[i], prod.data[i], scaled.data[i], v, b.data[i])
			}
		}
		// In place: dst is a, then dst is b.
		c := b.Clone()
		if err := SubInto(c, a, c); err != nil {
			t.Fatal(err)
		}
		for i := range c.data {
			if c.data[i] != diff.data[i] {
				t.Fatalf("SubInto(b, a, b) element %d = %v, want %v", i, c.data[i], diff.data[i])
			}
		}
		bias := random(r, cols)
		withBias, _ := AddRowVector(a, bias)
		sums, _ := SumRows(a)
		for j := 0; j < cols; j++ {
			var want float32
			for i := 0; i < rows; i++ {
				want += a.data[i*cols+j]
				if withBias.data[i*cols+j] != a.data[i*cols+j]+bias.data[j] {
					t.Fatalf("AddRowVector %v [%d][%d]", s, i, j)
				}
			}
			if sums.data[j] != want {
				t.Fatalf("SumRows %v [%d] = %v, want %v", s, j, sums.data[j], want)
			}
		}
		sm, _ := Softmax(a)
		lsm, _ := LogSoftmax(a)
		arg, _ := ArgmaxRows(a)
		for i := 0; i < rows; i++ {
			row := a.data[i*cols : (i+1)*cols]
			best, mx := 0, row[0]
			var z float64
			for j, v := range row {
				if v > mx {
					best, mx = j, v
				}
			}
			for _, v := range row {
				z += math.Exp(float64(v - mx))
			}
			if int(arg[i]) != best {
				t.Fatalf("ArgmaxRows %v row %d = %d, want %d", s, i, arg[i], best)
			}
			for j, v := range row {
				p := math.Exp(float64(v-mx)) / z
				if math.Abs(float64(sm.data[i*cols+j])-p) > 1e-6 || math.Abs(float64(lsm.data[i*cols+j])-math.Log(p)) > 2e-6*math.Max(1, -math.Log(p)) {
					t.Fatalf("Softmax/LogSoftmax %v [%d][%d]: %v %v, want %v %v", s, i, j, sm.data[i*cols+j], lsm.data[i*cols+j], p, math.Log(p))
				}
			}
		}
		relu, sig, th := ReLU(a), Sigmoid(a), Tanh(a)
		for i, v := range a.data {
			if relu.data[i] != max(v, 0) || math.Abs(float64(sig.data[i])-1/(1+math.Exp(-float64(v)))) > 1e-6 ||
				math.Abs(float64(th.data[i])-math.Tanh(float64(v))) > 2e-6 {
				t.Fatalf("activations of %v: relu %v sigmoid %v tanh %v", v, relu.data[i], sig.data[i], th.data[i])
			}
		}
		idx := []int{rows - 1, 0, rows - 1}
		g, err := GatherRows(a, idx)
		if err != nil {
			t.Fatal(err)
		}
		for i, src := range idx {
			for j := 0; j < cols; j++ {
				if g.data[i*cols+j] != a.data[src*cols+j] {
					t.Fatalf("GatherRows row %d col %d", i, j)
				}
			}
		}
	}
}

func TestShapeErrors(t *testing.T) {
	a, b, v := New(32, 784), New(128, 10), New(3)
	_, err := MatMul(a, b, false, false)
	if !errors.Is(err, ErrShape) || err.Error() != "matmul: [32 784] x [128 10]: inner dimensions differ" {
		t.Errorf("MatMul error = %v", err)
	}
	checks := map[string]error{
		"matmul-dst":  MatMulInto(New(3, 3), New(2, 4), New(4, 3), false, false),
		"matmul-rank": MatMulInto(New(2, 3), New(2, 4, 1), New(4, 3), false, false),
		"add":         AddInto(New(2, 3), New(2, 3), New(3, 2)),
		"sub-dst":     SubInto(New(2, 2), New(2, 3), New(2, 3)),
		"mul":         MulInto(New(2, 3), New(2, 3), New(6)),
		"scale":       ScaleInto(New(2), New(3), 1),
		"bias":        AddRowVectorInto(New(2, 3), New(2, 3), v.mustReshape(3, 1)),
		"bias-len":    AddRowVectorInto(New(2, 4), New(2, 4), v),
		"sumrows":     SumRowsInto(New(4), New(2, 3)),
		"softmax":     SoftmaxInto(New(2, 3), New(3, 2)),
		"logsoftmax":  LogSoftmaxInto(New(6), New(6)),
		"relu":        ReLUInto(New(2), New(3)),
		"argmax":      ArgmaxRowsInto(make([]int32, 3), New(2, 3)),
		"gather":      GatherRowsInto(New(1, 3), New(2, 3), []int{2}),
		"gather-dst":  GatherRowsInto(New(2, 3), New(2, 3), []int{1}),
	}
	for name, err := range checks {
		if !errors.Is(err, ErrShape) {
			t.Errorf("%s: error %v does not wrap ErrShape", name, err)
		}
	}
	if _, err := FromSlice(make([]float32, 5), 2, 3); !errors.Is(err, ErrShape) {
		t.Errorf("FromSlice with 5 elements for [2 3]: %v", err)
	}
	if _, err := FromSlice(nil, 2, -1); !errors.Is(err, ErrShape) {
		t.Errorf("FromSlice with a negative dimension: %v", err)
	}
	if _, err := New(2, 3).Reshape(4, 2); !errors.Is(err, ErrShape) {
		t.Errorf("Reshape [2 3] to [4 2]: %v", err)
	}
	if _, err := New(2, 3).Rows(1, 3); !errors.Is(err, ErrShape) {
		t.Errorf("Rows(1, 3) of 2 rows: %v", err)
	}
	x := New(4, 4)
	view, _ := x.Rows(1, 3)
	if err := MatMulInto(view, x, New(4, 4), false, false); err == nil {
		t.Error("MatMulInto with dst overlapping an operand succeeded")
	}
}

func (t *Tensor) mustReshape(shape ...int) *Tensor {
	u, err := t.Reshape(shape...)
	if err != nil {
		panic(err)
	}
	return u
}

func TestViewsShareData(t *testing.T) {
	x, _ := FromSlice([]float32{1, 2, 3, 4, 5, 6}, 3, 2)
	rows, _ := x.Rows(1, 3)
	rows.Data()[0] = 30
	flat, _ := x.Reshape(6)
	if x.Data()[2] != 30 || flat.Data()[2] != 30 || rows.Len() != 4 || rows.Dim(0) != 2 {
		t.Errorf("views do not share data: x %v rows %v flat %v", x.Data(), rows.Data(), flat.Data())
	}
	c := x.Clone()
	c.Data()[0] = -1
	if x.Data()[0] != 1 {
		t.Error("Clone shares data")
	}
}

func TestIntoFormsAllocateNothing(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	r := rand.New(rand.NewPCG(3, 3))
	big := random(r, 40, 784)
	x, _ := big.Rows(4, 36) // a 32 x 784 view
	w, bias := random(r, 784, 128), random(r, 128)
	h, s, sums := New(32, 128), New(32, 128), New(128)
	arg := make([]int32, 32)
	idx := make([]int, 32)
	for i := range idx {
		idx[i] = 39 - i
	}
	batch := New(32, 784)
	allocs := testing.AllocsPerRun(20, func() {
		_ = GatherRowsInto(batch, big, idx)
		_ = MatMulInto(h, x, w, false, false)
		_ = AddRowVectorInto(h, h, bias)
		_ = ReLUInto(h, h)
		_ = SoftmaxInto(s, h)
		_ = AddInto(s, s, h)
		_ = MulInto(s, s, h)
		_ = SumRowsInto(sums, s)
		_ = ArgmaxRowsInto(arg, s)
	})
	if allocs != 0 {
		t.Errorf("Into forms: %v allocations per round, want 0", allocs)
	}
}

func TestString(t *testing.T) {
	x, _ := FromSlice([]float32{1, 2.5, 3, 4, 5, 6}, 2, 3)
	if got, want := x.String(), "[[1 2.5 3]\n [4 5 6]]"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	long := New(100)
	if s := long.String(); !strings.Contains(s, "...") || len(s) > 40 {
		t.Errorf("a 100-element vector prints as %q, want it elided", s)
	}
	if s := fmt.Sprint(New(0, 3), New(2, 0)); s != "[] [[]\n []]" {
		t.Errorf("empty tensors print as %q", s)
	}
}
