//go:build !purego

package kernels

import "fmt"

// The assembly micro-kernels' register tiles; asm/sgemm/kernel.go generates them and
// TestGemmTilesMatchGenerator checks these numbers against its doc comments.
const (
	avx512MR, avx512NR, avx512ShortMR = 12, 32, 8
	avx2MR, avx2NR, avx2ShortMR       = 6, 16, 4

	// The sparse kernels' widths: 8 vectors of C's row in registers.
	avx512SparseWidth, avx2SparseWidth = 128, 64
)

// Cache blocking, per tier: a kc x nr sliver of B in L1, an mc x kc block of A in L2, a
// kc x nc panel of B in L3. The sizes start from the caches (Zen 3: 32 KB L1, 512 KB L2):
// the AVX2 sliver is 392 x 16 floats = 25 KB, most of L1; the A block 144 x 392 = 226 KB,
// under half of L2. Measured on the development machine (Zen 3, AVX2, 1 thread,
// 2026-11-29), the choice inside that range hardly matters: 1024^3 gave 56-72 GFLOPS for
// every kc in {192, 256, 384} with mc in {72, 144, 288} (two runs each, interleaved; the
// spread is the machine's noise), and 32x784x128, 784x32x128 (A^T) and 256x784x128 moved
// by less than the noise for kc in {196, 256, 392, 784}; kc 392 against 256, three
// interleaved runs, 1 and 2 threads: 256x784x128 65-71 against 65-66 and 124-134 against
// 112-130 GFLOPS, 1024^3 57-64 against 57-66 and 104-108 against 95-126, 2048^3 55 against
// 49-62 and 102-120 against 105-118.
//
// kc is 392 on every tier, so that MNIST's 784 features are two equal blocks, which two
// workers of the sparse path take one each (splitK), and so that the tiers sum each element
// of C in the same blocks (the avx512 and avx2 tiers train to the same bits). The AVX-512
// sizes scale the same reasoning to 12 x 32 tiles; its sliver, 392 x 32 floats = 49 KB, is
// over Zen 4's 32 KB L1, but the kernel loads only two vectors of it per 24 multiply-adds.
// Measured on an AVX-512 machine (AMD EPYC family 25 model 17, Zen 4: 32 KB L1, 1 MB L2,
// FMA peak 116 GFLOPS a core for zmm and ymm alike; 2026-12-06, 1 thread pinned, two rounds,
// GFLOPS): mc in {96, 192, 384, 576} gave 256x784x128 105-107, 512^3 107-110, 1024^3
// 103-108 and 2048^3 98-107, every mc within the noise of the others.
var (
	avx512Gemm = &gemmConfig{mr: avx512MR, nr: avx512NR, mc: 192, kc: 392, nc: 3072,
		kernel: checkedKernel(avx512MR, avx512NR, sgemmKernelAVX512), pack: packSliverAVX2, transpose: transposeAVX2,
		packRows: packRows32AVX2Checked, shortMR: avx512ShortMR, short: checkedKernel(avx512ShortMR, avx512NR, sgemmKernelShortAVX512),
		sparse: sparseKernels{finite: finiteRowsChecked, masks: sparseMasksChecked,
			multiply: checkedSparse(avx512SparseWidth, sgemmSparseAVX512), width: avx512SparseWidth,
			masksU8: sparseMasksU8Checked, multiplyU8: checkedSparseU8(avx512SparseWidth, sgemmSparseU8AVX512),
			transposeU8: transposeBytesAVX2Go},
		narrow: avx2Gemm}
	avx2Gemm = &gemmConfig{mr: avx2MR, nr: avx2NR, mc: 144, kc: 392, nc: 3072,
		kernel: checkedKernel(avx2MR, avx2NR, sgemmKernelAVX2), pack: packSliverAVX2, transpose: transposeAVX2,
		packRows: packRows16AVX2Checked, shortMR: avx2ShortMR, short: checkedKernel(avx2ShortMR, avx2NR, sgemmKernelShortAVX2),
		sparse: sparseKernels{finite: finiteRowsChecked, masks: sparseMasksChecked,
			multiply: checkedSparse(avx2SparseWidth, sgemmSparseAVX2), width: avx2SparseWidth,
			masksU8: sparseMasksU8Checked, multiplyU8: checkedSparseU8(avx2SparseWidth, sgemmSparseU8AVX2),
			transposeU8: transposeBytesAVX2Go}}
)

