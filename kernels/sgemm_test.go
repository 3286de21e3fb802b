package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lanesml/lanes/internal/race"
)

// gemmCase is one Sgemm call to check: shapes, transposes, scalars and the padding of each
// matrix's rows beyond its length (filled with NaN in A and B, a sentinel in C).
type gemmCase struct {
	transA, transB   bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int
	floats           bool    // random floats (checked to a tolerance) instead of small integers
	zeros            float64 // the fraction of A's entries set to zero (1 in 9 are zero anyway)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("%dx%dx%d tA=%v tB=%v alpha=%v beta=%v pads=%d,%d,%d",
		tc.m, tc.n, tc.k, tc.transA, tc.transB, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

// checkGemmCase runs one case on the active tier against a float64 reference. With small
// integer entries and dyadic alpha and beta, every float32 sum is exact, so any tier and any
// summation order must match the reference exactly; an index off by one cannot hide.
func checkGemmCase(t *testing.T, r *rand.Rand, tc gemmCase) {
	t.Helper()
	aRows, aCols := tc.m, tc.k
	if tc.transA {
		aRows, aCols = tc.k, tc.m
	}
	bRows, bCols := tc.k, tc.n
	if tc.transB {
		bRows, bCols = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, aCols+tc.padA), max(1, bCols+tc.padB), max(1, tc.n+tc.padC)
	fill := func(rows, cols, ld int, pad float32, zeros float64) []float32 {
		s := make([]float32, rows*ld)
		for i := range s {
			if i%ld >= cols {
				s[i] = pad
			} else if zeros > 0 && r.Float64() < zeros {
				s[i] = 0
			} else if tc.floats {
				s[i] = r.Float32()*2 - 1
			} else {
				s[i] = float32(r.IntN(9) - 4)
			}
		}
		return s
	}
	nan := float32(math.NaN())
	a := fill(aRows, aCols, lda, nan, tc.zeros)
	b := fill(bRows, bCols, ldb, nan, 0)
	const guard = 23
	cbuf := fill(guard+tc.m*ldc+guard, 0, 1, sentinel, 0) // all sentinel
	c := cbuf[guard : guard+tc.m*ldc]
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			if tc.beta == 0 {
				c[i*ldc+j] = nan // must not be read
			} else if tc.floats {
				c[i*ldc+j] = r.Float32()*2 - 1
			} else {
				c[i*ldc+j] = float32(r.IntN(9) - 4)
			}
		}
	}
	opA := func(i, p int) float64 {
		if tc.transA {
			return float64(a[p*lda+i])
		}
		return float64(a[i*lda+p])
	}
	opB := func(p, j int) float64 {
		if tc.transB {
			return float64(b[j*ldb+p])
		}
		return float64(b[p*ldb+j])
	}
	want := make([]float64, tc.m*tc.n)
	mag := make([]float64, tc.m*tc.n)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			var sum, abs float64
			if tc.alpha != 0 {
				for p := 0; p < tc.k; p++ {
					sum += opA(i, p) * opB(p, j)
					abs += math.Abs(opA(i, p) * opB(p, j))
				}
			}
			w := float64(tc.alpha) * sum
			if tc.beta != 0 {
				w += float64(tc.beta) * float64(c[i*ldc+j])
			}
			want[i*tc.n+j] = w
			mag[i*tc.n+j] = math.Abs(float64(tc.alpha))*abs + math.Abs(float64(tc.beta)*float64(c[i*ldc+j]))
		}
	}

	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)

	for i := 0; i < tc.m; i++ {
		for j := 0; j < tc.n; j++ {
			got, w := float64(c[i*ldc+j]), want[i*tc.n+j]
			tol := 0.0
			if tc.floats {
				tol = float64(tc.k+2) * 1.2e-7 * mag[i*tc.n+j]
			}
			if math.IsNaN(got) || math.Abs(got-w) > tol {
				t.Fatalf("%v: C[%d][%d] = %v, want %v (tolerance %g)", tc, i, j, got, w, tol)
			}
		}
	}
	for i, v := range cbuf {
		inside := i >= guard && i < guard+tc.m*ldc && (i-guard)%ldc < tc.n
		if !inside && v != sentinel {
			t.Fatalf("%v: C buffer element %d outside the matrix changed to %v", tc, i, v)
		}
	}
}

