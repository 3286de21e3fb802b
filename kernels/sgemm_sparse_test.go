package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// sparseMatrix returns rows x cols floats (row stride ld, padding NaN) of which about the
// fraction zeros are zero and the rest random in [-1, 1).
func sparseMatrix(r *rand.Rand, rows, cols, ld int, zeros float64) []float32 {
	s := make([]float32, max(0, (rows-1)*ld+cols))
	for i := range s {
		switch {
		case i%ld >= cols:
			s[i] = float32(math.NaN())
		case r.Float64() >= zeros:
			s[i] = r.Float32()*2 - 1
		}
	}
	return s
}

// TestSgemmSparseShapes runs products whose A is 85% zeros, which Sgemm gives to the sparse
// path, against the float64 reference with guards around C and NaN in C when beta is 0:
// sizes across the build's row blocks (mc), the multiply's column chunks (every remainder of
// a vector) and its runs of k steps, and k across kc blocks.
func TestSgemmSparseShapes(t *testing.T) {
	ms := []int{1, 2, 7, 32, 33, 150, 200}
	ns := []int{64, 65, 72, 127, 128, 129, 200, 255}
	ks := []int{1, 3, 63, 64, 65, 256, 257, 784}
	scalars := [][2]float32{{1, 0}, {1, 1}, {-0.5, 0.25}, {1, 0.25}, {2, 0}}
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(61, 62))
		i := 0
		for _, m := range ms {
			for _, n := range ns {
				for _, k := range ks {
					if testing.Short() && m*n*k > 1<<19 {
						continue
					}
					s := scalars[i%len(scalars)]
					i++
					checkGemmCase(t, r, gemmCase{transA: i%2 == 1, m: m, n: n, k: k, alpha: s[0], beta: s[1],
						padA: i % 3, padB: (i / 3) % 2, padC: i % 4, floats: i%3 == 0, zeros: 0.85})
				}
			}
		}
	})
}

// TestSparseMatchesDense: on every tier, the sparse path gives the dense path's bits, for
// every width of C up to past two of the multiply's column chunks (every unrolled variant of
// the assembly), both layouts of A, and k across runs of steps and kc blocks.
func TestSparseMatchesDense(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		g := impl().gemm
		r := rand.New(rand.NewPCG(63, 64))
		scalars := [][2]float32{{1, 0}, {-0.5, 0.25}, {1, 1}, {2, 0}}
		for n := 1; n <= 2*g.sparse.width+3; n++ {
			for _, transA := range []bool{false, true} {
				m, k := 1+r.IntN(40), 1+r.IntN(600)
				if n%7 == 0 {
					m = 140 + r.IntN(60) // two row blocks
				}
				aRows, aCols := stored(transA, m, k)
				lda := aCols + r.IntN(3)
				s := scalars[n%len(scalars)]
				p := gemmProblem{transA: transA, m: m, n: n, k: k, alpha: s[0], beta: s[1],
					a: sparseMatrix(r, aRows, aCols, lda, 0.8), lda: lda,
					b: sparseMatrix(r, k, n, n+1, 0), ldb: n + 1,
					c: sparseMatrix(r, m, n, n+2, 0), ldc: n + 2}
				dense := p
				dense.c = append([]float32(nil), p.c...)
				gemmSerial(g, &dense, new(packBuffers))
				gemmSparseSerial(g, &p, new(packBuffers), checkShare{})
				for i := range p.c {
					if got, want := p.c[i], dense.c[i]; math.Float32bits(got) != math.Float32bits(want) &&
						!(math.IsNaN(float64(got)) && math.IsNaN(float64(want))) { // the padding
						t.Fatalf("%dx%dx%d transA=%v: C[%d] = %v by the sparse path, %v by the dense one",
							m, n, k, transA, i, got, want)
					}
				}
			}
		}
	})
}