type asmGemmKernel func(tiles, k int, a *float32, aNext, aStride int, b *float32,
	c *float32, ldc int, alpha, beta float32, rows, cols int)

// checkedKernel wraps an assembly micro-kernel so that every call first proves that each
// float it will read or write lies inside its slices: a driver bug then panics instead of
// corrupting memory. The checks cost a few comparisons per call of one or more tiles.
func checkedKernel(mr, nr int, kernel asmGemmKernel) gemmKernel {
	return func(tiles, k int, a []float32, aNext, aStride int, b []float32,
		c []float32, ldc int, alpha, beta float32, rows, cols int) {
		if tiles < 1 || k < 1 || aNext < 0 || rows < 1 || rows > mr || cols < 1 || cols > nr ||
			len(a) < (tiles-1)*aNext+(k-1)*aStride+mr || len(b) < k*nr ||
			len(c) < ((tiles-1)*mr+rows-1)*ldc+cols {
			panic("kernels: internal error: SGEMM tile outside its slices")
		}
		kernel(tiles, k, &a[0], aNext, aStride, &b[0], &c[0], ldc, alpha, beta, rows, cols)
	}
}

// finiteRowsChecked is finiteRowsAVX2 behind a proof that it stays inside its slice.
func finiteRowsChecked(rows, cols int, b []float32, ld int) bool {
	if rows < 1 || cols < 1 || len(b) < (rows-1)*ld+cols {
		panic("kernels: internal error: finite rows outside their slice")
	}
	return finiteRowsAVX2(rows, cols, &b[0], ld)
}

// sparseMasksChecked is sparseMasksAVX2 behind a proof that it stays inside its slices.
func sparseMasksChecked(rows, k int, a []float32, lda int, masks []uint64, stride int) {
	if rows < 1 || k < 1 || stride < ceilDiv(k, sparseSteps) || len(a) < (rows-1)*lda+k ||
		len(masks) < (rows-1)*stride+ceilDiv(k, sparseSteps) {
		panic("kernels: internal error: sparse masks outside their slices")
	}
	sparseMasksAVX2(rows, k, &a[0], lda, &masks[0], stride)
}

// sparseMasksU8Checked is sparseMasksU8AVX2 behind a proof that it stays inside its slices.
func sparseMasksU8Checked(rows, k int, a []byte, lda int, masks []uint64, stride int) {
	if rows < 1 || k < 1 || stride < ceilDiv(k, sparseSteps) || len(a) < (rows-1)*lda+k ||
		len(masks) < (rows-1)*stride+ceilDiv(k, sparseSteps) {
		panic("kernels: internal error: sparse masks outside their slices")
	}
	sparseMasksU8AVX2(rows, k, &a[0], lda, &masks[0], stride)
}

type asmSparseKernelU8 func(rows int, masks *uint64, stride int, a *byte, lda int, b *float32, ldb int,
	sums *float32, carry int, c *float32, ldc, cols int, alpha, beta, scale float32)

// checkedSparseU8 is checkedSparse for the kernels of an A of bytes.
func checkedSparseU8(width int, kernel asmSparseKernelU8) sparseMultiplyU8 {
	return func(rows int, masks []uint64, stride int, a []byte, lda int, b []float32, ldb, steps int,
		sums []float32, carry int, c []float32, ldc, cols int, alpha, beta, scale float32) {
		checkSparseCall(width, rows, masks, stride, len(a), lda, b, ldb, steps, sums, c, ldc, cols)
		kernel(rows, &masks[0], stride, &a[0], lda, &b[0], ldb, &sums[0], carry, &c[0], ldc, cols, alpha, beta, scale)
	}
}

