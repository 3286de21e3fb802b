package kernels

import "sync"

// SgemmBytes computes C = alpha*op(A)*B + beta*C like Sgemm (with B not transposed) for an A
// stored as bytes that stand for scale times their value, the way 8-bit images are kept:
// element (i, j) of the stored A is float32(a[i*lda+j]) * scale, the float BytesToFloat32
// makes of it, and C is the same, to the bit, as Sgemm's on those floats. Sizes, strides and
// lengths are checked as Sgemm checks them (lda and len(a) in bytes).
//
// A first layer fed images can keep them as bytes: a quarter of the memory, and, when A is
// mostly zeros, the sparse path reads A's nonzeros straight from the bytes. Otherwise (or
// when B holds Inf or NaN) A is converted to floats in a scratch buffer and Sgemm's dense
// path runs on it.
func SgemmBytes(transA bool, m, n, k int, alpha float32, a []byte, scale float32, lda int,
	b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm("SgemmBytes", transA, false, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if noProduct(m, n, k, alpha, beta, c, ldc) {
		return
	}
	aRows, aCols := stored(transA, m, k)
	a = a[:matrixLen(aRows, aCols, lda)]
	raceRead(a)
	raceRead(b[:matrixLen(k, n, ldb)])
	g := impl().gemm
	p := gemmProblem{transA: transA, m: m, n: n, k: k, alpha: alpha, a8: a, scale: scale, lda: lda,
		b: b, ldb: ldb, beta: beta, c: c, ldc: ldc}
	if ok, density := sparseWorth(&p); ok && runSparse(g, &p, density) {
		return
	}
	// The dense path, on A converted: its rows packed at stride aCols.
	scratch := bytesScratch.Get().(*[]float32)
	f := grow(*scratch, aRows*aCols)
	convert := impl().bytesToFloat32
	for i := 0; i < aRows; i++ {
		convertBytes(convert, f[i*aCols:(i+1)*aCols], a[i*lda:i*lda+aCols], scale)
	}
	p.a8, p.a, p.lda = nil, f, aCols
	runDense(g, &p)
	*scratch = f
	bytesScratch.Put(scratch)
}

// bytesScratch holds the float copies of A that SgemmBytes's dense path multiplies.
var bytesScratch = sync.Pool{New: func() any { return new([]float32) }}
