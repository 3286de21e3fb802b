package tensor

import (
	"fmt"
	"unsafe"

	"github.com/lanesml/lanes/kernels"
)

// matrix returns the rows and columns of a 2-D tensor, or an error naming op.
func matrix(op string, t *Tensor) (rows, cols int, err error) {
	if len(t.shape) != 2 {
		return 0, 0, shapeErr(op, "not a matrix", t.shape)
	}
	return t.shape[0], t.shape[1], nil
}

// checkDst is nil when dst has exactly the shape want.
func checkDst(op string, dst *Tensor, want ...int) error {
	same := len(dst.shape) == len(want)
	for i := 0; same && i < len(want); i++ {
		same = dst.shape[i] == want[i]
	}
	if same {
		return nil
	}
	// Format a copy: handing want itself to fmt would move every caller's shape to the heap.
	return shapeErr(op, fmt.Sprintf("destination should be %v", append([]int(nil), want...)), dst.shape)
}

// overlaps reports whether two slices share any element.
func overlaps(x, y []float32) bool {
	if len(x) == 0 || len(y) == 0 {
		return false
	}
	x0, y0 := uintptr(unsafe.Pointer(unsafe.SliceData(x))), uintptr(unsafe.Pointer(unsafe.SliceData(y)))
	return x0 < y0+uintptr(4*len(y)) && y0 < x0+uintptr(4*len(x))
}

// MatMul returns op(a) x op(b), where op transposes its matrix when the flag is set.
func MatMul(a, b *Tensor, transA, transB bool) (*Tensor, error) {
	m, n, _, err := matMulShape(a, b, transA, transB)
	if err != nil {
		return nil, err
	}
	dst := New(m, n)
	return dst, MatMulInto(dst, a, b, transA, transB)
}

func matMulShape(a, b *Tensor, transA, transB bool) (m, n, k int, err error) {
	ar, ac, err := matrix("matmul", a)
	if err != nil {
		return
	}
	br, bc, err := matrix("matmul", b)
	if err != nil {
		return
	}
	m, k = ar, ac
	if transA {
		m, k = ac, ar
	}
	kb, n := br, bc
	if transB {
		kb, n = bc, br
	}
	if k != kb {
		err = shapeErr("matmul", "inner dimensions differ", a.shape, b.shape)
	}
	return
}

// MatMulInto writes op(a) x op(b) into dst, which must be m x n and must not share memory
// with a or b.
func MatMulInto(dst, a, b *Tensor, transA, transB bool) error {
	return MatMulAddInto(dst, a, b, transA, transB, 1, 0)
}

// MatMulAddInto computes dst = alpha*op(a) x op(b) + beta*dst: matrix products that
// accumulate, such as gradients. beta == 0 overwrites dst without reading it.
func MatMulAddInto(dst, a, b *Tensor, transA, transB bool, alpha, beta float32) error {
	m, n, k, err := matMulShape(a, b, transA, transB)
	if err != nil {
		return err
	}
	if err := checkDst("matmul", dst, m, n); err != nil {
		return err
	}
	if overlaps(dst.data, a.data) || overlaps(dst.data, b.data) {
		return fmt.Errorf("matmul: destination shares memory with an operand")
	}
	kernels.Sgemm(transA, transB, m, n, k, alpha, a.data, max(1, a.shape[1]), b.data, max(1, b.shape[1]), beta, dst.data, max(1, n))
	return nil
}

// elementwise checks that a and b have one shape and dst (when not nil) too.
func elementwise(op string, dst, a, b *Tensor) error {
	if !a.SameShape(b) {
		return shapeErr(op, "shapes differ", a.shape, b.shape)
	}
	if dst != nil {
		return checkDst(op, dst, a.shape...)
	}
	return nil
}

// Add returns a + b, element by element.
func Add(a, b *Tensor) (*Tensor, error) { return alloc2(AddInto, a, b) }

// AddInto writes a + b into dst (which may be a or b).
func AddInto(dst, a, b *Tensor) error {
	if err := elementwise("add", dst, a, b); err != nil {
		return err
	}
	return axpyInto(dst, a, b, 1)
}

// Sub returns a - b, element by element.
func Sub(a, b *Tensor) (*Tensor, error) { return alloc2(SubInto, a, b) }

// SubInto writes a - b into dst (which may be a or b).
func SubInto(dst, a, b *Tensor) error {
	if err := elementwise("sub", dst, a, b); err != nil {
		return err
	}
	return axpyInto(dst, a, b, -1)
}

