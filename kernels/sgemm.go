package kernels

import (
	"fmt"
	"sync"
)

// gemmKernel computes one register tile: for r < rows, j < cols,
//
//	c[r*ldc+j] = alpha * sum over p < k of a[p*aStride+r] * b[p*bStride+j] + beta*c[r*ldc+j]
//
// reading MR floats of a and NR floats of b at every step p (beta == 0: C is not read).
type gemmKernel func(k int, a []float32, aStride int, b []float32, bStride int,
	c []float32, ldc int, alpha, beta float32, rows, cols int)

// gemmConfig is one tier's matrix-multiply recipe: its micro-kernel's register tile and the
// cache blocking around it (see sgemmConfigs for how the numbers were chosen).
type gemmConfig struct {
	mr, nr     int // register tile: rows and columns of C per kernel call
	mc, kc, nc int // cache blocks: A block mc x kc (L2), B panel kc x nc (L3), B sliver kc x nr (L1)
	kernel     gemmKernel
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C, where op(X) is X, or X transposed when
// transX is set. op(A) is m x k, op(B) is k x n and C is m x n, all row-major with row strides
// lda, ldb and ldc. beta == 0 writes C without reading it, so NaN in C does not propagate;
// alpha == 0 reads neither A nor B. Invalid sizes, strides or short slices panic with a
// message naming the argument.
//
// Large products run on up to Threads() goroutines with a fixed partition of C, so the
// result is bit-identical from run to run; small ones stay on the calling goroutine.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	p := gemmProblem{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	runGemm(impl().gemm, &p)
}

// checkGemm panics, naming the argument, on anything Sgemm cannot compute.
func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	bad := func(format string, args ...any) {
		panic("kernels: Sgemm: " + fmt.Sprintf(format, args...))
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
	// rows x cols is each matrix as stored: op(A) transposed when transA.
	aRows, aCols := m, k
	if transA {
		aRows, aCols = k, m
	}
	bRows, bCols := k, n
	if transB {
		bRows, bCols = n, k
	}
	if lda < max(1, aCols) {
		bad("lda = %d < %d, the row length of A", lda, aCols)
	}
	if ldb < max(1, bCols) {
		bad("ldb = %d < %d, the row length of B", ldb, bCols)
	}
	if ldc < max(1, n) {
		bad("ldc = %d < n = %d", ldc, n)
	}
	if need := matrixLen(aRows, aCols, lda); len(a) < need && m > 0 && n > 0 {
		bad("len(a) = %d < %d needed for a %d x %d matrix with lda %d", len(a), need, aRows, aCols, lda)
	}
	if need := matrixLen(bRows, bCols, ldb); len(b) < need && m > 0 && n > 0 {
		bad("len(b) = %d < %d needed for a %d x %d matrix with ldb %d", len(b), need, bRows, bCols, ldb)
	}
	if need := matrixLen(m, n, ldc); len(c) < need {
		bad("len(c) = %d < %d needed for a %d x %d matrix with ldc %d", len(c), need, m, n, ldc)
	}
}

// matrixLen is the slice length a rows x cols matrix with row stride ld needs: the last row
// need not be padded to ld.
func matrixLen(rows, cols, ld int) int {
	if rows == 0 || cols == 0 {
		return 0
	}
	return (rows-1)*ld + cols
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
}

// packBuffers are one worker's scratch panels, grown on first use and then reused.
type packBuffers struct {
	a, b []float32
}

