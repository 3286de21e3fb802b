package kernels

import (
	"math"
	"math/bits"
)

// The sparse path: when op(A) is mostly zeros (a batch of MNIST images is about 81% zero
// pixels, and the first layer's forward product and weight gradient both take it as A),
// Sgemm marks each row's nonzeros in bit masks and adds only their products, instead of
// packing A and multiplying its zeros. Each element of C is summed in the same order, with
// the same multiply-adds and the same write-back, as on the dense path, and adding a zero
// product changes no sum, so the result is the same to the bit, with one exception IEEE
// arithmetic makes: a partial sum of exactly -0 (only products that underflow make one)
// becomes +0 when the dense path adds a zero product to it, so a zero in C may differ in
// sign. Skipping a zero would also change 0*Inf and 0*NaN, which must give NaN: a B holding
// Inf or NaN takes the dense path (see runSparse).

// sparseSteps is how many columns of op(A), and rows of B, one mask and one multiply call
// cover: a mask is a uint64. On AVX2, 64 x 64 floats of B, 16 KB, half of Zen 3's 32 KB L1,
// stay in L1 while every row of a block uses them (runs of 32, 48, 96 and 128 steps trained
// slower). On AVX-512, 64 x 128 floats are 32 KB, all of Zen 4's L1, yet on that machine
// (2026-12-06, BenchmarkSgemmBytes, us, 1 and 2 threads) runs of 32 steps were slower
// (128x784x128 103-114 against 93-95 and 70 against 51-59) and so were the AVX2 kernels'
// 64 columns a call (32x784x128 36-39 against 28-34, 1 thread).
const sparseSteps = 64

// sparseKernels is one tier's sparse path.
type sparseKernels struct {
	// finite reports whether rows rows of cols floats (row stride ld) hold no Inf or NaN.
	finite func(rows, cols int, b []float32, ld int) bool

	// masks marks the nonzeros (NaN included) of rows rows of k floats (row stride lda):
	// bit q of masks[r*stride+u] is set when a[r*lda+u*sparseSteps+q] != 0. Every mask
	// of a row, ceil(k/sparseSteps) of them, is written whole.
	masks func(rows, k int, a []float32, lda int, masks []uint64, stride int)

	// multiply computes rows rows of C from a run of steps <= sparseSteps columns of A,
	// whose nonzeros masks marked, and the same rows of B: for j < cols <= width,
	//
	//	acc := 0, or sums[r*width+j] when carry&carryIn
	//	acc += a[r*lda+q] * b[q*ldb+j] for each set bit q of masks[r*stride], in order
	//	sums[r*width+j] = acc when carry&carryOut, else c[r*ldc+j] = alpha*acc + beta*c[r*ldc+j]
	//
	// with beta == 0 not reading C.
	multiply sparseMultiply
	width    int // columns of C per multiply call

	// masksU8, multiplyU8 and transposeU8 are masks, multiply and the transposing pack for
	// an A of bytes (SgemmBytes): multiplyU8 takes each nonzero as float32(byte) * scale.
	masksU8     func(rows, k int, a []byte, lda int, masks []uint64, stride int)
	multiplyU8  sparseMultiplyU8
	transposeU8 func(dst []byte, ldd int, src []byte, lds, rows, cols int)
}

type sparseMultiply func(rows int, masks []uint64, stride int, a []float32, lda int, b []float32, ldb, steps int,
	sums []float32, carry int, c []float32, ldc, cols int, alpha, beta float32)

type sparseMultiplyU8 func(rows int, masks []uint64, stride int, a []byte, lda int, b []float32, ldb, steps int,
	sums []float32, carry int, c []float32, ldc, cols int, alpha, beta, scale float32)

// The bits of multiply's carry argument.
const (
	carryIn  = 1 // start each row's sums from sums, not zero
	carryOut = 2 // leave them in sums, not written back to C
)

