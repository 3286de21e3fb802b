package kernels

import (
	"math/rand/v2"
	"os"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Guard-page tests: each slice is placed so that its last element ends a page followed by a
// PROT_NONE page (or its first element starts a page after one). A kernel that reads or
// writes a single float outside its slice then faults instead of passing silently.

type edge int

const (
	atEnd   edge = iota // the slice's end touches an inaccessible page
	atStart             // the slice's start follows an inaccessible page
)

func (e edge) String() string { return [...]string{"end", "start"}[e] }

// guardedSlice returns n float32s against an inaccessible page, filled from r.
func guardedSlice(t testing.TB, r *rand.Rand, n int, e edge) []float32 {
	t.Helper()
	page := os.Getpagesize()
	size := (4*n + page - 1) / page * page
	mem, err := unix.Mmap(-1, 0, size+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	var b []byte
	if e == atEnd {
		if err := unix.Mprotect(mem[size:], unix.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		b = mem[size-4*n : size]
	} else {
		if err := unix.Mprotect(mem[:page], unix.PROT_NONE); err != nil {
			t.Fatal(err)
		}
		b = mem[page : page+4*n]
	}
	if n == 0 {
		return []float32{}
	}
	s := unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	for i := range s {
		s[i] = r.Float32()*4 - 2
	}
	return s
}

// guardedBytes returns n bytes against an inaccessible page, filled from r.
func guardedBytes(t testing.TB, r *rand.Rand, n int, e edge) []byte {
	f := guardedSlice(t, r, (n+3)/4, e)
	if n == 0 {
		return []byte{}
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f))
	if e == atEnd {
		return b[len(b)-n:]
	}
	return b[:n]
}

func TestVectorKernelsAgainstGuardPages(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(51, 52))
		for _, e := range []edge{atEnd, atStart} {
			for n := 0; n <= 70; n++ {
				s := func() []float32 { return guardedSlice(t, r, n, e) }
				x, y, d := s(), s(), s()
				Axpy(0.5, x, y)
				Scale(2, y)
				Dot(x, y)
				BytesToFloat32(d, guardedBytes(t, r, n, e), 1.0/255)
				if n > 0 {
					GatherBytesToFloat32(d, guardedBytes(t, r, n, e), []int{0}, n, 1.0/255)
				}
				for _, f := range []func(dst, src []float32){Exp, ReLU, Sigmoid, Tanh, GELU} {
					f(d, x)
				}
				for _, f := range []func(dst, grad, x []float32){ReLUBackward, SigmoidBackward, TanhBackward, GELUBackward} {
					f(d, y, x)
				}
				AdamUpdate(s(), x, s(), func() []float32 { v := s(); Scale(0, v); return v }(), 1e-3, 0.9, 0.999, 1e-7, 0.01, 1)
				for _, cols := range []int{1, 3, 8, 10, 16, 17} {
					if n%cols != 0 {
						continue
					}
					rows := n / cols
					Softmax(d, x, rows, cols)
					LogSoftmax(d, x, rows, cols)
					labels := make([]int32, rows)
					SoftmaxCrossEntropy(d, x, labels, rows, cols)
					b := guardedSlice(t, r, cols, e)
					AddBias(d, b, rows, cols)
					SumRows(b, x, rows, cols)
					ArgmaxRows(make([]int32, rows), x, rows, cols)
				}
			}
		}
	})
}

func TestSgemmAgainstGuardPages(t *testing.T) {
	dims := []int{1, 2, 5, 6, 7, 12, 13, 16, 17, 33}
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(53, 54))
		for _, e := range []edge{atEnd, atStart} {
			for i, m := range dims {
				for j, n := range dims {
					k := dims[(i+j)%len(dims)] * 3
					for tr := 0; tr < 4; tr++ {
						ta, tb := tr&1 == 1, tr&2 == 2
						aRows, aCols := stored(ta, m, k)
						bRows, bCols := stored(tb, k, n)
						a := guardedSlice(t, r, aRows*aCols, e)
						b := guardedSlice(t, r, bRows*bCols, e)
						c := guardedSlice(t, r, m*n, e)
						Sgemm(ta, tb, m, n, k, 1, a, aCols, b, bCols, 0.5, c, n)
					}
				}
			}
		}
	})
}

// TestSparsePathAgainstGuardPages runs the sparse path itself (Sgemm gives it only wide
// enough products) on every width of C, every tail of a vector, with each operand against an
// inaccessible page: it reads B in place, so its masked last vector must stay inside B.
func TestSparsePathAgainstGuardPages(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		g := impl().gemm
		r := rand.New(rand.NewPCG(55, 56))
		for _, e := range []edge{atEnd, atStart} {
			for n := 1; n <= g.sparse.width+17; n++ {
				for _, ta := range []bool{false, true} {
					m, k := 1+n%5, 1+(n*7)%70
					aRows, aCols := stored(ta, m, k)
					a := guardedSlice(t, r, aRows*aCols, e)
					for i := range a {
						if i%3 != 0 {
							a[i] = 0
						}
					}
					p := gemmProblem{transA: ta, m: m, n: n, k: k, alpha: 1, beta: 0.5,
						a: a, lda: aCols, b: guardedSlice(t, r, k*n, e), ldb: n, c: guardedSlice(t, r, m*n, e), ldc: n}
					gemmSparseSerial(g, &p, new(packBuffers), checkShare{0, 1})
					g.sparse.finite(k, n, p.b, n)
				}
			}
		}
	})
}
