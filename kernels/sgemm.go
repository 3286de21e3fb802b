package kernels

import (
	"fmt"
	"sync"
)

// gemmKernel computes tiles register tiles down a column of C against one packed sliver b
// of B: tile t reads A from a[t*aNext:] and writes C at c[t*mr*ldc:], for r < rows, j < cols,
//
//	c[r*ldc+j] = alpha * sum over p < k of a[p*aStride+r] * b[p*nr+j] + beta*c[r*ldc+j]
//
// reading mr floats of a and nr floats of b at every step p (beta == 0: C is not read).
type gemmKernel func(tiles, k int, a []float32, aNext, aStride int, b []float32,
	c []float32, ldc int, alpha, beta float32, rows, cols int)

// gemmConfig is one tier's matrix-multiply recipe: its micro-kernel's register tile and the
// cache blocking around it (see avx2Gemm for how the numbers were chosen).
type gemmConfig struct {
	mr, nr     int // register tile: rows and columns of C per kernel call
	mc, kc, nc int // cache blocks: A block mc x kc (L2), B panel kc x nc (L3), B sliver kc x nr (L1)
	kernel     gemmKernel
	pack       func(dst, src []float32, ld, kc, w, valid int, contiguous bool) // see packSliver

	// packRows, when set, packs slivers whole slivers of width nr side by side from a B
	// whose steps are its rows (not transposed): dst[s*kc*nr:] is sliver s, laid out as
	// pack(dst[s*kc*nr:], src[s*nr:], ld, kc, nr, nr, true) would, only faster from memory.
	packRows func(dst, src []float32, ld, kc, slivers int)

	// shortMR and short, when set, are a shorter tile for a block's leftover rows, so that
	// they are not padded to mr (see tileRuns).
	shortMR int
	short   gemmKernel

	sparse sparseKernels // the path for an A that is mostly zeros (sgemm_sparse.go)

	// transpose sets dst[j*ldd+i] = src[i*lds+j] for i < rows and j < cols: the copies in
	// and out of runTransposed.
	transpose func(dst []float32, ldd int, src []float32, lds, rows, cols int)

	// narrow, when set, is the recipe for a dense product whose C is at most half a sliver
	// wide (n <= nr/2, the MLP's 10 classes): one whose slivers, half as wide, pad such a C
	// (or its transpose, see runTransposed) half as much. It must sum each element of C in
	// the same order, so that the result is the same to the bit.
	narrow *gemmConfig
}

// tileRun is a run of count tiles of one height down a block of A, starting at row start;
// the last holds rows rows, the others all height.
type tileRun struct {
	start, count, height, rows int
	kernel                     gemmKernel
}

// tileRuns cuts a block of mc rows into at most three runs of tiles: whole mr-row tiles, then
// whole short ones, then a partial tile, choosing whichever split computes the fewest padded
// rows (on a tie, the one with fewer tiles). With mr 6 and short tiles of 4, 32 rows are
// 6+6+6+6 and 4+4, not 6+6+6+6+6 and 2 of 6.
func (g *gemmConfig) tileRuns(mc int, runs *[3]tileRun) []tileRun {
	out := runs[:0]
	add := func(start, count, height, rows int, k gemmKernel) {
		if count > 0 {
			out = append(out, tileRun{start, count, height, rows, k})
		}
	}
	full, rem := mc/g.mr, mc%g.mr
	bigRows := full * g.mr
	if rem == 0 || g.short == nil {
		add(0, full, g.mr, g.mr, g.kernel)
		add(bigRows, min(rem, 1), g.mr, rem, g.kernel)
		return out
	}
	sm := g.shortMR
	pad := g.mr - rem // the leftover rows in one partial mr-row tile
	if rem <= sm {
		pad = sm - rem // or in one partial short tile
	}
	if n := g.mr + rem; full > 0 && (sm-n%sm)%sm < pad {
		// One mr-row tile fewer, and short tiles over its rows and the leftover.
		bigRows -= g.mr
		add(0, full-1, g.mr, g.mr, g.kernel)
		add(bigRows, n/sm, sm, sm, g.short)
		add(bigRows+n/sm*sm, min(n%sm, 1), sm, n%sm, g.short)
		return out
	}
	add(0, full, g.mr, g.mr, g.kernel)
	if rem <= sm {
		add(bigRows, 1, sm, rem, g.short)
	} else {
		add(bigRows, 1, g.mr, rem, g.kernel)
	}
	return out
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C, where op(X) is X, or X transposed when
// transX is set. op(A) is m x k, op(B) is k x n and C is m x n, all row-major with row strides
// lda, ldb and ldc. beta == 0 writes C without reading it, so NaN in C does not propagate;
// alpha == 0 reads neither A nor B. Invalid sizes, strides or short slices panic with a
// message naming the argument.
//
// Large products run on up to Threads() goroutines with a fixed partition of C, so the
// result is bit-identical from run to run; small ones stay on the calling goroutine.
//
// When op(A) is mostly zeros (a batch of images with a dark background, say) and B is not
// transposed, Sgemm marks A's nonzeros and skips the multiply-adds of its zeros; the result
// is the same to the bit as without the shortcut, but for the sign of a zero that only
// underflowing products can make (see sgemm_sparse.go).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("Sgemm", transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if noProduct(m, n, k, alpha, beta, c, ldc) {
		return
	}
	aRows, aCols := stored(transA, m, k)
	bRows, bCols := stored(transB, k, n)
	raceRead(a[:matrixLen(aRows, aCols, lda)])
	raceRead(b[:matrixLen(bRows, bCols, ldb)])
	p := gemmProblem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	runGemm(impl().gemm, &p)
}

