package kernels

// genericGemm is the pure-Go recipe. A 4 x 4 register tile keeps 16 accumulators, as many
// as Go's register allocator holds in floating-point registers without spilling.
var genericGemm = &gemmConfig{mr: 4, nr: 4, mc: 128, kc: 256, nc: 1024, kernel: sgemmKernelGeneric,
	pack: packSliverGeneric}

// sgemmKernelGeneric is the gemmKernel contract in plain Go, for 4 x 4 tiles.
func sgemmKernelGeneric(tiles, k int, a []float32, aNext, aStride int, b []float32,
	c []float32, ldc int, alpha, beta float32, rows, cols int) {
	for t := 0; t < tiles; t++ {
		sgemmTileGeneric(k, a[t*aNext:], aStride, b, c[t*4*ldc:], ldc, alpha, beta, rows, cols)
	}
}

// sgemmTileGeneric computes one 4 x 4 tile of gemmKernel.
func sgemmTileGeneric(k int, a []float32, aStride int, b []float32,
	c []float32, ldc int, alpha, beta float32, rows, cols int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ap := a[p*aStride : p*aStride+4]
		bp := b[p*4 : p*4+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	tile := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
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
