package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// byteMatrix returns rows x cols bytes (row stride ld, padding 0xff) of which about the
// fraction zeros are zero and the rest random in [1, 255].
func byteMatrix(r *rand.Rand, rows, cols, ld int, zeros float64) []byte {
	s := make([]byte, max(0, (rows-1)*ld+cols))
	for i := range s {
		switch {
		case i%ld >= cols:
			s[i] = 0xff
		case r.Float64() >= zeros:
			s[i] = byte(1 + r.IntN(255))
		}
	}
	return s
}

// floatsOf converts a byte matrix as BytesToFloat32 does, keeping its layout.
func floatsOf(a []byte, scale float32) []float32 {
	f := make([]float32, len(a))
	BytesToFloat32(f, a, scale)
	return f
}

// TestSgemmBytesMatchesSgemm: on every tier and on 1 and 2 threads, SgemmBytes gives the bits
// Sgemm gives on A converted to floats: both layouts of A, sparse and dense A (both paths),
// sizes across vectors, runs of 64 steps, kc blocks and 8 x 8 transpose blocks, padded
// strides, every write-back (beta 0 with NaN in C, which must not be read), a B holding Inf or
// NaN (which sends a sparse A to the dense path), and guards around C.
func TestSgemmBytesMatchesSgemm(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(81, 82))
		scalars := [][2]float32{{1, 0}, {-0.5, 0.25}, {1, 1}, {2, 0}}
		shapes := [][3]int{{128, 128, 784}, {784, 128, 128}, {33, 65, 257}, {7, 64, 9}, {200, 130, 70}, {1, 64, 1}, {64, 200, 300}}
		i := 0
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for _, sh := range shapes {
				for _, transA := range []bool{false, true} {
					for _, zeros := range []float64{0.81, 0.2} {
						for _, bad := range []float32{0, float32(math.Inf(1)), float32(math.NaN())} {
							i++
							m, n, k := sh[0], sh[1], sh[2]
							if transA {
								m, k = k, m
							}
							s := scalars[i%len(scalars)]
							checkSgemmBytes(t, r, transA, m, n, k, s[0], s[1], i%3, bad, zeros)
						}
					}
				}
			}
		}
	})
}

func checkSgemmBytes(t *testing.T, r *rand.Rand, transA bool, m, n, k int, alpha, beta float32, pad int, bad float32, zeros float64) {
	t.Helper()
	name := fmt.Sprintf("%dx%dx%d transA=%v alpha=%v beta=%v zeros=%v bad=%v", m, n, k, transA, alpha, beta, zeros, bad)
	const scale = 1.0 / 255
	aRows, aCols := stored(transA, m, k)
	lda, ldb, ldc := aCols+pad, n+pad, n+2*pad
	a := byteMatrix(r, aRows, aCols, lda, zeros)
	b := sparseMatrix(r, k, n, ldb, 0)
	if bad != 0 {
		b[r.IntN(k)*ldb+r.IntN(n)] = bad
	}
	const guard = 9
	c := sparseMatrix(r, guard+m*ldc+guard, 1, 1, 0)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			if beta == 0 {
				c[guard+i*ldc+j] = float32(math.NaN())
			}
		}
	}
	want := append([]float32(nil), c...)
	Sgemm(transA, false, m, n, k, alpha, floatsOf(a, scale), lda, b, ldb, beta, want[guard:guard+m*ldc], ldc)
	SgemmBytes(transA, m, n, k, alpha, a, scale, lda, b, ldb, beta, c[guard:guard+m*ldc], ldc)
	for i := range c {
		if got, w := c[i], want[i]; math.Float32bits(got) != math.Float32bits(w) && !(math.IsNaN(float64(got)) && math.IsNaN(float64(w))) {
			t.Fatalf("%s: c[%d] (guard %d) = %v, Sgemm on the floats gives %v", name, i, guard, got, w)
		}
	}
}

// TestSgemmBytesChecksArguments: bad sizes and short slices panic with a message naming
// SgemmBytes and the argument.
func TestSgemmBytesChecksArguments(t *testing.T) {
	a, b, c := make([]byte, 12), make([]float32, 12), make([]float32, 12)
	for _, tc := range []struct {
		name string
		call func()
		want string
	}{
		{"short a", func() { SgemmBytes(false, 3, 4, 4, 1, a[:11], 1, 4, b, 4, 0, c, 4) }, "len(a) = 11"},
		{"lda", func() { SgemmBytes(true, 4, 4, 3, 1, a, 1, 3, b, 4, 0, c, 4) }, "lda = 3"},
		{"negative m", func() { SgemmBytes(false, -1, 4, 4, 1, a, 1, 4, b, 4, 0, c, 4) }, "m = -1"},
		{"short c", func() { SgemmBytes(false, 3, 4, 3, 1, a, 1, 4, b, 4, 0, c[:11], 4) }, "len(c) = 11"},
	} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			tc.call()
			return ""
		}()
		if !strings.Contains(msg, "SgemmBytes") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: panic %q, want one naming SgemmBytes and %q", tc.name, msg, tc.want)
		}
	}
}