// checkGemm panics, naming fn and the argument, on anything Sgemm (or SgemmBytes: the
// lengths are of elements) cannot compute.
func checkGemm(fn string, transA, transB bool, m, n, k int, lenA, lda, lenB, ldb, lenC, ldc int) {
	bad := func(format string, args ...any) {
		panic("kernels: " + fn + ": " + fmt.Sprintf(format, args...))
	}
	if m < 0 {
		bad("m = %d < 0", m)
	}
	if n < 0 {
		bad("n = %d < 0", n)
	}
	if k < 0 {
		bad("k = %d < 0", k)
	}
	aRows, aCols := stored(transA, m, k)
	bRows, bCols := stored(transB, k, n)
	if lda < max(1, aCols) {
		bad("lda = %d < %d, the row length of A", lda, aCols)
	}
	if ldb < max(1, bCols) {
		bad("ldb = %d < %d, the row length of B", ldb, bCols)
	}
	if ldc < max(1, n) {
		bad("ldc = %d < n = %d", ldc, n)
	}
	if need := matrixLen(aRows, aCols, lda); lenA < need && m > 0 && n > 0 {
		bad("len(a) = %d < %d needed for a %d x %d matrix with lda %d", lenA, need, aRows, aCols, lda)
	}
	if need := matrixLen(bRows, bCols, ldb); lenB < need && m > 0 && n > 0 {
		bad("len(b) = %d < %d needed for a %d x %d matrix with ldb %d", lenB, need, bRows, bCols, ldb)
	}
	if need := matrixLen(m, n, ldc); lenC < need {
		bad("len(c) = %d < %d needed for a %d x %d matrix with ldc %d", lenC, need, m, n, ldc)
	}
}

// stored returns the rows and columns of a matrix as stored, given op(X) is rows x cols.
func stored(trans bool, rows, cols int) (int, int) {
	if trans {
		return cols, rows
	}
	return rows, cols
}

// matrixLen is the slice length a rows x cols matrix with row stride ld needs: the last row
// need not be padded to ld.
func matrixLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
}

// noProduct does the calls of Sgemm and SgemmBytes that need no product, an empty C, or
// alpha or k zero (C = beta*C), and reports whether it did; otherwise it tells the race
// detector that C is written.
func noProduct(m, n, k int, alpha, beta float32, c []float32, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	raceWrite(c[:matrixLen(m, n, ldc)])
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return true
	}
	return false
}

// scaleMatrix sets C = beta*C, writing zeros without reading C when beta == 0.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			Scale(beta, row)
		}
	}
}

// gemmProblem is one Sgemm call, or a worker's block of one.
type gemmProblem struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	// a8, when not nil, is A instead of a: bytes standing for scale times their value
	// (SgemmBytes). Only the sparse path takes it.
	a8    []byte
	scale float32
}

// packBuffers are one worker's scratch panels, grown on first use and then reused.
type packBuffers struct {
	a, b []float32
	runs [3]tileRun // the current block's tile runs, kept here so they cost no allocation

	a8    []byte   // the sparse path's transposed blocks of a byte A
	masks []uint64 // the sparse path's marks of A's nonzeros
	sums  []float32
	ct    []float32 // a narrow C's transpose (runTransposed)
}