// gemmEdgeDims holds every remainder of every tier's register tile, with and without a whole
// tile before it (which decides how the short tiles cut a block: 7 = 4+3, 8 = 4+4,
// 10 = 6+4, 16 = 8+8 on AVX-512), plus the sizes the issue names.
var gemmEdgeDims = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 20, 23, 31, 32, 33, 127, 129, 784}

func TestSgemmEdgeShapes(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		scalars := [][2]float32{{1, 0}, {1, 1}, {-0.5, 0.25}, {0, 0.25}, {0, 0}, {1, 0.25}}
		i := 0
		for _, m := range gemmEdgeDims {
			for _, n := range gemmEdgeDims {
				for _, k := range []int{1, 3, 300} {
					if m*n*k > 1<<21 && k > 1 || testing.Short() && m*n*k > 1<<16 {
						continue // the large ones are covered by TestSgemmLargeShapes
					}
					for tr := 0; tr < 4; tr++ {
						s := scalars[i%len(scalars)]
						i++
						checkGemmCase(t, r, gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: m, n: n, k: k,
							alpha: s[0], beta: s[1], padA: i % 3, padB: (i / 3) % 2, padC: i % 4})
					}
				}
			}
		}
	})
}

func TestSgemmLargeShapes(t *testing.T) {
	cases := []gemmCase{
		{m: 32, n: 128, k: 784, alpha: 1},               // the MLP's layer-1 forward
		{transA: true, m: 784, n: 128, k: 32, alpha: 1}, // layer-1 weight gradient
		{m: 32, n: 10, k: 128, alpha: 1, beta: 1},       // layer-2 forward, accumulating
		{transB: true, m: 32, n: 128, k: 10, alpha: 1},  // layer-2 input gradient
		{m: 5, n: 7, k: 3000, alpha: -0.5, beta: 0.25},  // k crosses several kc blocks
		{transA: true, transB: true, m: 13, n: 17, k: 3000, alpha: 1, beta: 1},
		{m: 300, n: 3100, k: 20, alpha: 1, padC: 5}, // n crosses an nc block
		{m: 400, n: 200, k: 600, alpha: 1, beta: 0.25, padA: 1, padB: 2, padC: 3},
		{m: 33, n: 129, k: 257, alpha: 1, floats: true},
		{transA: true, transB: true, m: 129, n: 33, k: 1000, alpha: -0.5, beta: 1, floats: true},
	}
	if testing.Short() {
		t.Skip("large products against a float64 reference")
	}
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, tc := range cases {
			checkGemmCase(t, r, tc)
		}
	})
}

func TestSgemmRandomShapes(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		alphas := []float32{1, -0.5, 0, 2}
		betas := []float32{0, 1, 0.25, -1}
		count := 300
		if testing.Short() {
			count = 60
		}
		for i := 0; i < count; i++ {
			tc := gemmCase{
				transA: r.IntN(2) == 1, transB: r.IntN(2) == 1,
				m: r.IntN(70), n: r.IntN(70), k: 1 + r.IntN(300),
				alpha: alphas[r.IntN(len(alphas))], beta: betas[r.IntN(len(betas))],
				padA: r.IntN(3), padB: r.IntN(3), padC: r.IntN(3), floats: i%4 == 0,
			}
			if i%10 == 0 && !testing.Short() { // a few large enough to be split across workers
				tc.m, tc.n, tc.k = 100+r.IntN(200), 100+r.IntN(200), 100+r.IntN(200)
			}
			checkGemmCase(t, r, tc)
		}
	})
}