// TestSgemmSparseSpecialValues: NaN and Inf in a sparse A reach C as on the dense path, and
// a B holding Inf or NaN is given back to the dense path (a skipped zero of A times Inf must
// still make NaN), whether the caller checks B first (1 worker, or beta != 0) or each worker
// checks a share of it (several workers and beta == 0).
func TestSgemmSparseSpecialValues(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(65, 66))
		m, n, k := 256, 128, 784
		for _, c := range []struct {
			name   string
			aValue float32 // written into A at (3, 17)
			bValue float32 // written into B at row bAt[0], column bAt[1], where A's column is all zero
		}{
			{"NaN in A", float32(math.NaN()), 1},
			{"Inf in A", float32(math.Inf(-1)), 1},
			{"Inf in B", 1, float32(math.Inf(1))},
			{"NaN in B", 1, float32(math.NaN())},
		} {
			// Blocks of B in different runs, column blocks and k blocks, so that each
			// worker's share of the checks (checkShare) holds one.
			for _, bAt := range [][2]int{{18, 5}, {82, 70}, {300, 5}, {700, 127}} {
				for _, threads := range []int{1, 2, 3} {
					for _, beta := range []float32{0, 0.5} {
						SetThreads(threads)
						a := sparseMatrix(r, m, k, k, 0.9)
						b := sparseMatrix(r, k, n, n, 0)
						for i := 0; i < m; i++ {
							a[i*k+bAt[0]] = 0
						}
						a[3*k+17] = c.aValue
						b[bAt[0]*n+bAt[1]] = c.bValue
						p := gemmProblem{m: m, n: n, k: k, alpha: 1, a: a, lda: k, b: b, ldb: n, beta: beta,
							c: sparseMatrix(r, m, n, n, 0), ldc: n}
						want := p
						want.c = append([]float32(nil), p.c...)
						gemmSerial(impl().gemm, &want, new(packBuffers))
						if ok, _ := sparseWorth(&p); !ok {
							t.Fatalf("%s: the product does not take the sparse path", c.name)
						}
						probe := p
						probe.c = append([]float32(nil), p.c...)
						if ok := runSparse(impl().gemm, &probe, 0.1); ok != (c.bValue == 1) {
							t.Errorf("%s at %v, threads=%d, beta=%v: runSparse = %v", c.name, bAt, threads, beta, ok)
						}
						Sgemm(false, false, m, n, k, 1, a, k, b, n, beta, p.c, n)
						for i := range p.c {
							got, w := p.c[i], want.c[i]
							if math.Float32bits(got) != math.Float32bits(w) && !(math.IsNaN(float64(got)) && math.IsNaN(float64(w))) {
								t.Fatalf("%s at %v, threads=%d, beta=%v: C[%d] = %v, the dense path gives %v", c.name, bAt, threads, beta, i, got, w)
							}
						}
					}
				}
			}
		}
	})
}