// The sparse path is taken when sampling op(A) finds at most maxSparseDensity of it nonzero,
// for products of at least minSparseWork multiply-adds (below it, sampling costs more than it
// can save) and at least minSparseCols columns of C (each nonzero's row of B is read in place,
// and a short row costs as much to find as to use). B must not be transposed: its rows are
// then the contiguous runs the path reads.
//
// Measured on the development machine (avx2, 1 thread, pinned, 2026-11-29), sparse against
// dense, us: with 20% of A nonzero, 32x128x784 60 vs 137, 256^3 261 vs 476, 256^3 with A^T
// 263 vs 561, but 256x16x256 54 vs 41 and 256x32x256 59 vs 70; with 40%, 256^3 505 vs 471
// and 256x32x256 91 vs 71; with 60%, every shape ties or loses (256^3: 793 vs 479). At the
// edge, 64 columns and 30% nonzero, the sparse path is level or ahead: 256x64x256 69-97 vs
// 108-111, with A^T 117 vs 122-125, 1024x64x1024 1.82-1.94 ms vs 1.99-2.05, 64^3 5.8 vs 9.1.
const (
	maxSparseDensity = 0.3
	minSparseWork    = 1 << 16
	minSparseCols    = 64
	sparseSamples    = 16 // rows, and floats in each, that sparseDensity looks at
)

// Each of sparseDensity's samples is on a cache line of its own, and A (a batch just drawn)
// is rarely all in L1: 32 x 32 samples took about 4 us a product in training (a profile gave
// sparseDensity 0.8% of the CPU time). 16 x 16 estimate MNIST's 19% with a standard error
// of 2.5%, far from the 30% that decides; in an A/B run of batch-128 training, the two
// first-layer products together took 16, 6, 1 and 6 us a step less with them in four runs
// (the whole step 20, 9, 2 and 3 us less).

// sparseWorth reports whether p's shape and A suit the sparse path (runSparse still checks
// that B is finite), and the estimated fraction of op(A) that is nonzero.
func sparseWorth(p *gemmProblem) (bool, float64) {
	if p.transB || p.n < minSparseCols || float64(p.m)*float64(p.n)*float64(p.k) < minSparseWork {
		return false, 1
	}
	d := sparseDensity(p)
	return d <= maxSparseDensity, d
}

// sparseDensity estimates the fraction of op(A) that is not zero from up to
// sparseSamples x sparseSamples floats spread evenly over A (NaN counts as nonzero).
func sparseDensity(p *gemmProblem) float64 {
	rows, cols := stored(p.transA, p.m, p.k)
	sr, sc := min(rows, sparseSamples), min(cols, sparseSamples)
	step := cols / sc
	nonzero := uint32(0)
	for i := 0; i < sr; i++ {
		if p.a8 != nil {
			row := p.a8[i*rows/sr*p.lda:][:cols]
			for j := 0; j < sc; j++ {
				u := uint32(row[j*step])
				nonzero += (u | -u) >> 31
			}
			continue
		}
		row := p.a[i*rows/sr*p.lda:][:cols]
		for j := 0; j < sc; j++ {
			// Without a branch, which A's scattered zeros would mispredict: u is 0 for
			// +0 and -0 only, and (u | -u) has its top bit set for every other u.
			u := math.Float32bits(row[j*step]) << 1
			nonzero += (u | -u) >> 31
		}
	}
	return float64(nonzero) / float64(sr*sc)
}

