//go:build !purego

package kernels

// The assembly micro-kernels' register tiles; asm/sgemm/kernel.go generates them and
// TestGemmTilesMatchGenerator checks these numbers against its doc comments.
const (
	avx512MR, avx512NR = 12, 32
	avx2MR, avx2NR     = 6, 16
)

// Cache blocking, per tier (kc x nr sliver of B in L1, mc x kc block of A in L2, kc x nc
// panel of B in L3); see the SGEMM notes in README.md for the measurements behind them.
var (
	avx512Gemm = &gemmConfig{mr: avx512MR, nr: avx512NR, mc: 192, kc: 256, nc: 3072,
		kernel: checkedKernel(avx512MR, avx512NR, sgemmKernelAVX512)}
	avx2Gemm = &gemmConfig{mr: avx2MR, nr: avx2NR, mc: 144, kc: 256, nc: 3072,
		kernel: checkedKernel(avx2MR, avx2NR, sgemmKernelAVX2)}
)

type asmGemmKernel func(k int, a *float32, aStride int, b *float32, bStride int,
	c *float32, ldc int, alpha, beta float32, rows, cols int)

// checkedKernel wraps an assembly micro-kernel so that every call first proves that each
// float it will read or write lies inside its slices: a driver bug then panics instead of
// corrupting memory. The checks cost a few comparisons per mr x nr x k tile.
func checkedKernel(mr, nr int, kernel asmGemmKernel) gemmKernel {
	return func(k int, a []float32, aStride int, b []float32, bStride int,
		c []float32, ldc int, alpha, beta float32, rows, cols int) {
		if k < 1 || rows < 1 || rows > mr || cols < 1 || cols > nr ||
			len(a) < (k-1)*aStride+mr || len(b) < (k-1)*bStride+nr || len(c) < (rows-1)*ldc+cols {
			panic("kernels: internal error: SGEMM tile outside its slices")
		}
		kernel(k, &a[0], aStride, &b[0], bStride, &c[0], ldc, alpha, beta, rows, cols)
	}
}