// TestSgemmThreadsBitIdentical: the same product with 1 to 8 workers (cut along M, N, or
// both) gives the same bits, for every combination of transposes, with a dense A and with
// one that is 85% zeros (the sparse path, cut along M).
func TestSgemmThreadsBitIdentical(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(17, 18))
		m, n, k := 203, 301, 257
		dense, sparse, b := make([]float32, m*k), make([]float32, m*k), make([]float32, k*n)
		uniform(r, dense)
		uniform(r, b)
		for i := range sparse {
			if r.IntN(100) < 15 {
				sparse[i] = dense[i]
			}
		}
		for _, c := range []struct {
			a  []float32
			tr [2]bool
		}{
			{dense, [2]bool{false, false}}, {dense, [2]bool{true, false}}, {dense, [2]bool{false, true}},
			{dense, [2]bool{true, true}}, {sparse, [2]bool{false, false}}, {sparse, [2]bool{true, false}},
		} {
			a, tr := c.a, c.tr
			lda, ldb := k, n
			if tr[0] {
				lda = m
			}
			if tr[1] {
				ldb = k
			}
			var first []float32
			for _, th := range []int{1, 2, 3, 4, 8} {
				SetThreads(th)
				c := make([]float32, m*n)
				Sgemm(tr[0], tr[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
				if first == nil {
					first = c
					continue
				}
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(first[i]) {
						t.Fatalf("transA %v transB %v, threads=%d: C[%d] = %v, threads=1 gave %v", tr[0], tr[1], th, i, c[i], first[i])
					}
				}
			}
		}
	})
}

// TestGemmGrid checks the parallel partition: every grid fits the workers and the tiles,
// its blocks cover C exactly once, and on many workers a large product is cut both ways.
func TestGemmGrid(t *testing.T) {
	for _, g := range []*gemmConfig{genericGemm, {mr: 6, nr: 16}, {mr: 12, nr: 32}} {
		for _, s := range [][3]int{{32, 128, 784}, {784, 128, 32}, {32, 10, 128}, {1, 1000, 50}, {203, 301, 257}, {1024, 1024, 1024}} {
			p := gemmProblem{m: s[0], n: s[1], k: s[2], c: make([]float32, s[0]*s[1]), ldc: s[1],
				a: make([]float32, s[0]*s[2]), lda: s[2], b: make([]float32, s[2]*s[1]), ldb: s[1]}
			covered := make([]int, p.m*p.n)
			for workers := 1; workers <= 64; workers++ {
				rp, cp := gemmGrid(g, &p, workers)
				tilesM, tilesN := ceilDiv(p.m, g.mr), ceilDiv(p.n, g.nr)
				if rp < 1 || cp < 1 || rp*cp > workers || rp > tilesM || cp > tilesN {
					t.Fatalf("mr %d %v, %d workers: grid %d x %d", g.mr, s, workers, rp, cp)
				}
				job := gemmJob{cfg: g, whole: p, rowParts: rp, colParts: cp}
				clear(covered)
				for part := range rp * cp {
					b := job.block(part)
					first := len(p.c) - len(b.c) // where the block starts in C
					for i := range b.m {
						for j := range b.n {
							covered[first+i*p.ldc+j]++
						}
					}
				}
				for i, n := range covered {
					if n != 1 {
						t.Fatalf("mr %d %v, grid %d x %d: C[%d] computed %d times", g.mr, s, rp, cp, i, n)
					}
				}
			}
		}
	}
	// 1024^3 on 64 workers: cut one way, each worker would read all of A or all of B.
	p := gemmProblem{m: 1024, n: 1024, k: 1024}
	rp, cp := gemmGrid(&gemmConfig{mr: 6, nr: 16}, &p, 64)
	if rp*cp != 64 || rp < 4 || cp < 4 {
		t.Errorf("1024^3 on 64 workers: grid %d x %d, want 64 parts cut both ways", rp, cp)
	}
}

func TestSgemmAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		for _, th := range []int{1, 2} {
			SetThreads(th)
			for _, s := range [][3]int{{32, 128, 784}, {256, 256, 256}} {
				m, n, k := s[0], s[1], s[2]
				a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
				for _, zeros := range []int{0, 7} { // a dense A, then one with 7 zeros in 8 (the sparse path)
					for i := range a {
						a[i] = 0
						if i%8 >= zeros {
							a[i] = 1
						}
					}
					Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) // warm the buffers
					allocs := testing.AllocsPerRun(20, func() {
						Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
					})
					if allocs != 0 {
						t.Errorf("threads=%d %v, %d zeros in 8: %v allocations per call, want 0", th, s, zeros, allocs)
					}
				}
			}
		}
	})
}

func TestSgemmArgumentPanics(t *testing.T) {
	a, b, c := make([]float32, 6), make([]float32, 6), make([]float32, 4)
	cases := []struct {
		name string
		call func()
	}{
		{"m", func() { Sgemm(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"n", func() { Sgemm(false, false, 2, -2, 3, 1, a, 3, b, 2, 0, c, 2) }},
		{"k", func() { Sgemm(false, false, 2, 2, -3, 1, a, 3, b, 2, 0, c, 2) }},
		{"lda", func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, c, 2) }},
		{"ldb", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 1, 0, c, 2) }},
		{"ldc", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c, 1) }},
		{"len(a)", func() { Sgemm(false, false, 2, 2, 3, 1, a[:5], 3, b, 2, 0, c, 2) }},
		{"len(b)", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b[:5], 2, 0, c, 2) }},
		{"len(c)", func() { Sgemm(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, c[:3], 2) }},
		{"lda", func() { Sgemm(true, false, 2, 2, 3, 1, a, 1, b, 2, 0, c, 2) }},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tc.name) {
					t.Errorf("bad %s: panic %q does not name it", tc.name, msg)
				}
			}()
			tc.call()
		}()
	}
}

// TestTileRuns checks how a block's rows are cut into tiles: every row covered once, in
// order, by tiles of the two heights, and no more padding than mr-row tiles alone would
// compute.
func TestTileRuns(t *testing.T) {
	noop := func(int, int, []float32, int, int, []float32, []float32, int, float32, float32, int, int) {}
	for _, g := range []*gemmConfig{
		{mr: 6, shortMR: 4, kernel: noop, short: noop},
		{mr: 12, shortMR: 8, kernel: noop, short: noop},
		{mr: 4, kernel: noop},
	} {
		for mc := 1; mc <= 200; mc++ {
			var buf [3]tileRun
			runs := g.tileRuns(mc, &buf)
			next, computed := 0, 0
			for _, r := range runs {
				if r.start != next || r.count < 1 || (r.height != g.mr && r.height != g.shortMR) ||
					r.rows < 1 || r.rows > r.height {
					t.Fatalf("mr %d, short %d, mc %d: bad run %+v in %+v", g.mr, g.shortMR, mc, r, runs)
				}
				next += (r.count-1)*r.height + r.rows
				computed += r.count * r.height
				if r.rows < r.height && next != mc {
					t.Fatalf("mr %d, short %d, mc %d: a partial tile before the end: %+v", g.mr, g.shortMR, mc, runs)
				}
			}
			if next != mc {
				t.Fatalf("mr %d, short %d, mc %d: runs cover %d rows: %+v", g.mr, g.shortMR, mc, next, runs)
			}
			if plain := roundUp(mc, g.mr); computed > plain {
				t.Fatalf("mr %d, short %d, mc %d: %d rows computed, more than %d with mr-row tiles", g.mr, g.shortMR, mc, computed, plain)
			}
		}
	}
	// The MLP's batch of 32 rows: four 6-row tiles and two 4-row ones, no padding.
	var buf [3]tileRun
	runs := (&gemmConfig{mr: 6, shortMR: 4, kernel: sgemmKernelGeneric, short: sgemmKernelGeneric}).tileRuns(32, &buf)
	if len(runs) != 2 || runs[0].count != 4 || runs[0].height != 6 || runs[1].count != 2 || runs[1].height != 4 || runs[1].rows != 4 {
		t.Errorf("32 rows as %+v, want 4 tiles of 6 and 2 of 4", runs)
	}
}