// gemmSparseSerial computes one problem on the calling goroutine by the sparse path, with
// the dense path's blocking of k, so that each element's sum is split where the dense path
// splits it: for each kc-step block of op(A)'s columns and mc-row block of its rows, mark the
// nonzeros of each run of sparseSteps columns, then multiply them into C, s.width columns at
// a time, carrying each row's sums from one run to the next.
//
// It checks its share of the blocks of B (see checkShare) for Inf and NaN just before their
// first use (while they are being brought into cache anyway) and reports false on the first
// bad one, having written part of C; otherwise it reports true.
func gemmSparseSerial(g *gemmConfig, p *gemmProblem, buf *packBuffers, check checkShare) bool {
	s := &g.sparse
	block := 0 // blocks of B met so far, counted in the same order by every worker
	for pc := 0; pc < p.k; pc += g.kc {
		kc := min(g.kc, p.k-pc)
		beta := p.beta
		if pc > 0 {
			beta = 1 // later k blocks add to what the first one wrote
		}
		runs := ceilDiv(kc, sparseSteps)
		for ic := 0; ic < p.m; ic += g.mc {
			mc := min(g.mc, p.m-ic)
			// op(A)[ic:ic+mc, pc:pc+kc], with row stride ld: rows, or rows8 for bytes
			var rows []float32
			var rows8 []byte
			ld := p.lda
			switch {
			case p.transA && p.a8 != nil:
				buf.a8 = grow(buf.a8, mc*kc)
				s.transposeU8(buf.a8, kc, p.a8[pc*p.lda+ic:], p.lda, kc, mc)
				rows8, ld = buf.a8, kc
			case p.transA:
				// op(A)[ic+i][pc+q] is A[(pc+q)*lda+ic+i]: transpose the block, so that
				// its rows are contiguous, with the packer (mc steps of kc floats).
				buf.a = grow(buf.a, mc*kc)
				g.pack(buf.a, p.a[pc*p.lda+ic:], p.lda, mc, kc, kc, false)
				rows, ld = buf.a, kc
			case p.a8 != nil:
				rows8 = p.a8[ic*p.lda+pc:]
			default:
				rows = p.a[ic*p.lda+pc:]
			}
			// Row i's mask of run u is buf.masks[i*runs+u].
			buf.masks = grow(buf.masks, mc*runs)
			buf.sums = grow(buf.sums, mc*s.width)
			if rows8 != nil {
				s.masksU8(mc, kc, rows8, ld, buf.masks, runs)
			} else {
				s.masks(mc, kc, rows, ld, buf.masks, runs)
			}
			for jc := 0; jc < p.n; jc += s.width {
				for u := 0; u < runs; u++ {
					q := u * sparseSteps
					b := p.b[(pc+q)*p.ldb+jc:]
					steps, cols := min(sparseSteps, kc-q), min(s.width, p.n-jc)
					if ic == 0 { // every block of B is used with ic == 0
						if check.parts > 0 && block%check.parts == check.part && !s.finite(steps, cols, b, p.ldb) {
							return false
						}
						block++
					}
					carry := 0
					if u > 0 {
						carry |= carryIn
					}
					if u < runs-1 {
						carry |= carryOut
					}
					if rows8 != nil {
						s.multiplyU8(mc, buf.masks[u:], runs, rows8[q:], ld, b, p.ldb, steps,
							buf.sums, carry, p.c[ic*p.ldc+jc:], p.ldc, cols, p.alpha, beta, p.scale)
					} else {
						s.multiply(mc, buf.masks[u:], runs, rows[q:], ld, b, p.ldb, steps,
							buf.sums, carry, p.c[ic*p.ldc+jc:], p.ldc, cols, p.alpha, beta)
					}
				}
			}
		}
	}
	return true
}

// checkShare is the share of B's blocks one worker checks for Inf and NaN: those whose
// index, in the order gemmSparseSerial meets them, is part modulo parts. Every worker of a
// product meets the same blocks in the same order, so each block is checked once; a worker
// that uses a bad block checked by another writes garbage to C, which the dense path then
// overwrites. parts == 0 checks none.
type checkShare struct{ part, parts int }

// finiteRowsGeneric is sparseKernels.finite in plain Go.
func finiteRowsGeneric(rows, cols int, b []float32, ld int) bool {
	for r := 0; r < rows; r++ {
		for _, v := range b[r*ld : r*ld+cols] {
			if math.Float32bits(v)&0x7f800000 == 0x7f800000 { // exponent all ones: Inf or NaN
				return false
			}
		}
	}
	return true
}

// sparseMasksGeneric is sparseKernels.masks (E float32) and masksU8 (E byte) in plain Go.
func sparseMasksGeneric[E float32 | byte](rows, k int, a []E, lda int, masks []uint64, stride int) {
	for r := 0; r < rows; r++ {
		row := a[r*lda : r*lda+k]
		for u := 0; u*sparseSteps < k; u++ {
			m := uint64(0)
			for q, v := range row[u*sparseSteps : min(k, (u+1)*sparseSteps)] {
				if v != 0 { // NaN is marked too
					m |= 1 << q
				}
			}
			masks[r*stride+u] = m
		}
	}
}

