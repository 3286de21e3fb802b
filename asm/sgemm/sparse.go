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
// pixels) without the multiply-adds its zeros would cost: sparseRows lists each row's
// nonzeros, and sgemmSparse adds, for each, that float times a row of B to registers that
// hold a row of C.

// sparseVectors is how many vectors of a C row sgemmSparse holds in registers: 8
// accumulators, one broadcast, alpha, beta, a tail mask and a scratch vector fit AVX2's 16.
const sparseVectors = 8

// The bits of sgemmSparse's carry argument.
const (
	carryIn  = 1 // start each row's sums from sums, not zero
	carryOut = 2 // leave them in sums, not written back to C
)

// compressTable is the table sparseRows packs nonzero lanes with: entry m (32 bytes) lists
// the lanes whose bit is set in m, lowest first, then zeros.
var compressTable Mem

func declareCompressTable() {
	compressTable = GLOBL("compressTable", RODATA|NOPTR)
	for m := 0; m < 256; m++ {
		slot := 0
		for lane := 0; lane < 8; lane++ {
			if m&(1<<lane) != 0 {
				DATA(32*m+4*slot, U32(uint32(lane)))
				slot++
			}
		}
		for ; slot < 8; slot++ {
			DATA(32*m+4*slot, U32(0))
		}
	}
}

// sparseRows emits sparseRowsAVX2, which lists the nonzeros of rows rows of k floats (row
// stride lda) as compressed rows, row r's being idx[start[r]:start[r+1]] and the same
// range of val:
//
//	n := 0
//	for r := 0; r < rows; r++ {
//		start[r] = n
//		for q := 0; q < k; q++ {
//			if v := a[r*lda+q]; v != 0 { idx[n], val[n] = q, v; n++ }
//		}
//	}
//	start[rows] = n
//
// NaN is not zero, so it is listed. Eight floats at a time: a compare gives the mask of the
// nonzero lanes, compressTable the permutation that moves them to the front, and all eight
// lanes are stored, so idx and val need room for 8 entries past the last. It uses 256-bit
// AVX2 only, so the AVX-512 tier calls it too.
//
// Registers: zero for the compare, steps holds q in every lane, eight adds 8 to it.
func sparseRows() {
	TEXT("sparseRowsAVX2", NOSPLIT, "func(rows, k int, a *float32, lda int, start, idx *int32, val *float32)")
	Pragma("noescape")
	Doc("lists the nonzeros of rows rows of A[rows x k] as compressed rows: see sparseRowsGeneric")
	rows := simd.LoadGP(Param("rows"))
	a := simd.LoadGP(Param("a"))
	lda := simd.LoadGP(Param("lda"))
	SHLQ(U8(2), lda)
	start := simd.LoadGP(Param("start"))
	idx := simd.LoadGP(Param("idx"))
	val := simd.LoadGP(Param("val"))
	table := GP64()
	LEAQ(compressTable, table)
	n := GP64()
	XORQ(n, n)
	zero, eight := YMM(), YMM()
	VXORPS(zero, zero, zero)
	VPBROADCASTD(simd.AVX2.ConstVecInt(8).Offset(0), eight) // any lane of the constant vector
	tail := GP64()
	Load(Param("k"), tail)
	ANDQ(U8(7), tail)
	mask := simd.AVX2.TailMask(tail)

	// compress lists the nonzero lanes of v, the floats at columns steps.
	//
	// There is no branch on an all-zero chunk: its stores land where the next nonzeros will
	// go, and taking the branch mispredicted often enough on image rows to cost more.
	compress := func(v, steps VecVirtual) {
		nonzero := YMM()
		VCMPPS(U8(4), zero, v, nonzero) // NEQ_UQ: v != 0, or NaN
		bitsReg := GP64()
		VMOVMSKPS(nonzero, bitsReg.As32())
		perm := YMM()
		off := GP64()
		MOVQ(bitsReg, off)
		SHLQ(U8(5), off)
		VMOVDQU(Mem{Base: table, Index: off, Scale: 1}, perm)
		packed, cols := YMM(), YMM()
		VPERMPS(v, perm, packed)
		VPADDD(steps, perm, cols)
		VMOVUPS(packed, Mem{Base: val, Index: n, Scale: 4})
		VMOVDQU(cols, Mem{Base: idx, Index: n, Scale: 4})
		POPCNTL(bitsReg.As32(), bitsReg.As32())
		ADDQ(bitsReg, n)
	}

	steps := YMM()
	rowChunks(rows, a, lda, "k", mask, 1, func() {
		MOVL(n.As32(), Mem{Base: start})
		ADDQ(U8(4), start)
		VPXOR(steps, steps, steps)
	}, func(v VecVirtual) {
		compress(v, steps)
		VPADDD(eight, steps, steps)
	})
	MOVL(n.As32(), Mem{Base: start})
	VZEROUPPER()
	RET()
}