// checkSparseCall panics unless a sparse multiply call stays inside its slices (A's length
// given in elements) and no mask marks a column at or past steps, since the kernel reads A
// and B wherever a bit sends it.
func checkSparseCall(width, rows int, masks []uint64, stride, lenA, lda int, b []float32, ldb, steps int,
	sums, c []float32, ldc, cols int) {
	if rows < 1 || steps < 1 || steps > sparseSteps || cols < 1 || cols > width ||
		len(masks) < (rows-1)*stride+1 || lenA < (rows-1)*lda+steps || len(b) < (steps-1)*ldb+cols ||
		len(sums) < rows*width || len(c) < (rows-1)*ldc+cols {
		panic("kernels: internal error: sparse SGEMM rows outside their slices")
	}
	if steps < sparseSteps {
		for r := 0; r < rows; r++ {
			if masks[r*stride]>>steps != 0 {
				panic("kernels: internal error: sparse SGEMM mask past its run")
			}
		}
	}
}

// transposeBytesAVX2Go is sparseKernels.transposeU8: whole 8 x 8 blocks in assembly, the
// edges in Go. Bounds are checked here.
func transposeBytesAVX2Go(dst []byte, ldd int, src []byte, lds, rows, cols int) {
	if rows < 1 || cols < 1 {
		return
	}
	if len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic("kernels: internal error: byte transpose outside its slices")
	}
	rows8, cols8 := rows&^7, cols&^7
	if rows8 > 0 && cols8 > 0 {
		transposeBytesAVX2(&dst[0], ldd, &src[0], lds, rows8, cols8)
	}
	for i := 0; i < rows; i++ {
		from := cols8 // the columns the assembly left
		if i >= rows8 {
			from = 0 // rows it did not take at all
		}
		for j, v := range src[i*lds+from : i*lds+cols] {
			dst[(from+j)*ldd+i] = v
		}
	}
}

type asmSparseKernel func(rows int, masks *uint64, stride int, a *float32, lda int, b *float32, ldb int,
	sums *float32, carry int, c *float32, ldc, cols int, alpha, beta float32)

// checkedSparse wraps a sparse multiply kernel like checkedKernel does a dense one (see
// checkSparseCall).
func checkedSparse(width int, kernel asmSparseKernel) sparseMultiply {
	return func(rows int, masks []uint64, stride int, a []float32, lda int, b []float32, ldb, steps int,
		sums []float32, carry int, c []float32, ldc, cols int, alpha, beta float32) {
		checkSparseCall(width, rows, masks, stride, len(a), lda, b, ldb, steps, sums, c, ldc, cols)
		kernel(rows, &masks[0], stride, &a[0], lda, &b[0], ldb, &sums[0], carry, &c[0], ldc, cols, alpha, beta)
	}
}

// transposeAVX2 is gemmConfig.transpose with the packers' 8 x 8 register transposes: src's
// rows in groups of 8, 6 and 4, their columns up to a multiple of 8 (a packer writes steps
// of a sliver, which are dst's rows); the rest in Go. Bounds are checked here.
func transposeAVX2(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	if rows < 1 || cols < 1 {
		return
	}
	if len(src) < (rows-1)*lds+cols || len(dst) < (cols-1)*ldd+rows {
		panic("kernels: internal error: transpose outside its slices")
	}
	cols8 := cols &^ 7
	i := 0 // src's rows below i are the packers', up to column cols8
	if cols8 > 0 {
		for ; rows-i >= 8; i += 8 {
			packTranspose8AVX2(&dst[i], ldd, &src[i*lds], lds, cols8)
		}
		if rows-i >= 6 {
			packTranspose6AVX2(&dst[i], ldd, &src[i*lds], lds, cols8)
			i += 6
		} else if rows-i >= 4 {
			packTranspose4AVX2(&dst[i], ldd, &src[i*lds], lds, cols8)
			i += 4
		}
	}
	for r := 0; r < rows; r++ {
		from := cols8 // the columns the packers left
		if r >= i {
			from = 0 // rows they did not take at all
		}
		for j, v := range src[r*lds+from : r*lds+cols] {
			dst[(from+j)*ldd+r] = v
		}
	}
}