// sgemmSparseGeneric is sparseKernels.multiply in plain Go, summing and writing back as
// sgemmTileGeneric does.
func sgemmSparseGeneric(rows int, masks []uint64, stride int, a []float32, lda int, b []float32, ldb, steps int,
	sums []float32, carry int, c []float32, ldc, cols int, alpha, beta float32) {
	var qs [sparseSteps]int // a row's nonzeros: offsets in b, values
	var vs [sparseSteps]float32
	for r := 0; r < rows; r++ {
		row, n := a[r*lda:][:steps], 0
		for m := masks[r*stride]; m != 0; m &= m - 1 {
			q := bits.TrailingZeros64(m)
			qs[n], vs[n] = q*ldb, row[q]
			n++
		}
		sparseRowGeneric(qs[:n], vs[:n], b, sums[r*sparseWidthGeneric:][:cols], carry, c[r*ldc:][:cols], alpha, beta)
	}
}

// sgemmSparseU8Generic is sparseKernels.multiplyU8 in plain Go: sgemmSparseGeneric with
// each nonzero of A made a float as BytesToFloat32 makes it.
func sgemmSparseU8Generic(rows int, masks []uint64, stride int, a []byte, lda int, b []float32, ldb, steps int,
	sums []float32, carry int, c []float32, ldc, cols int, alpha, beta, scale float32) {
	var qs [sparseSteps]int
	var vs [sparseSteps]float32
	for r := 0; r < rows; r++ {
		row, n := a[r*lda:][:steps], 0
		for m := masks[r*stride]; m != 0; m &= m - 1 {
			q := bits.TrailingZeros64(m)
			qs[n], vs[n] = q*ldb, float32(row[q])*scale
			n++
		}
		sparseRowGeneric(qs[:n], vs[:n], b, sums[r*sparseWidthGeneric:][:cols], carry, c[r*ldc:][:cols], alpha, beta)
	}
}

// sparseRowGeneric computes one row of sgemmSparseGeneric from its nonzeros: vs[t] times row
// qs[t] of b (an offset), added to acc, the row's sums, in order; then acc is left for the
// next run (carryOut) or written back to out.
func sparseRowGeneric(qs []int, vs []float32, b []float32, acc []float32, carry int, out []float32, alpha, beta float32) {
	cols := len(acc)
	if carry&carryIn == 0 {
		clear(acc)
	}
	// Eight columns at a time in local sums, which the compiler keeps in registers through
	// the loop over the nonzeros, then the rest one by one.
	j := 0
	for ; j+8 <= cols; j += 8 {
		s := (*[8]float32)(acc[j:])
		s0, s1, s2, s3, s4, s5, s6, s7 := s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]
		for t, v := range vs {
			x := (*[8]float32)(b[qs[t]+j:])
			s0 += v * x[0]
			s1 += v * x[1]
			s2 += v * x[2]
			s3 += v * x[3]
			s4 += v * x[4]
			s5 += v * x[5]
			s6 += v * x[6]
			s7 += v * x[7]
		}
		s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; j < cols; j++ {
		sum := acc[j]
		for t, v := range vs {
			sum += v * b[qs[t]+j]
		}
		acc[j] = sum
	}
	if carry&carryOut != 0 {
		return
	}
	for j := range out {
		if beta == 0 {
			out[j] = alpha * acc[j]
		} else {
			out[j] = alpha*acc[j] + beta*out[j]
		}
	}
}

// transposeBytesGeneric is sparseKernels.transposeU8 in plain Go: dst[j*ldd+i] =
// src[i*lds+j] for i < rows, j < cols.
func transposeBytesGeneric(dst []byte, ldd int, src []byte, lds, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j, v := range src[i*lds : i*lds+cols] {
			dst[j*ldd+i] = v
		}
	}
}

const sparseWidthGeneric = 64

// sparseCost is what runSparse counts a multiply-add of the sparse path as, in dense ones,
// when it decides how many workers a product is worth. Measured at 1 thread, one costs about
// 2 (32x784x128 with 19% of A nonzero: 45 us for 0.6M multiply-adds, against 107 us for the
// dense 3.2M); counting 4 splits the MLP's batch-32 products, which gain from 2 workers
// (48-51 us against 66-69 us at 1, in one sitting), even in a sparser batch than average.
const sparseCost = 4