// sparseKernel emits
//
//	func sgemmSparse<tier>(rows int, start, idx *int32, val *float32, b *float32, ldb int,
//		sums *float32, carry int, c *float32, ldc, cols int, alpha, beta float32)
//
// which computes rows rows of C from compressed rows of A (as sparseRows lists them): for
// r < rows and j < cols <= W = sparseVectors*Lanes,
//
//	acc := 0, or sums[r*W+j] when carry&carryIn
//	for t := start[r]; t < start[r+1]; t++ { acc += val[t] * b[idx[t]*ldb+j] }
//	sums[r*W+j] = acc when carry&carryOut, else c[r*ldc+j] = alpha*acc + beta*c[r*ldc+j]
//
// each sum in the order of the listed columns, with the same multiply-adds and write-back
// as the dense micro-kernel, so that skipping A's zeros changes no bit of C while B is
// finite (but the sign of a zero: see kernels/sgemm_sparse.go) (beta == 0: C is not read). sums carries the partial sums of a row from one call
// to the next, so that a long sum can be cut into blocks of B that stay in L1. B is read in
// place, its last vector masked when cols is not a whole number of vectors.
//
// Registers: acc[v] holds vector v of C's row; bc takes each broadcast value of A.
func sparseKernel(t simd.Tier) {
	TEXT(t.Name("sgemmSparse"), NOSPLIT,
		"func(rows int, start, idx *int32, val *float32, b *float32, ldb int, sums *float32, carry int, c *float32, ldc, cols int, alpha, beta float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("rows rows of C[rows x cols] = alpha * A * B[k x cols] + beta * C, A as compressed rows, cols <= %d: see sgemmSparseGeneric",
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
	start := simd.LoadGP(Param("start"))
	idx := simd.LoadGP(Param("idx"))
	val := simd.LoadGP(Param("val"))
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
	for v, a := range acc {
		VMOVUPS(Mem{Base: sums}.Offset(v*t.Bytes), a)
	}
	Label("summed" + name)
	i, end := GP64(), GP64()
	MOVLQSX(Mem{Base: start}, i)
	MOVLQSX(Mem{Base: start}.Offset(4), end)
	ADDQ(U8(4), start)
	CMPQ(i, end)
	JGE(LabelRef("store" + name))
	Label("entry" + name)
	bRow := GP64()
	MOVLQSX(Mem{Base: idx, Index: i, Scale: 4}, bRow)
	IMULQ(ldb, bRow)
	ADDQ(b, bRow)
	bc := t.Vec()
	VBROADCASTSS(Mem{Base: val, Index: i, Scale: 4}, bc)
	for v := 0; v < f; v++ {
		VFMADD231PS(Mem{Base: bRow}.Offset(v*t.Bytes), bc, acc[v])
	}
	if partial {
		last := t.Vec()
		mask.LoadMasked(Mem{Base: bRow}.Offset(f*t.Bytes), last)
		VFMADD231PS(last, bc, acc[f])
	}
	INCQ(i)
	CMPQ(i, end)
	JL(LabelRef("entry" + name))

	Label("store" + name)
	TESTQ(U32(carryOut), simd.ParamAddr("carry"))
	JZ(LabelRef("final" + name))
	for v, a := range acc {
		VMOVUPS(a, Mem{Base: sums}.Offset(v*t.Bytes))
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
// A float is Inf or NaN when its exponent bits are all ones. Four vectors a pass; it uses
// 256-bit AVX2 only, so the AVX-512 tier calls it too.
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
	exponent := YMM()
	VPBROADCASTD(simd.AVX2.ConstVecInt(0x7f800000).Offset(0), exponent)
	bad := YMM() // lanes of all ones where some float had every exponent bit set
	VPXOR(bad, bad, bad)
	check := func(x VecVirtual) {
		VPAND(exponent, x, x)
		VPCMPEQD(exponent, x, x)
		VPOR(x, bad, bad) // one dependent OR a vector: the loads and compares run ahead
	}
	rowChunks(rows, b, ld, "cols", mask, 4, func() {}, check)
	ok := GP8()
	VPTEST(bad, bad)
	SETEQ(ok)
	VZEROUPPER()
	Store(ok, ReturnIndex(0))
	RET()
}

// rowChunks emits a loop over rows rows (rows counts down; a, the first row's address,
// moves on by ld bytes a row) of the number of floats in argument cols. Each row starts
// with startRow, then body gets its floats eight at a time, unroll vectors a pass while
// that many are left, and last the row's tail with mask, its lanes past the row zero.
func rowChunks(rows, a, ld GPVirtual, cols string, mask simd.Mask, unroll int, startRow func(), body func(v VecVirtual)) {
	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	startRow()
	p, left := GP64(), GP64()
	MOVQ(a, p)
	Load(Param(cols), left)
	if unroll > 1 {
		Label("chunks")
		CMPQ(left, U8(8*unroll))
		JB(LabelRef("chunk"))
		for u := 0; u < unroll; u++ {
			v := YMM()
			VMOVUPS(Mem{Base: p}.Offset(32*u), v)
			body(v)
		}
		ADDQ(U8(32*unroll), p)
		SUBQ(U8(8*unroll), left)
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