var packPool = sync.Pool{New: func() any { return new(packBuffers) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// gemmSerial computes one problem on the calling goroutine, BLIS-style: for each kc x nc
// panel of B and mc x kc block of A, packed when their layout calls for it, the micro-kernel
// sweeps the block in mr x nr tiles.
func gemmSerial(g *gemmConfig, p *gemmProblem, buf *packBuffers) {
	mr, nr := g.mr, g.nr
	// A is read in place when its transposed layout already gives the kernel mr contiguous
	// floats per step; B when its rows give nr contiguous floats per step. Tiles at the
	// bottom and right edges always come from the zero-padded packed panels.
	aInPlace, bInPlace := p.transA, !p.transB
	for jc := 0; jc < p.n; jc += g.nc {
		nc := min(g.nc, p.n-jc)
		for pc := 0; pc < p.k; pc += g.kc {
			kc := min(g.kc, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1 // later k blocks add to what the first one wrote
			}
			buf.b = grow(buf.b, kc*roundUp(nc, nr))
			packB(buf.b, p, pc, kc, jc, nc, nr, bInPlace)
			for ic := 0; ic < p.m; ic += g.mc {
				mc := min(g.mc, p.m-ic)
				buf.a = grow(buf.a, kc*roundUp(mc, mr))
				packA(buf.a, p, ic, mc, pc, kc, mr, aInPlace)
				for jr := 0; jr < nc; jr += nr {
					cols := min(nr, nc-jr)
					bp, bStride := buf.b[jr*kc:], nr
					if bInPlace && cols == nr {
						bp, bStride = p.b[pc*p.ldb+jc+jr:], p.ldb
					}
					for ir := 0; ir < mc; ir += mr {
						rows := min(mr, mc-ir)
						ap, aStride := buf.a[ir*kc:], mr
						if aInPlace && rows == mr {
							ap, aStride = p.a[pc*p.lda+ic+ir:], p.lda
						}
						g.kernel(kc, ap, aStride, bp, bStride,
							p.c[(ic+ir)*p.ldc+jc+jr:], p.ldc, p.alpha, beta, rows, cols)
					}
				}
			}
		}
	}
}

func roundUp(n, to int) int { return (n + to - 1) / to * to }

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into slivers of mr rows: sliver s holds, for each
// step p, the mr floats op(A)[ic+s*mr+r][pc+p], zero beyond row mc. With inPlace, only a
// partial last sliver is packed; whole slivers are read from A directly.
func packA(dst []float32, p *gemmProblem, ic, mc, pc, kc, mr int, inPlace bool) {
	for s := 0; s < mc; s += mr {
		rows := min(mr, mc-s)
		if inPlace && rows == mr {
			continue
		}
		out := dst[s*kc : s*kc+kc*mr]
		if rows < mr {
			clear(out)
		}
		i0 := ic + s
		if p.transA { // op(A)[i][q] = A[q*lda+i]: a step is contiguous in A
			for q := 0; q < kc; q++ {
				row := p.a[(pc+q)*p.lda+i0:]
				copy(out[q*mr:q*mr+rows], row[:rows])
			}
			continue
		}
		for r := 0; r < rows; r++ { // op(A)[i][q] = A[i*lda+q]: a row of A fills a lane
			row := p.a[(i0+r)*p.lda+pc:]
			row = row[:kc]
			for q, v := range row {
				out[q*mr+r] = v
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into slivers of nr columns: sliver s holds, for
// each step p, the nr floats op(B)[pc+p][jc+s*nr+j], zero beyond column nc. With inPlace,
// only a partial last sliver is packed.
func packB(dst []float32, p *gemmProblem, pc, kc, jc, nc, nr int, inPlace bool) {
	for s := 0; s < nc; s += nr {
		cols := min(nr, nc-s)
		if inPlace && cols == nr {
			continue
		}
		out := dst[s*kc : s*kc+kc*nr]
		if cols < nr {
			clear(out)
		}
		j0 := jc + s
		if !p.transB { // op(B)[q][j] = B[q*ldb+j]: a step is contiguous in B
			for q := 0; q < kc; q++ {
				row := p.b[(pc+q)*p.ldb+j0:]
				copy(out[q*nr:q*nr+cols], row[:cols])
			}
			continue
		}
		for j := 0; j < cols; j++ { // op(B)[q][j] = B[j*ldb+q]: a row of B fills a lane
			row := p.b[(j0+j)*p.ldb+pc:]
			row = row[:kc]
			for q, v := range row {
				out[q*nr+j] = v
			}
		}
	}
}
