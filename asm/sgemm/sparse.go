package main

import (
	"fmt"
	"math"
	"math/bits"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// The sparse path multiplies an A that is mostly zeros (a batch of MNIST images is 81% zero
// pixels) without the multiply-adds its zeros would cost: sparseMasks marks each row's
// nonzeros, a bit for each of 64 columns, and sgemmSparse walks the set bits, adding that
// float of A times a row of B to registers that hold a row of C.

// sparseVectors is how many vectors of a C row sgemmSparse holds in registers: 8
// accumulators, one broadcast, alpha, beta, a tail mask and a scratch vector fit AVX2's 16.
const sparseVectors = 8

// The bits of sgemmSparse's carry argument.
const (
	carryIn  = 1 // start each row's sums from sums, not zero
	carryOut = 2 // leave them in sums, not written back to C
)

// sparseMasks emits sparseMasksAVX2, which marks the nonzeros of rows rows of k floats (row
// stride lda), 64 columns to a mask, each mask written whole:
//
//	for r := 0; r < rows; r++ {
//		for u := 0; u*64 < k; u++ {
//			m := uint64(0)
//			for q := u*64; q < min(k, u*64+64); q++ { if a[r*lda+q] != 0 { m |= 1 << (q-u*64) } }
//			masks[r*stride+u] = m
//		}
//	}
//
// NaN is not zero, so it is marked. A compare gives the nonzero lanes of eight floats and a
// move-mask their eight bits. It uses 256-bit AVX2 only, so the AVX-512 tier calls it too.
func sparseMasks() {
	TEXT("sparseMasksAVX2", NOSPLIT, "func(rows, k int, a *float32, lda int, masks *uint64, stride int)")
	Pragma("noescape")
	Doc("marks the nonzeros of rows rows of A[rows x k], 64 columns to a mask: see sparseMasksGeneric")
	rows := simd.LoadGP(Param("rows"))
	a := simd.LoadGP(Param("a"))
	lda := simd.LoadGP(Param("lda"))
	SHLQ(U8(2), lda)
	masks := simd.LoadGP(Param("masks"))
	stride := simd.LoadGP(Param("stride"))
	SHLQ(U8(3), stride)
	zero := YMM()
	VXORPS(zero, zero, zero)
	tail := GP64()
	Load(Param("k"), tail)
	ANDQ(U8(7), tail)
	mask := simd.AVX2.TailMask(tail)

	// bitsOf sets the low 8 bits of a new register to the nonzero lanes of v.
	bitsOf := func(v Op) GPVirtual {
		nonzero := YMM()
		VCMPPS(U8(4), v, zero, nonzero) // NEQ_UQ: v != 0, or NaN
		b := GP64()
		VMOVMSKPS(nonzero, b.As32())
		return b
	}

	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	p, out, left := GP64(), GP64(), GP64()
	MOVQ(a, p)
	MOVQ(masks, out)
	Load(Param("k"), left)

	// Whole runs of 64 floats: eight compares, their bits shifted into place.
	Label("run")
	CMPQ(left, U8(64))
	JB(LabelRef("part"))
	m := GP64()
	XORQ(m, m)
	for i := 0; i < 8; i++ {
		b := bitsOf(Mem{Base: p}.Offset(32 * i))
		if i > 0 {
			SHLQ(U8(8*i), b)
		}
		ORQ(b, m)
	}
	MOVQ(m, Mem{Base: out})
	ADDQ(U8(8), out)
	ADDQ(U32(256), p)
	SUBQ(U8(64), left)
	JMP(LabelRef("run"))

	// A last run of fewer than 64 floats: eight at a time, then the tail, its lanes past the
	// row loaded as zeros.
	Label("part")
	TESTQ(left, left)
	JZ(LabelRef("next"))
	shift := GP64()
	XORQ(m, m)
	XORQ(shift, shift)
	Label("chunk")
	CMPQ(left, U8(8))
	JB(LabelRef("tail"))
	b := bitsOf(Mem{Base: p})
	SHLXQ(shift, b, b)
	ORQ(b, m)
	ADDQ(U8(8), shift)
	ADDQ(U8(32), p)
	SUBQ(U8(8), left)
	JMP(LabelRef("chunk"))
	Label("tail")
	TESTQ(left, left)
	JZ(LabelRef("store"))
	last := YMM()
	mask.LoadMasked(Mem{Base: p}, last)
	lb := bitsOf(last)
	SHLXQ(shift, lb, lb)
	ORQ(lb, m)
	Label("store")
	MOVQ(m, Mem{Base: out})

	Label("next")
	ADDQ(lda, a)
	ADDQ(stride, masks)
	DECQ(rows)
	JMP(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// sparseKernel emits
//
//	func sgemmSparse<tier>(rows int, masks *uint64, stride int, a *float32, lda int,
//		b *float32, ldb int, sums *float32, carry int, c *float32, ldc, cols int, alpha, beta float32)
//
// which computes rows rows of C from a run of up to 64 columns of A, whose nonzeros
// sparseMasks marked: for r < rows and j < cols <= W = sparseVectors*Lanes,
//
//	acc := 0, or sums[r*W+j] when carry&carryIn
//	for each set bit q of masks[r*stride], lowest first: acc += a[r*lda+q] * b[q*ldb+j]
//	sums[r*W+j] = acc when carry&carryOut, else c[r*ldc+j] = alpha*acc + beta*c[r*ldc+j]
//
// each sum in the order of the columns, with the same multiply-adds and write-back as the
// dense micro-kernel, so that skipping A's zeros changes no bit of C while B is finite (but
// the sign of a zero: see kernels/sgemm_sparse.go) (beta == 0: C is not read). sums carries
// the partial sums of a row from one call to the next, so that a long sum can be cut into
// runs whose rows of B stay in L1. A and B are read in place, B's last vector masked when
// cols is not a whole number of vectors.
//
// Registers: acc[v] holds vector v of C's row; bc takes each broadcast value of A.
func sparseKernel(t simd.Tier) {
	TEXT(t.Name("sgemmSparse"), NOSPLIT,
		"func(rows int, masks *uint64, stride int, a *float32, lda int, b *float32, ldb int, sums *float32, carry int, c *float32, ldc, cols int, alpha, beta float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("rows rows of C[rows x cols] = alpha * A * B[64 x cols] + beta * C, A's nonzeros marked in masks, cols <= %d: see sgemmSparseGeneric",
		sparseVectors*t.Lanes))
	full, tail := GP64(), GP64()
	Load(Param("cols"), full)
	MOVQ(full, tail)
	SHRQ(U8(uint8(bits.TrailingZeros(uint(t.Lanes)))), full)
	ANDQ(U8(t.Lanes-1), tail)
	mask := t.TailMask(tail)
	// One copy of the loops per shape of the row: f whole vectors, and a partial one or not.
	for _, r := range sparseRowShapes() {
		next, loop := fmt.Sprintf("not%d%v", r.full, r.partial), fmt.Sprintf("rows%d%v", r.full, r.partial)
		CMPQ(full, U8(r.full))
		JNE(LabelRef(next))
		TESTQ(tail, tail)
		if r.partial {
			JNZ(LabelRef(loop))
		} else {
			JZ(LabelRef(loop))
		}
		Label(next)
	}
	VZEROUPPER() // cols == 0 or too wide: nothing to do (the Go caller never asks)
	RET()
	for _, r := range sparseRowShapes() {
		sparseRowsLoop(t, r.full, r.partial, mask)
	}
}

// rowShape is the shape of a row of C that sgemmSparse has a loop for: full whole vectors,
// and a masked partial one after them or not.
type rowShape struct {
	full    int
	partial bool
}

// sparseRowShapes lists every row shape from one partial vector to sparseVectors whole ones.
func sparseRowShapes() []rowShape {
	var shapes []rowShape
	for f := 0; f <= sparseVectors; f++ {
		if f > 0 {
			shapes = append(shapes, rowShape{f, false})
		}
		if f < sparseVectors {
			shapes = append(shapes, rowShape{f, true})
		}
	}
	return shapes
}

// sparseRowsLoop emits the row loop of sgemmSparse for rows of f whole vectors and, when
// partial, one masked vector after them.
func sparseRowsLoop(t simd.Tier, f int, partial bool, mask simd.Mask) {
	name := fmt.Sprintf("%d%v", f, partial)
	Label("rows" + name)
	rows := simd.LoadGP(Param("rows"))
	masks := simd.LoadGP(Param("masks"))
	stride := simd.LoadGP(Param("stride"))
	SHLQ(U8(3), stride)
	a := simd.LoadGP(Param("a"))
	lda := simd.LoadGP(Param("lda"))
	SHLQ(U8(2), lda)
	b := simd.LoadGP(Param("b"))
	ldb := simd.LoadGP(Param("ldb"))
	SHLQ(U8(2), ldb)
	c := simd.LoadGP(Param("c"))
	ldc := simd.LoadGP(Param("ldc"))
	SHLQ(U8(2), ldc)
	alpha := t.BroadcastParam("alpha")
	beta := t.BroadcastParam("beta")
	betaZero := GP32()
	MOVL(simd.ParamAddr("beta"), betaZero) // zero for +0 and -0 once the sign is shifted out
	SHLL(U8(1), betaZero)
	sums := simd.LoadGP(Param("sums"))
	vecs := f
	if partial {
		vecs++
	}
	acc := t.Vecs(vecs)

	Label("row" + name)
	TESTQ(rows, rows)
	JZ(LabelRef("done" + name))
	TESTQ(U32(carryIn), simd.ParamAddr("carry"))
	JNZ(LabelRef("carried" + name))
	for _, v := range acc {
		VXORPS(v, v, v)
	}
	JMP(LabelRef("summed" + name))
	Label("carried" + name)
	for v, x := range acc {
		VMOVUPS(Mem{Base: sums}.Offset(v*t.Bytes), x)
	}
	Label("summed" + name)
	m := GP64()
	MOVQ(Mem{Base: masks}, m)
	TESTQ(m, m)
	JZ(LabelRef("store" + name))
	Label("entry" + name)
	q := GP64()
	TZCNTQ(m, q) // the next nonzero's column
	BLSRQ(m, m)  // and clear its bit
	bc := t.Vec()
	VBROADCASTSS(Mem{Base: a, Index: q, Scale: 4}, bc)
	IMULQ(ldb, q)
	ADDQ(b, q) // its row of B
	for v := 0; v < f; v++ {
		VFMADD231PS(Mem{Base: q}.Offset(v*t.Bytes), bc, acc[v])
	}
	if partial {
		last := t.Vec()
		mask.LoadMasked(Mem{Base: q}.Offset(f*t.Bytes), last)
		VFMADD231PS(last, bc, acc[f])
	}
	TESTQ(m, m)
	JNZ(LabelRef("entry" + name))

	Label("store" + name)
	TESTQ(U32(carryOut), simd.ParamAddr("carry"))
	JZ(LabelRef("final" + name))
	for v, x := range acc {
		VMOVUPS(x, Mem{Base: sums}.Offset(v*t.Bytes))
	}
	JMP(LabelRef("next" + name))

	// The dense kernel's write-back: alpha times acc (skipped when alpha is 1), plus beta
	// times C (skipped, and C not read, when beta is 0).
	Label("final" + name)
	CMPL(simd.ParamAddr("alpha"), U32(math.Float32bits(1)))
	JE(LabelRef("scaled" + name))
	for _, v := range acc {
		VMULPS(alpha, v, v)
	}
	Label("scaled" + name)
	TESTL(betaZero, betaZero)
	JZ(LabelRef("write" + name))
	for v := 0; v < f; v++ {
		VFMADD231PS(Mem{Base: c}.Offset(v*t.Bytes), beta, acc[v])
	}
	if partial {
		old := t.Vec()
		mask.LoadMasked(Mem{Base: c}.Offset(f*t.Bytes), old)
		VFMADD231PS(old, beta, acc[f])
	}
	Label("write" + name)
	for v := 0; v < f; v++ {
		VMOVUPS(acc[v], Mem{Base: c}.Offset(v*t.Bytes))
	}
	if partial {
		mask.StoreMasked(acc[f], Mem{Base: c}.Offset(f*t.Bytes))
	}
	Label("next" + name)
	ADDQ(U32(sparseVectors*t.Bytes), sums)
	ADDQ(stride, masks)
	ADDQ(lda, a)
	ADDQ(ldc, c)
	DECQ(rows)
	JMP(LabelRef("row" + name))
	Label("done" + name)
	VZEROUPPER()
	RET()
}

// finiteRows emits finiteRowsAVX2, which reports whether rows rows of cols floats (row
// stride ld) hold no Inf or NaN, so that the sparse path may skip zeros of A against them:
//
//	for r := 0; r < rows; r++ { for j := 0; j < cols; j++ { if !finite(b[r*ld+j]) { return false } } }
//	return true
//
// x*0 is zero for every finite x and NaN for Inf and NaN, so one multiply-add a vector,
// sum += x*0, leaves a NaN in sum exactly when some x is not finite. Eight sums (the
// multiply-add's latency times its throughput) keep both FMA pipes busy, and the loads
// run ahead of them. It uses 256-bit AVX2 only, so the AVX-512 tier calls it too.
func finiteRows() {
	TEXT("finiteRowsAVX2", NOSPLIT, "func(rows, cols int, b *float32, ld int) bool")
	Pragma("noescape")
	Doc("reports whether B[rows x cols] holds no Inf or NaN: see finiteRowsGeneric")
	rows := simd.LoadGP(Param("rows"))
	b := simd.LoadGP(Param("b"))
	ld := simd.LoadGP(Param("ld"))
	SHLQ(U8(2), ld)
	tail := GP64()
	Load(Param("cols"), tail)
	ANDQ(U8(7), tail)
	mask := simd.AVX2.TailMask(tail)
	zero := YMM()
	VXORPS(zero, zero, zero)
	const unroll = 8
	sums := make([]VecVirtual, unroll)
	for i := range sums {
		sums[i] = YMM()
		VXORPS(sums[i], sums[i], sums[i])
	}
	next := 0 // the sum the next vector goes to
	check := func(x VecVirtual) {
		VFMADD231PS(zero, x, sums[next%unroll])
		next++
	}
	rowChunks(rows, b, ld, "cols", mask, unroll, check)
	for n := unroll; n > 1; n /= 2 {
		for i := 0; i < n/2; i++ {
			VADDPS(sums[i+n/2], sums[i], sums[i])
		}
	}
	nan := YMM()
	VCMPPS(U8(3), sums[0], sums[0], nan) // UNORD_Q: a lane that is NaN
	ok := GP8()
	VPTEST(nan, nan)
	SETEQ(ok)
	VZEROUPPER()
	Store(ok, ReturnIndex(0))
	RET()
}

// rowChunks emits a loop over rows rows (rows counts down; a, the first row's address,
// moves on by ld bytes a row) of the number of floats in argument cols: body gets each
// row's floats eight at a time, unroll vectors a pass while that many are left, and last
// the row's tail with mask, its lanes past the row zero.
func rowChunks(rows, a, ld GPVirtual, cols string, mask simd.Mask, unroll int, body func(v VecVirtual)) {
	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	p, left := GP64(), GP64()
	MOVQ(a, p)
	Load(Param(cols), left)
	if unroll > 1 {
		Label("chunks")
		CMPQ(left, U32(8*unroll))
		JB(LabelRef("chunk"))
		for u := 0; u < unroll; u++ {
			v := YMM()
			VMOVUPS(Mem{Base: p}.Offset(32*u), v)
			body(v)
		}
		ADDQ(U32(32*unroll), p)
		SUBQ(U32(8*unroll), left)
		JMP(LabelRef("chunks"))
	}
	Label("chunk")
	CMPQ(left, U8(8))
	JB(LabelRef("tail"))
	v := YMM()
	VMOVUPS(Mem{Base: p}, v)
	body(v)
	ADDQ(U8(32), p)
	SUBQ(U8(8), left)
	JMP(LabelRef("chunk"))
	Label("tail")
	TESTQ(left, left)
	JZ(LabelRef("next"))
	last := YMM()
	mask.LoadMasked(Mem{Base: p}, last)
	body(last)
	Label("next")
	ADDQ(ld, a)
	DECQ(rows)
	JMP(LabelRef("row"))
	Label("done")
}