// TestSparseWorth checks which products take the sparse path.
func TestSparseWorth(t *testing.T) {
	r := rand.New(rand.NewPCG(67, 68))
	problem := func(transA, transB bool, m, n, k int, zeros float64) *gemmProblem {
		aRows, aCols := stored(transA, m, k)
		bRows, bCols := stored(transB, k, n)
		return &gemmProblem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1,
			a: sparseMatrix(r, aRows, aCols, aCols, zeros), lda: aCols,
			b: sparseMatrix(r, bRows, bCols, bCols, 0), ldb: bCols, c: make([]float32, m*n), ldc: n}
	}
	for _, c := range []struct {
		name string
		p    *gemmProblem
		want bool
	}{
		{"MLP forward, 81% zeros", problem(false, false, 32, 128, 784, 0.81), true},
		{"MLP weight gradient, 81% zeros", problem(true, false, 784, 128, 32, 0.81), true},
		{"dense A", problem(false, false, 32, 128, 784, 0), false},
		{"half zeros", problem(false, false, 32, 128, 784, 0.5), false},
		{"B transposed", problem(false, true, 32, 128, 784, 0.9), false},
		{"narrow C", problem(false, false, 256, 32, 784, 0.9), false},
		{"small product", problem(false, false, 4, 64, 64, 0.9), false},
	} {
		if got, _ := sparseWorth(c.p); got != c.want {
			t.Errorf("%s: sparseWorth = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestSparseSplitK: on every tier, a product that two workers split along k (splitK) gives
// the dense path's bits, for float and byte A in both layouts, widths across vectors, k from
// the shortest second block splitK takes to two whole blocks, padded strides, NaN in C
// (beta == 0: not read), guards around C, and B with Inf or NaN in either block (the product
// then goes back to the dense path). splitK itself is checked on the shapes around its
// limits.
func TestSparseSplitK(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		SetThreads(2)
		g := impl().gemm
		kc := g.kc
		r := rand.New(rand.NewPCG(69, 70))
		for _, c := range []struct {
			m, k        int
			alpha, beta float32
			want        bool
		}{
			{32, 2 * kc, 1, 0, true},
			{1, kc + (3*kc+3)/4, 1, 0, true},
			{32, kc + (3*kc+3)/4 - 1, 1, 0, false}, // a second block too short to be worth a worker
			{32, 2*kc + 1, 1, 0, false},            // three blocks
			{32, kc, 1, 0, false},                  // one block
			{32, 2 * kc, 2, 0, false},              // alpha != 1: the sums would be scaled before they are added
			{32, 2 * kc, 1, 1, false},              // C is an input
			{2 * kc / 2, 2 * kc, 1, 0, true},
			{2*kc/2 + 1, 2 * kc, 1, 0, false}, // C more than half of B
		} {
			p := gemmProblem{m: c.m, n: 64, k: c.k, alpha: c.alpha, beta: c.beta}
			if got := splitK(g, &p); got != c.want {
				t.Errorf("splitK(%dx64x%d, alpha=%v, beta=%v) = %v, want %v", c.m, c.k, c.alpha, c.beta, got, c.want)
			}
		}

		const guard, scale = 7, float32(1.0 / 255)
		i := 0
		for _, m := range []int{16, 33, 128, 300} {
			for _, n := range []int{64, 65, 72, 128, 131} {
				for _, k := range []int{kc + (3*kc+3)/4, 2*kc - 5, 2 * kc} {
					for _, bad := range []float32{0, float32(math.Inf(-1)), float32(math.NaN())} {
						if 2*m > k {
							continue
						}
						i++
						transA, bytes := i%2 == 1, i%3 != 0
						aRows, aCols := stored(transA, m, k)
						lda, ldb, ldc := aCols+i%3, n+i%2, n+i%4
						a8 := byteMatrix(r, aRows, aCols, lda, 0.85)
						a := floatsOf(a8, scale)
						b := sparseMatrix(r, k, n, ldb, 0)
						if bad != 0 { // in the first block or the second
							b[(i%2*kc+r.IntN(k-kc))*ldb+r.IntN(n)] = bad
						}
						c := sparseMatrix(r, guard+m*ldc+guard, 1, 1, 0)
						for row := range m {
							for j := range n {
								c[guard+row*ldc+j] = float32(math.NaN())
							}
						}
						want := append([]float32(nil), c...)
						dense := gemmProblem{transA: transA, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
							b: b, ldb: ldb, c: want[guard : guard+m*ldc], ldc: ldc}
						gemmSerial(g, &dense, new(packBuffers))
						name := fmt.Sprintf("%dx%dx%d transA=%v bytes=%v bad=%v", m, n, k, transA, bytes, bad)
						ok, density := sparseWorth(&dense)
						work := float64(m*n*k) * density * sparseCost
						if !ok || !splitK(g, &dense) || min(workersFor(work), m) != 2 { // as runSparse decides
							t.Fatalf("%s: not split along k by the sparse path", name)
						}
						if bytes {
							SgemmBytes(transA, m, n, k, 1, a8, scale, lda, b, ldb, 0, c[guard:guard+m*ldc], ldc)
						} else {
							Sgemm(transA, false, m, n, k, 1, a, lda, b, ldb, 0, c[guard:guard+m*ldc], ldc)
						}
						for q := range c {
							if got, w := c[q], want[q]; math.Float32bits(got) != math.Float32bits(w) &&
								!(math.IsNaN(float64(got)) && math.IsNaN(float64(w))) {
								t.Fatalf("%s: c[%d] (guard %d) = %v, the dense path gives %v", name, q, guard, got, w)
							}
						}
					}
				}
			}
		}
	})
}

func tierByName(t *testing.T, name string) *tier {
	for _, tr := range available {
		if tr.name == name {
			return tr
		}
	}
	t.Fatalf("no tier %q", name)
	return nil
}

// TestSparseHelpersMatchGeneric checks each tier's nonzero marker and finiteness check
// against the Go ones: every length up to 200 (every tail of a vector and of a 64-column
// run), -0 counted as zero, NaN and denormals marked, padding past k not marked, and no mask
// written past a row's last run.
func TestSparseHelpersMatchGeneric(t *testing.T) {
	r := rand.New(rand.NewPCG(69, 70))
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.NaN()), 1e-40, float32(math.Inf(1)), -2}
	for _, name := range Available() {
		s := tierByName(t, name).gemm.sparse
		for k := 1; k <= 200; k++ {
			for rows := 1; rows <= 3; rows++ {
				ld := k + r.IntN(3)
				a := sparseMatrix(r, rows, k, ld, 0.7)
				for i := 0; i < 3; i++ {
					a[r.IntN(len(a))] = specials[r.IntN(len(specials))]
				}
				for i := range a {
					if i%ld >= k {
						a[i] = 5 // padding: must not be marked
					}
				}
				const guard = 0xdeadbeef
				runs := ceilDiv(k, sparseSteps)
				stride := runs + 1 // a guard between rows
				masks, want := make([]uint64, rows*stride+1), make([]uint64, rows*stride+1)
				for i := range masks {
					masks[i], want[i] = guard, guard
				}
				sparseMasksGeneric(rows, k, a, ld, want, stride)
				s.masks(rows, k, a, ld, masks, stride)
				for i := range masks {
					if masks[i] != want[i] {
						t.Fatalf("%s k=%d rows=%d: masks[%d] = %#x, want %#x", name, k, rows, i, masks[i], want[i])
					}
				}
				for i := range rows {
					if want[i*stride+runs] != guard {
						t.Fatalf("k=%d rows=%d: the generic marker wrote past row %d's runs", k, rows, i)
					}
					for q := 0; q < k; q++ {
						v := a[i*ld+q]
						if got := want[i*stride+q/sparseSteps]>>(q%sparseSteps)&1 == 1; got != (v != 0) {
							t.Fatalf("k=%d: row %d column %d (%v) marked %v", k, i, q, v, got)
						}
					}
				}

				b := sparseMatrix(r, rows, k, ld, 0)
				if got, want := s.finite(rows, k, b, ld), finiteRowsGeneric(rows, k, b, ld); got != want || !got {
					t.Fatalf("%s k=%d: finite = %v, generic %v, on finite rows", name, k, got, want)
				}
				for _, bad := range []float32{float32(math.Inf(-1)), float32(math.NaN())} {
					at := r.IntN(rows)*ld + r.IntN(k)
					b[at] = bad
					if s.finite(rows, k, b, ld) {
						t.Fatalf("%s k=%d: finite missed %v at %d", name, k, bad, at)
					}
					b[at] = 1
				}
			}
		}
	}
}

// TestSparseMultiplyRefusesStrayBits hands each tier's multiply a mask that marks a column
// past its run: it must panic rather than read A and B where the bit sends it.
func TestSparseMultiplyRefusesStrayBits(t *testing.T) {
	for _, name := range Available() {
		s := tierByName(t, name).gemm.sparse
		const steps = 10
		a, b := make([]float32, steps), make([]float32, steps*s.width)
		sums, c := make([]float32, s.width), make([]float32, s.width)
		for _, bit := range []int{0, steps - 1, steps, 63} {
			masks := []uint64{1 << bit}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				s.multiply(1, masks, 1, a, steps, b, s.width, steps, sums, 0, c, s.width, s.width, 1, 0)
				return false
			}()
			if want := bit >= steps; panicked != want {
				t.Errorf("%s: mask bit %d of a %d-step run: panicked = %v, want %v", name, bit, steps, panicked, want)
			}
		}
	}
}
