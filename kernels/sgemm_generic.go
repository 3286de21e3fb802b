package kernels

// genericGemm is the pure-Go recipe. A 2 x 4 register tile: the compiler keeps its 8
// accumulators in registers on amd64 (15 usable), where a 4 x 4 tile's 16 spilled to the
// stack at every step; Sgemm runs 11-23% faster on amd64 with it (pinned, three rounds,
// 32x784x128 to 256^3). On arm64, with 32 registers, the two tiles need the same loads per
// multiply-add. Each element of C is summed in the same order with either tile.
// kc is 392, as on the other tiers (see avx2Gemm); against 256, two interleaved runs, 1
// thread: 32x784x128 2.33-2.39 GFLOPS against 2.15-2.22, 256x784x128 2.26-2.41 against
// 2.44-2.63, 512^3 2.53-2.94 against 2.57-2.71 (the noise).
var genericGemm = &gemmConfig{mr: 2, nr: 4, mc: 128, kc: 392, nc: 1024, kernel: sgemmKernelGeneric,
	pack: packSliverGeneric, transpose: transposeGeneric,
	sparse: sparseKernels{finite: finiteRowsGeneric, masks: sparseMasksGeneric[float32], multiply: sgemmSparseGeneric,
		width: sparseWidthGeneric, masksU8: sparseMasksGeneric[byte], multiplyU8: sgemmSparseU8Generic,
		transposeU8: transposeBytesGeneric}}

// sgemmKernelGeneric is the gemmKernel contract in plain Go, for 2 x 4 tiles.
func sgemmKernelGeneric(tiles, k int, a []float32, aNext, aStride int, b []float32,
	c []float32, ldc int, alpha, beta float32, rows, cols int) {
	for t := 0; t < tiles; t++ {
		sgemmTileGeneric(k, a[t*aNext:], aStride, b, c[t*2*ldc:], ldc, alpha, beta, rows, cols)
	}
}

// sgemmTileGeneric computes one 2 x 4 tile of gemmKernel.
func sgemmTileGeneric(k int, a []float32, aStride int, b []float32,
	c []float32, ldc int, alpha, beta float32, rows, cols int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	b = b[:4*k]
	for p := 0; p < k; p++ {
		ap := a[p*aStride : p*aStride+2 : p*aStride+2]
		bp := b[4*p : 4*p+4 : 4*p+4]
		a0, a1 := ap[0], ap[1]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	tile := [2][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
	}
	for r := 0; r < rows; r++ {
		row := c[r*ldc : r*ldc+cols]
		for j := range row {
			if beta == 0 {
				row[j] = alpha * tile[r][j]
			} else {
				row[j] = alpha*tile[r][j] + beta*row[j]
			}
		}
	}
}