// axpyInto sets dst = a + alpha*b, shapes already checked.
func axpyInto(dst, a, b *Tensor, alpha float32) error {
	switch {
	case dst.sameStorage(b) && alpha == 1: // dst is b: b += a
		kernels.Axpy(1, a.data, dst.data)
	case dst.sameStorage(b): // dst is b: b = a + alpha*b, elementwise in place
		for i, v := range a.data {
			dst.data[i] = v + alpha*dst.data[i]
		}
	default:
		copyInto(dst, a)
		kernels.Axpy(alpha, b.data, dst.data)
	}
	return nil
}

// sameStorage reports whether t and u start at the same element: the same tensor, or views
// of the same data from the same place.
func (t *Tensor) sameStorage(u *Tensor) bool {
	return len(t.data) > 0 && len(u.data) > 0 && &t.data[0] == &u.data[0]
}

// copyInto copies a's elements into dst, unless dst already is a.
func copyInto(dst, a *Tensor) {
	if !dst.sameStorage(a) {
		copy(dst.data, a.data)
	}
}

// Mul returns a * b, element by element.
func Mul(a, b *Tensor) (*Tensor, error) { return alloc2(MulInto, a, b) }

// MulInto writes a * b into dst (which may be a or b).
func MulInto(dst, a, b *Tensor) error {
	if err := elementwise("mul", dst, a, b); err != nil {
		return err
	}
	bd := b.data[:len(a.data)]
	d := dst.data[:len(a.data)]
	for i, v := range a.data {
		d[i] = v * bd[i]
	}
	return nil
}

func alloc2(into func(dst, a, b *Tensor) error, a, b *Tensor) (*Tensor, error) {
	dst := New(a.shape...)
	if err := into(dst, a, b); err != nil {
		return nil, err
	}
	return dst, nil
}

// Scale returns s*a.
func Scale(a *Tensor, s float32) *Tensor {
	dst := a.Clone()
	kernels.Scale(s, dst.data)
	return dst
}

// ScaleInto writes s*a into dst (which may be a).
func ScaleInto(dst, a *Tensor, s float32) error {
	if err := checkDst("scale", dst, a.shape...); err != nil {
		return err
	}
	copyInto(dst, a)
	kernels.Scale(s, dst.data)
	return nil
}

// AddRowVector returns a with the vector v added to each row: a bias.
func AddRowVector(a, v *Tensor) (*Tensor, error) { return alloc2(AddRowVectorInto, a, v) }

// AddRowVectorInto writes a + v (v added to every row of the matrix a) into dst, which may be a.
func AddRowVectorInto(dst, a, v *Tensor) error {
	rows, cols, err := matrix("addrowvector", a)
	if err != nil {
		return err
	}
	if len(v.shape) != 1 || v.shape[0] != cols {
		return shapeErr("addrowvector", fmt.Sprintf("want a vector of %d", cols), a.shape, v.shape)
	}
	if err := checkDst("addrowvector", dst, rows, cols); err != nil {
		return err
	}
	copyInto(dst, a)
	kernels.AddBias(dst.data, v.data, rows, cols)
	return nil
}

// SumRows returns the vector of column sums of the matrix a.
func SumRows(a *Tensor) (*Tensor, error) {
	_, cols, err := matrix("sumrows", a)
	if err != nil {
		return nil, err
	}
	dst := New(cols)
	return dst, SumRowsInto(dst, a)
}

// SumRowsInto writes the column sums of the matrix a into the vector dst.
func SumRowsInto(dst, a *Tensor) error {
	rows, cols, err := matrix("sumrows", a)
	if err != nil {
		return err
	}
	if err := checkDst("sumrows", dst, cols); err != nil {
		return err
	}
	kernels.SumRows(dst.data, a.data, rows, cols)
	return nil
}

// rowwise runs a row kernel of the matrix a into dst.
func rowwise(op string, f func(dst, src []float32, rows, cols int), dst, a *Tensor) error {
	rows, cols, err := matrix(op, a)
	if err != nil {
		return err
	}
	if err := checkDst(op, dst, rows, cols); err != nil {
		return err
	}
	f(dst.data, a.data, rows, cols)
	return nil
}

// Softmax returns the row-wise softmax of the matrix a.
func Softmax(a *Tensor) (*Tensor, error) { return alloc1(SoftmaxInto, a) }

// SoftmaxInto writes the row-wise softmax of a into dst (which may be a).
func SoftmaxInto(dst, a *Tensor) error { return rowwise("softmax", kernels.Softmax, dst, a) }

