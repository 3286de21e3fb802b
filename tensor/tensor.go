package tensor

import (
	"errors"
	"fmt"
	"strings"
)

// ErrShape is wrapped by every error about shapes: check it with errors.Is.
var ErrShape = errors.New("tensor: shape mismatch")

// ShapeError describes a shape mistake: the operation, the shapes given, and what is wrong.
type ShapeError struct {
	Op     string
	Shapes [][]int
	Reason string
}

// Error reads like "matmul: [32 784] x [128 10]: inner dimensions differ".
func (e *ShapeError) Error() string {
	parts := make([]string, len(e.Shapes))
	for i, s := range e.Shapes {
		parts[i] = fmt.Sprint(s)
	}
	return fmt.Sprintf("%s: %s: %s", e.Op, strings.Join(parts, " x "), e.Reason)
}

// Unwrap makes errors.Is(err, ErrShape) true.
func (e *ShapeError) Unwrap() error { return ErrShape }

func shapeErr(op, reason string, shapes ...[]int) error {
	return &ShapeError{Op: op, Shapes: shapes, Reason: reason}
}

// Tensor is a float32 array of any rank: a shape and its elements in row-major order.
// The zero value is not usable; make one with New or FromSlice.
type Tensor struct {
	shape []int
	data  []float32
}

// New returns a tensor of the given shape filled with zeros. It panics if a dimension is
// negative, as make does; use FromSlice to check sizes that come from input.
func New(shape ...int) *Tensor {
	n, err := size("new", shape)
	if err != nil {
		panic(err)
	}
	return &Tensor{shape: append([]int(nil), shape...), data: make([]float32, n)}
}

// FromSlice returns a tensor of the given shape that uses data as its elements (no copy).
// It is an error if a dimension is negative or len(data) is not the product of the shape.
func FromSlice(data []float32, shape ...int) (*Tensor, error) {
	n, err := size("fromslice", shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, shapeErr("fromslice", fmt.Sprintf("%d elements given for %d", len(data), n), shape)
	}
	return &Tensor{shape: append([]int(nil), shape...), data: data}, nil
}

// size is the element count of shape, or an error for a negative dimension.
func size(op string, shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, shapeErr(op, "negative dimension", shape)
		}
		n *= d
	}
	return n, nil
}

// Shape returns a copy of the tensor's shape.
func (t *Tensor) Shape() []int { return append([]int(nil), t.shape...) }

// Data returns the elements in row-major order. It is the tensor's own storage, not a copy.
func (t *Tensor) Data() []float32 { return t.data }

// Len is the number of elements.
func (t *Tensor) Len() int { return len(t.data) }

// Rank is the number of dimensions.
func (t *Tensor) Rank() int { return len(t.shape) }

// Dim returns the size of dimension i; it panics if i is out of range.
func (t *Tensor) Dim(i int) int { return t.shape[i] }

// Reshape returns a view of the same data with a new shape of the same size.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	n, err := size("reshape", shape)
	if err != nil {
		return nil, err
	}
	if n != len(t.data) {
		return nil, shapeErr("reshape", "sizes differ", t.shape, shape)
	}
	return &Tensor{shape: append([]int(nil), shape...), data: t.data}, nil
}

// Rows returns a view of rows i..j-1 of a 2-D tensor; no data is copied.
func (t *Tensor) Rows(i, j int) (*Tensor, error) {
	if len(t.shape) != 2 {
		return nil, shapeErr("rows", "not a matrix", t.shape)
	}
	if i < 0 || j < i || j > t.shape[0] {
		return nil, shapeErr("rows", fmt.Sprintf("rows %d..%d out of range", i, j), t.shape)
	}
	cols := t.shape[1]
	return &Tensor{shape: []int{j - i, cols}, data: t.data[i*cols : j*cols : j*cols]}, nil
}

// Clone returns a copy with its own data.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{shape: t.Shape(), data: append([]float32(nil), t.data...)}
}

// SameShape reports whether t and u have equal shapes.
func (t *Tensor) SameShape(u *Tensor) bool {
	if len(t.shape) != len(u.shape) {
		return false
	}
	for i, d := range t.shape {
		if u.shape[i] != d {
			return false
		}
	}
	return true
}

// String formats the tensor like numpy, eliding the middle of any dimension longer than 6.
func (t *Tensor) String() string {
	var b strings.Builder
	if len(t.shape) == 0 {
		fmt.Fprintf(&b, "%g", t.data[0])
		return b.String()
	}
	t.format(&b, 0, 0)
	return b.String()
}

func (t *Tensor) format(b *strings.Builder, dim, offset int) {
	const edge = 3
	n := t.shape[dim]
	stride := 1
	for _, d := range t.shape[dim+1:] {
		stride *= d
	}
	b.WriteByte('[')
	for i := 0; i < n; i++ {
		if n > 2*edge && i == edge {
			b.WriteString("...")
			i = n - edge - 1
			if dim == len(t.shape)-1 {
				b.WriteByte(' ')
			} else {
				b.WriteString("\n" + strings.Repeat(" ", dim+1))
			}
			continue
		}
		if dim == len(t.shape)-1 {
			fmt.Fprintf(b, "%g", t.data[offset+i])
		} else {
			t.format(b, dim+1, offset+i*stride)
		}
		if i < n-1 {
			if dim == len(t.shape)-1 {
				b.WriteByte(' ')
			} else {
				b.WriteString("\n" + strings.Repeat(" ", dim+1))
			}
		}
	}
	b.WriteByte(']')
}