var packPool = sync.Pool{New: func() any { return new(packBuffers) }}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// gemmSerial computes one problem on the calling goroutine, BLIS-style: for each kc x nc
// panel of op(B), packed into nr-column slivers, and each mc x kc block of op(A), packed
// into slivers of the tiles' heights (mr, and short ones at the end: see tileRuns), the
// micro-kernels sweep the block tile by tile.
//
// A transposed A already gives the kernel mr contiguous floats per step, so its whole
// slivers are read in place (only a partial last sliver is packed). B is always packed: read
// in place, a kernel step would touch a new cache line ldb floats away, and measured 20-50%
// slower on every shape, large or small.
func gemmSerial(g *gemmConfig, p *gemmProblem, buf *packBuffers) {
	mr, nr := g.mr, g.nr
	for jc := 0; jc < p.n; jc += g.nc {
		nc := min(g.nc, p.n-jc)
		for pc := 0; pc < p.k; pc += g.kc {
			kc := min(g.kc, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1 // later k blocks add to what the first one wrote
			}
			buf.b = grow(buf.b, kc*roundUp(nc, nr))
			s := 0
			if g.packRows != nil && !p.transB { // whole slivers at once, the rest one by one
				g.packRows(buf.b, p.b[pc*p.ldb+jc:], p.ldb, kc, nc/nr)
				s = nc / nr * nr
			}
			for ; s < nc; s += nr {
				// op(B)[pc+q][j] is B[(pc+q)*ldb+j], or B[j*ldb+pc+q] when transposed.
				j := jc + s
				if p.transB {
					g.pack(buf.b[s*kc:], p.b[j*p.ldb+pc:], p.ldb, kc, nr, min(nr, nc-s), false)
				} else {
					g.pack(buf.b[s*kc:], p.b[pc*p.ldb+j:], p.ldb, kc, nr, min(nr, nc-s), true)
				}
			}
			for ic := 0; ic < p.m; ic += g.mc {
				mc := min(g.mc, p.m-ic)
				buf.a = grow(buf.a, kc*roundUp(mc, mr))
				runs := g.tileRuns(mc, &buf.runs)
				for _, r := range runs {
					for t := 0; t < r.count; t++ {
						// op(A)[i][pc+q] is A[i*lda+pc+q], or A[(pc+q)*lda+i] when transposed.
						s := r.start + t*r.height
						rows := r.height
						if t == r.count-1 {
							rows = r.rows
						}
						i := ic + s
						if !p.transA {
							g.pack(buf.a[s*kc:], p.a[i*p.lda+pc:], p.lda, kc, r.height, rows, false)
						} else if rows < r.height {
							g.pack(buf.a[s*kc:], p.a[pc*p.lda+i:], p.lda, kc, r.height, rows, true)
						}
					}
				}
				// The kernel sweeps each run of whole tiles in one call, and a partial tile
				// alone; A's tiles are packed slivers, or read in place when transposed.
				for jr := 0; jr < nc; jr += nr {
					cols := min(nr, nc-jr)
					c := p.c[ic*p.ldc+jc+jr:]
					for _, r := range runs {
						whole := r.count
						if r.rows < r.height {
							whole--
						}
						if whole > 0 {
							ap, aNext, aStride := buf.a[r.start*kc:], r.height*kc, r.height
							if p.transA {
								ap, aNext, aStride = p.a[pc*p.lda+ic+r.start:], r.height, p.lda
							}
							r.kernel(whole, kc, ap, aNext, aStride, buf.b[jr*kc:], c[r.start*p.ldc:], p.ldc, p.alpha, beta, r.height, cols)
						}
						if whole < r.count {
							s := r.start + whole*r.height
							r.kernel(1, kc, buf.a[s*kc:], 0, r.height, buf.b[jr*kc:], c[s*p.ldc:], p.ldc, p.alpha, beta, r.rows, cols)
						}
					}
				}
			}
		}
	}
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// packSliverGeneric is packSliver in plain Go.
//
// packSliver lays out one sliver of a panel for the micro-kernel: kc steps of w floats,
// step q holding elements 0..valid-1 of the sliver's q-th step and zeros after them.
//
// With contiguous, step q is src[q*ld : q*ld+valid] (a run along a row of the matrix);
// otherwise element r of step q is src[r*ld+q] (the sliver runs down valid rows of the
// matrix, and packing transposes it).
func packSliverGeneric(dst, src []float32, ld, kc, w, valid int, contiguous bool) {
	dst = dst[:kc*w]
	if valid < w {
		clear(dst)
	}
	if contiguous {
		if valid == w {
			switch w {
			case 16:
				for q := 0; q < kc; q++ {
					*(*[16]float32)(dst[q*16:]) = *(*[16]float32)(src[q*ld:])
				}
				return
			case 32:
				for q := 0; q < kc; q++ {
					*(*[32]float32)(dst[q*32:]) = *(*[32]float32)(src[q*ld:])
				}
				return
			}
		}
		for q := 0; q < kc; q++ {
			copy(dst[q*w:q*w+valid], src[q*ld:q*ld+valid])
		}
		return
	}
	if valid == 6 && w == 6 {
		r0, r1, r2 := src[:kc], src[ld:ld+kc], src[2*ld:2*ld+kc]
		r3, r4, r5 := src[3*ld:3*ld+kc], src[4*ld:4*ld+kc], src[5*ld:5*ld+kc]
		for q := range r0 {
			d := (*[6]float32)(dst[q*6:])
			d[0], d[1], d[2], d[3], d[4], d[5] = r0[q], r1[q], r2[q], r3[q], r4[q], r5[q]
		}
		return
	}
	if valid == 4 && w == 4 {
		r0, r1, r2, r3 := src[:kc], src[ld:ld+kc], src[2*ld:2*ld+kc], src[3*ld:3*ld+kc]
		for q := range r0 {
			d := (*[4]float32)(dst[q*4:])
			d[0], d[1], d[2], d[3] = r0[q], r1[q], r2[q], r3[q]
		}
		return
	}
	// Other widths: one row of the matrix at a time, written down its lane.
	for r := 0; r < valid; r++ {
		row := src[r*ld : r*ld+kc]
		for q, v := range row {
			dst[q*w+r] = v
		}
	}
}