// LogSoftmax returns the row-wise log-softmax of the matrix a.
func LogSoftmax(a *Tensor) (*Tensor, error) { return alloc1(LogSoftmaxInto, a) }

// LogSoftmaxInto writes the row-wise log-softmax of a into dst (which may be a).
func LogSoftmaxInto(dst, a *Tensor) error { return rowwise("logsoftmax", kernels.LogSoftmax, dst, a) }

func alloc1(into func(dst, a *Tensor) error, a *Tensor) (*Tensor, error) {
	dst := New(a.shape...)
	if err := into(dst, a); err != nil {
		return nil, err
	}
	return dst, nil
}

// unaryInto runs an element-wise kernel from a into dst.
func unaryInto(op string, f func(dst, src []float32), dst, a *Tensor) error {
	if err := checkDst(op, dst, a.shape...); err != nil {
		return err
	}
	f(dst.data, a.data)
	return nil
}

// ReLU returns max(a, 0) element by element.
func ReLU(a *Tensor) *Tensor { return must(alloc1(ReLUInto, a)) }

// ReLUInto writes max(a, 0) into dst (which may be a).
func ReLUInto(dst, a *Tensor) error { return unaryInto("relu", kernels.ReLU, dst, a) }

// Sigmoid returns 1/(1+exp(-a)) element by element.
func Sigmoid(a *Tensor) *Tensor { return must(alloc1(SigmoidInto, a)) }

// SigmoidInto writes the sigmoid of a into dst (which may be a).
func SigmoidInto(dst, a *Tensor) error { return unaryInto("sigmoid", kernels.Sigmoid, dst, a) }

// Tanh returns tanh(a) element by element.
func Tanh(a *Tensor) *Tensor { return must(alloc1(TanhInto, a)) }

// TanhInto writes tanh(a) into dst (which may be a).
func TanhInto(dst, a *Tensor) error { return unaryInto("tanh", kernels.Tanh, dst, a) }

// GELU returns the tanh approximation of GELU element by element.
func GELU(a *Tensor) *Tensor { return must(alloc1(GELUInto, a)) }

// GELUInto writes GELU(a) into dst (which may be a).
func GELUInto(dst, a *Tensor) error { return unaryInto("gelu", kernels.GELU, dst, a) }

// must unwraps the result of an allocating form whose only possible error is impossible.
func must(t *Tensor, err error) *Tensor {
	if err != nil {
		panic(err)
	}
	return t
}

// ArgmaxRows returns, for each row of the matrix a, the first index of its maximum.
func ArgmaxRows(a *Tensor) ([]int32, error) {
	rows, _, err := matrix("argmaxrows", a)
	if err != nil {
		return nil, err
	}
	dst := make([]int32, rows)
	return dst, ArgmaxRowsInto(dst, a)
}

// ArgmaxRowsInto writes the index of each row's maximum into dst (len(dst) == rows).
func ArgmaxRowsInto(dst []int32, a *Tensor) error {
	rows, cols, err := matrix("argmaxrows", a)
	if err != nil {
		return err
	}
	if len(dst) != rows {
		return shapeErr("argmaxrows", fmt.Sprintf("destination has %d entries for %d rows", len(dst), rows), a.shape)
	}
	if rows > 0 && cols == 0 {
		return shapeErr("argmaxrows", "rows are empty", a.shape)
	}
	kernels.ArgmaxRows(dst, a.data, rows, cols)
	return nil
}

// GatherRows returns the rows of the matrix a listed in idx, in that order: a mini-batch
// drawn through a shuffled index.
func GatherRows(a *Tensor, idx []int) (*Tensor, error) {
	_, cols, err := matrix("gatherrows", a)
	if err != nil {
		return nil, err
	}
	dst := New(len(idx), cols)
	return dst, GatherRowsInto(dst, a, idx)
}

// GatherRowsInto copies rows idx of the matrix a into dst, which is len(idx) x cols.
func GatherRowsInto(dst, a *Tensor, idx []int) error {
	rows, cols, err := matrix("gatherrows", a)
	if err != nil {
		return err
	}
	if err := checkDst("gatherrows", dst, len(idx), cols); err != nil {
		return err
	}
	for i, r := range idx {
		if r < 0 || r >= rows {
			return shapeErr("gatherrows", fmt.Sprintf("index %d (at %d) out of range", r, i), a.shape)
		}
		copy(dst.data[i*cols:(i+1)*cols], a.data[r*cols:(r+1)*cols])
	}
	return nil
}