// TestByteHelpersMatchGeneric checks each tier's marker and transpose of bytes against the
// Go ones, with guards: every length up to 200 for the marker (every tail of 16 and of a
// 64-byte run, padding past k not marked, no mask past a row's runs), and every size up to
// 20 x 20 for the transpose (whole 8 x 8 blocks and every edge), dst padded.
func TestByteHelpersMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	for _, name := range Available() {
		s := tierByName(t, name).gemm.sparse
		for k := 1; k <= 200; k++ {
			for rows := 1; rows <= 3; rows++ {
				ld := k + r.IntN(3)
				a := byteMatrix(r, rows, k, ld, 0.7) // padding 0xff: must not be marked
				const guard = 0xdeadbeef
				runs := ceilDiv(k, sparseSteps)
				stride := runs + 1
				masks, want := make([]uint64, rows*stride+1), make([]uint64, rows*stride+1)
				for i := range masks {
					masks[i], want[i] = guard, guard
				}
				sparseMasksGeneric(rows, k, a, ld, want, stride)
				s.masksU8(rows, k, a, ld, masks, stride)
				for i := range masks {
					if masks[i] != want[i] {
						t.Fatalf("%s k=%d rows=%d: masks[%d] = %#x, want %#x", name, k, rows, i, masks[i], want[i])
					}
				}
				for i := range rows {
					for q := 0; q < k; q++ {
						if got := want[i*stride+q/sparseSteps]>>(q%sparseSteps)&1 == 1; got != (a[i*ld+q] != 0) {
							t.Fatalf("k=%d: row %d column %d (%d) marked %v", k, i, q, a[i*ld+q], got)
						}
					}
				}
			}
		}
		for rows := 1; rows <= 20; rows++ {
			for cols := 1; cols <= 20; cols++ {
				lds, ldd := cols+r.IntN(3), rows+1+r.IntN(3)
				src := byteMatrix(r, rows, cols, lds, 0)
				got, want := make([]byte, cols*ldd), make([]byte, cols*ldd)
				for i := range got {
					got[i], want[i] = 0xa5, 0xa5
				}
				transposeBytesGeneric(want, ldd, src, lds, rows, cols)
				s.transposeU8(got, ldd, src, lds, rows, cols)
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("%s %dx%d: dst[%d] = %#x, want %#x", name, rows, cols, i, got[i], want[i])
					}
				}
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if want[j*ldd+i] != src[i*lds+j] {
							t.Fatalf("%dx%d: the generic transpose put %d at (%d, %d)", rows, cols, want[j*ldd+i], j, i)
						}
					}
				}
			}
		}
	}
}

// TestGatherBytes: every tier and thread count copies the rows idx names, in order, and
// nothing else; a bad index or length panics naming GatherBytes.
func TestGatherBytes(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(85, 86))
	const width, rows = 784, 300
	src := byteMatrix(r, rows, width, width, 0.5)
	forEachTier(t, func(t *testing.T) {
		for _, threads := range []int{1, 2, 3} {
			SetThreads(threads)
			for _, n := range []int{0, 1, 5, 32, 128} {
				idx := make([]int, n)
				for i := range idx {
					idx[i] = r.IntN(rows)
				}
				dst := make([]byte, n*width+1)
				dst[n*width] = 0x5a
				GatherBytes(dst[:n*width], src, idx, width)
				for i, e := range idx {
					if string(dst[i*width:(i+1)*width]) != string(src[e*width:(e+1)*width]) {
						t.Fatalf("threads=%d n=%d: row %d is not row %d of src", threads, n, i, e)
					}
				}
				if dst[n*width] != 0x5a {
					t.Fatalf("threads=%d n=%d: wrote past dst", threads, n)
				}
			}
		}
	})
	for _, tc := range []struct {
		idx  []int
		dst  int
		want string
	}{{[]int{rows}, width, "idx[0] = 300"}, {[]int{-1}, width, "idx[0] = -1"}, {[]int{0}, width - 1, "len(dst)"}} {
		msg := func() (msg string) {
			defer func() { msg = fmt.Sprint(recover()) }()
			GatherBytes(make([]byte, tc.dst), src, tc.idx, width)
			return ""
		}()
		if !strings.Contains(msg, "GatherBytes") || !strings.Contains(msg, tc.want) {
			t.Errorf("panic %q, want one naming GatherBytes and %q", msg, tc.want)
		}
	}
}