// packRows16AVX2Checked and packRows32AVX2Checked are gemmConfig.packRows for slivers 16 and
// 32 floats wide: the assembly takes the rows in blocks of eight (see packRows in
// asm/sgemm/pack.go), packCopy the last kc%8. Bounds are checked here, before any assembly
// runs.
func packRows16AVX2Checked(dst, src []float32, ld, kc, slivers int) {
	packRowsAVX2(dst, src, ld, kc, 16, slivers, packRows16AVX2, packCopy16AVX2)
}

func packRows32AVX2Checked(dst, src []float32, ld, kc, slivers int) {
	packRowsAVX2(dst, src, ld, kc, 32, slivers, packRows32AVX2, packCopy32AVX2)
}

func packRowsAVX2(dst, src []float32, ld, kc, w, slivers int,
	rows func(dst, src *float32, ld, blocks, slivers, kc int), tail func(dst, src *float32, ld, kc int)) {
	if slivers <= 0 || kc <= 0 {
		return
	}
	if len(dst) < slivers*kc*w || len(src) < (kc-1)*ld+slivers*w || ld < slivers*w {
		panic(fmt.Sprintf("kernels: packRows: %d slivers of %d x %d from %d floats (ld %d) into %d",
			slivers, kc, w, len(src), ld, len(dst)))
	}
	k8 := kc &^ 7
	if k8 > 0 {
		rows(&dst[0], &src[0], ld, k8/8, slivers, kc)
	}
	if k8 < kc {
		for s := 0; s < slivers; s++ {
			tail(&dst[s*kc*w+k8*w], &src[k8*ld+s*w], ld, kc-k8)
		}
	}
}

// packSliverAVX2 is packSliver with the assembly packers for whole slivers of the widths
// the tiers use; partial slivers and odd widths go to the Go version. Bounds are checked
// here, before any assembly runs.
func packSliverAVX2(dst, src []float32, ld, kc, w, valid int, contiguous bool) {
	if valid != w || kc < 8 || len(dst) < kc*w || len(src) < (kc-1)*ld+w && contiguous ||
		len(src) < (w-1)*ld+kc && !contiguous {
		packSliverGeneric(dst, src, ld, kc, w, valid, contiguous)
		return
	}
	if contiguous {
		switch w {
		case 16:
			packCopy16AVX2(&dst[0], &src[0], ld, kc)
		case 32:
			packCopy32AVX2(&dst[0], &src[0], ld, kc)
		default:
			packSliverGeneric(dst, src, ld, kc, w, valid, contiguous)
		}
		return
	}
	if w%8 != 0 && w%8 != 4 && w != 6 {
		packSliverGeneric(dst, src, ld, kc, w, valid, contiguous)
		return
	}
	k8 := kc &^ 7
	for g := 0; g < w; g += 8 { // groups of 8 rows of the matrix, then 6 or 4
		switch min(8, w-g) {
		case 8:
			packTranspose8AVX2(&dst[g], w, &src[g*ld], ld, k8)
		case 6:
			packTranspose6AVX2(&dst[g], w, &src[g*ld], ld, k8)
		case 4:
			packTranspose4AVX2(&dst[g], w, &src[g*ld], ld, k8)
		}
	}
	for r := 0; r < w; r++ { // the last kc%8 steps
		for q := k8; q < kc; q++ {
			dst[q*w+r] = src[r*ld+q]
		}
	}
}