// randomProblem is an m x n x k product of random floats with transposes tr, a random
// alpha (1 or not) and beta (0 or not), and a row stride of C up to 2 past n.
func randomProblem(r *rand.Rand, m, n, k int, tr [2]bool) gemmProblem {
	aRows, aCols := stored(tr[0], m, k)
	bRows, bCols := stored(tr[1], k, n)
	ldc := n + r.IntN(3)
	return gemmProblem{transA: tr[0], transB: tr[1], m: m, n: n, k: k,
		alpha: []float32{1, -0.75}[r.IntN(2)], beta: []float32{0, 0.5}[r.IntN(2)],
		a: sparseMatrix(r, aRows, aCols, aCols, 0), lda: aCols,
		b: sparseMatrix(r, bRows, bCols, bCols, 0), ldb: bCols,
		c: sparseMatrix(r, m, n, ldc, 0), ldc: ldc}
}

// sgemmMatchesTiles fails t unless Sgemm computes p to the same bits as g's own tiles do
// directly (gemmSerial); how names the way Sgemm is expected to take.
func sgemmMatchesTiles(t *testing.T, g *gemmConfig, p gemmProblem, how string) {
	t.Helper()
	direct := p
	direct.c = append([]float32(nil), p.c...)
	gemmSerial(g, &direct, new(packBuffers))
	Sgemm(p.transA, p.transB, p.m, p.n, p.k, p.alpha, p.a, p.lda, p.b, p.ldb, p.beta, p.c, p.ldc)
	for i := range p.c {
		if math.Float32bits(p.c[i]) != math.Float32bits(direct.c[i]) {
			t.Fatalf("%dx%dx%d tA=%v tB=%v: C[%d] = %v %s, %v by the tiles directly",
				p.m, p.n, p.k, p.transA, p.transB, i, p.c[i], how, direct.c[i])
		}
	}
}

// TestNarrowTransposeBitIdentical: a C narrower than a register tile is computed as its
// transpose (runTransposed); it must be the same to the bit as the direct tiles, for every
// combination of transposes, alpha and beta, widths across the tile and row strides beyond n.
func TestNarrowTransposeBitIdentical(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		g := impl().gemm
		r := rand.New(rand.NewPCG(31, 32))
		taken := 0
		for n := 1; n < g.nr; n++ {
			for _, m := range []int{g.nr, 3*g.nr + 5, 128, 300} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					p := randomProblem(r, m, n, 1+r.IntN(300), tr)
					if !transposeWorth(g, &p) {
						continue
					}
					taken++
					sgemmMatchesTiles(t, g, p, "transposed")
				}
			}
		}
		if taken == 0 {
			t.Fatal("no shape took the transposed path")
		}
	})
}

// TestNarrowRecipeBitIdentical: a tier with a narrow recipe (avx512's is avx2's) computes a
// C at most half a sliver wide with it, and gets the same bits as its own tiles would, for
// every width up to a whole sliver, both transposes, alpha and beta, and rows from fewer
// than a sliver (computed directly) to many (computed transposed).
func TestNarrowRecipeBitIdentical(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		g := impl().gemm
		if g.narrow == nil {
			t.Skip("this tier has no narrow recipe")
		}
		if g.narrow.nr*2 != g.nr || g.narrow.kc != g.kc {
			t.Fatalf("narrow recipe: nr %d, kc %d; want nr %d, kc %d", g.narrow.nr, g.narrow.kc, g.nr/2, g.kc)
		}
		r := rand.New(rand.NewPCG(33, 34))
		for n := 1; n <= g.nr; n++ {
			p := gemmProblem{n: n}
			if want := n <= g.nr/2; (g.recipeFor(&p) == g.narrow) != want {
				t.Fatalf("n = %d: narrow recipe taken %v, want %v", n, !want, want)
			}
			for _, m := range []int{1, 10, 16, g.nr, 100} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					sgemmMatchesTiles(t, g, randomProblem(r, m, n, 1+r.IntN(2*g.kc), tr), "by the narrow recipe")
				}
			}
		}
	})
}

// TestTransposeMatchesDefinition checks each tier's transpose (runTransposed's copies) on
// every shape up to 20 x 20, with row strides longer than the rows and guards around dst.
func TestTransposeMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, name := range Available() {
		transpose := tierByName(t, name).gemm.transpose
		for rows := 1; rows <= 20; rows++ {
			for cols := 1; cols <= 20; cols++ {
				lds, ldd := cols+r.IntN(3), rows+r.IntN(3)
				src := make([]float32, (rows-1)*lds+cols)
				for i := range src {
					src[i] = r.Float32()
				}
				g := newGuarded((cols-1)*ldd+rows, 1)
				dst := g.s()
				transpose(dst, ldd, src, lds, rows, cols)
				g.check(t, name+" transpose")
				for i := 0; i < rows; i++ {
					for j := 0; j < cols; j++ {
						if got, want := dst[j*ldd+i], src[i*lds+j]; got != want {
							t.Fatalf("%s %dx%d: dst[%d][%d] = %v, want src[%d][%d] = %v", name, rows, cols, j, i, got, i, j, want)
						}
					}
				}
				for j := 0; j < cols; j++ { // the padding between dst's rows stays as it was
					for q := rows; q < ldd && j < cols-1; q++ {
						if dst[j*ldd+q] != sentinel {
							t.Fatalf("%s %dx%d: padding dst[%d][%d] written", name, rows, cols, j, q)
						}
					}
				}
			}
		}
	}
}

// TestPackRowsMatchesPack checks each tier's packRows, where it has one (see checkPackRows).
func TestPackRowsMatchesPack(t *testing.T) {
	tested := 0
	for _, name := range Available() {
		g := tierByName(t, name).gemm
		if g.packRows != nil {
			checkPackRows(t, name, g.nr, g.packRows)
			tested++
		}
	}
	if tested == 0 && slices.Contains(Available(), "avx2") {
		t.Fatal("the avx2 tier has no packRows")
	}
}

// checkPackRows compares packRows with packSliverGeneric, sliver by sliver: every kc up to
// 6, around the blocks of eight rows and around kc 392, one to three slivers of width w,
// row strides longer than the slivers, guards around dst, and a src that ends exactly where
// the last sliver's last step does.
func checkPackRows(t *testing.T, name string, w int, packRows func(dst, src []float32, ld, kc, slivers int)) {
	t.Helper()
	r := rand.New(rand.NewPCG(45, 46))
	for _, kc := range []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 391, 392, 393} {
		for slivers := 1; slivers <= 3; slivers++ {
			ld := slivers*w + r.IntN(5)
			src := make([]float32, (kc-1)*ld+slivers*w)
			for i := range src {
				src[i] = r.Float32()
			}
			guarded := newGuarded(slivers*kc*w, 1)
			dst := guarded.s()
			packRows(dst, src, ld, kc, slivers)
			guarded.check(t, fmt.Sprintf("%s packRows kc %d, %d slivers", name, kc, slivers))
			want := make([]float32, kc*w)
			for s := 0; s < slivers; s++ {
				packSliverGeneric(want, src[s*w:], ld, kc, w, w, true)
				for i, v := range want {
					if got := dst[s*kc*w+i]; got != v {
						t.Fatalf("%s kc %d, %d slivers (ld %d): sliver %d step %d column %d = %v, want %v",
							name, kc, slivers, ld, s, i/w, i%w, got, v)
					}
				}
			}
		}
	}
}
