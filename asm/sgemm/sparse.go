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

// sparseMasksU8 emits sparseMasksU8AVX2, sparseMasks for rows of bytes (lda in bytes):
//
//	for r := 0; r < rows; r++ {
//		for u := 0; u*64 < k; u++ {
//			m := uint64(0)
//			for q := u*64; q < min(k, u*64+64); q++ { if a[r*lda+q] != 0 { m |= 1 << (q-u*64) } }
//			masks[r*stride+u] = m
//		}
//	}
//
// A byte compare with zero and a byte move-mask give 32 bits at a time, inverted; a last run
// of fewer than 64 bytes goes 16 at a time, then byte by byte, so that nothing past the row
// is read. 256-bit AVX2 only: the AVX-512 tier calls it too.
func sparseMasksU8() {
	TEXT("sparseMasksU8AVX2", NOSPLIT, "func(rows, k int, a *byte, lda int, masks *uint64, stride int)")
	Pragma("noescape")
	Doc("marks the nonzeros of rows rows of bytes A[rows x k], 64 columns to a mask: see sparseMasksU8Generic")
	rows := simd.LoadGP(Param("rows"))
	a := simd.LoadGP(Param("a"))
	lda := simd.LoadGP(Param("lda"))
	masks := simd.LoadGP(Param("masks"))
	stride := simd.LoadGP(Param("stride"))
	SHLQ(U8(3), stride)
	zero := YMM()
	VPXOR(zero, zero, zero)

	// zeroBits sets the low bits of a new register to the lanes of v (32 or 16 bytes) that
	// are zero.
	zeroBits := func(v Op, wide bool) GPVirtual {
		eq := XMM()
		z := zero.AsX()
		if wide {
			eq, z = YMM(), zero
		}
		VPCMPEQB(v, z, eq)
		b := GP64()
		VPMOVMSKB(eq, b.As32())
		return b
	}

	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	p, out, left := GP64(), GP64(), GP64()
	MOVQ(a, p)
	MOVQ(masks, out)
	Load(Param("k"), left)

	Label("run")
	CMPQ(left, U8(64))
	JB(LabelRef("part"))
	lo := zeroBits(Mem{Base: p}, true)
	hi := zeroBits(Mem{Base: p}.Offset(32), true)
	SHLQ(U8(32), hi)
	ORQ(hi, lo)
	NOTQ(lo)
	MOVQ(lo, Mem{Base: out})
	ADDQ(U8(8), out)
	ADDQ(U8(64), p)
	SUBQ(U8(64), left)
	JMP(LabelRef("run"))

	Label("part")
	TESTQ(left, left)
	JZ(LabelRef("next"))
	m, shift := GP64(), GP64()
	XORQ(m, m)
	XORQ(shift, shift)
	Label("chunk")
	CMPQ(left, U8(16))
	JB(LabelRef("byte"))
	b := zeroBits(Mem{Base: p}, false)
	XORQ(U32(0xffff), b)
	SHLXQ(shift, b, b)
	ORQ(b, m)
	ADDQ(U8(16), shift)
	ADDQ(U8(16), p)
	SUBQ(U8(16), left)
	JMP(LabelRef("chunk"))
	Label("byte")
	TESTQ(left, left)
	JZ(LabelRef("store"))
	x := GP32()
	MOVBLZX(Mem{Base: p}, x)
	TESTL(x, x)
	JZ(LabelRef("skip"))
	BTSQ(shift, m)
	Label("skip")
	INCQ(shift)
	INCQ(p)
	DECQ(left)
	JMP(LabelRef("byte"))
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

// transposeBytes emits transposeBytesAVX2, which transposes whole 8 x 8 blocks of bytes:
//
//	for i := 0; i < rows; i++ { for j := 0; j < cols; j++ { dst[j*ldd+i] = src[i*lds+j] } }
//
// with rows and cols multiples of 8 (the Go caller does the edges). Each block is eight
// 8-byte loads and three rounds of unpacks, bytes, then words, then double words (after
// which each 16-byte register holds two of dst's rows), then eight 8-byte stores. It needs
// only 128-bit AVX; the AVX-512 tier calls it too.
func transposeBytes() {
	TEXT("transposeBytesAVX2", NOSPLIT, "func(dst *byte, ldd int, src *byte, lds int, rows, cols int)")
	Pragma("noescape")
	Doc("dst[j*ldd+i] = src[i*lds+j] for i < rows, j < cols, both multiples of 8: see transposeBytesGeneric")
	dst := simd.LoadGP(Param("dst"))
	ldd := simd.LoadGP(Param("ldd"))
	src := simd.LoadGP(Param("src"))
	lds := simd.LoadGP(Param("lds"))
	rows := simd.LoadGP(Param("rows"))
	lds3, ldd3 := GP64(), GP64()
	LEAQ(Mem{Base: lds, Index: lds, Scale: 2}, lds3)
	LEAQ(Mem{Base: ldd, Index: ldd, Scale: 2}, ldd3)

	Label("rows")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	s, d, left := GP64(), GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, d)
	Load(Param("cols"), left)
	Label("block")
	TESTQ(left, left)
	JZ(LabelRef("next"))
	// r[i] = src row i of the block, at s + i*lds (rows 4-7 from s4 = s + 4*lds).
	s4 := GP64()
	LEAQ(Mem{Base: s, Index: lds, Scale: 4}, s4)
	r := make([]VecVirtual, 8)
	for i := range r {
		r[i] = XMM()
	}
	rowAddr := func(base, ld, ld3 GPVirtual, i int) Mem {
		switch i % 4 {
		case 0:
			return Mem{Base: base}
		case 1:
			return Mem{Base: base, Index: ld, Scale: 1}
		case 2:
			return Mem{Base: base, Index: ld, Scale: 2}
		}
		return Mem{Base: base, Index: ld3, Scale: 1}
	}
	for i := range r {
		base := s
		if i >= 4 {
			base = s4
		}
		VMOVQ(rowAddr(base, lds, lds3, i), r[i])
	}
	t := make([]VecVirtual, 4)
	for i := range t {
		t[i] = XMM()
		VPUNPCKLBW(r[2*i+1], r[2*i], t[i]) // r[2i][0] r[2i+1][0] r[2i][1] r[2i+1][1] ...
	}
	u := make([]VecVirtual, 4)
	for i := range u {
		u[i] = XMM()
	}
	VPUNPCKLWD(t[1], t[0], u[0]) // columns 0-3 of rows 0-3
	VPUNPCKHWD(t[1], t[0], u[1]) // columns 4-7 of rows 0-3
	VPUNPCKLWD(t[3], t[2], u[2]) // columns 0-3 of rows 4-7
	VPUNPCKHWD(t[3], t[2], u[3]) // columns 4-7 of rows 4-7
	v := make([]VecVirtual, 4)
	for i := range v {
		v[i] = XMM()
	}
	VPUNPCKLDQ(u[2], u[0], v[0]) // columns 0 and 1, rows 0-7 each
	VPUNPCKHDQ(u[2], u[0], v[1]) // columns 2 and 3
	VPUNPCKLDQ(u[3], u[1], v[2]) // columns 4 and 5
	VPUNPCKHDQ(u[3], u[1], v[3]) // columns 6 and 7
	d4 := GP64()
	LEAQ(Mem{Base: d, Index: ldd, Scale: 4}, d4)
	for j := 0; j < 8; j++ {
		base := d
		if j >= 4 {
			base = d4
		}
		at := rowAddr(base, ldd, ldd3, j)
		if j%2 == 0 {
			VMOVQ(v[j/2], at)
		} else {
			VMOVHPS(v[j/2], at)
		}
	}
	ADDQ(U8(8), s)
	LEAQ(Mem{Base: d, Index: ldd, Scale: 8}, d)
	SUBQ(U8(8), left)
	JMP(LabelRef("block"))

	Label("next")
	LEAQ(Mem{Base: src, Index: lds, Scale: 8}, src)
	ADDQ(U8(8), dst)
	SUBQ(U8(8), rows)
	JMP(LabelRef("rows"))
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
//
// With bytesA, it emits sgemmSparseU8<tier>, whose A is bytes standing for scale times their
// value (a *byte, and a last argument scale float32): each nonzero's float is made as
// BytesToFloat32 makes it, float32(byte) * scale, then broadcast.
func sparseKernel(t simd.Tier, bytesA bool) {
	name, aType, doc := "sgemmSparse", "*float32", "A"
	args := "alpha, beta float32"
	if bytesA {
		name, aType, doc = "sgemmSparseU8", "*byte", "scale*A (A bytes)"
		args = "alpha, beta, scale float32"
	}
	TEXT(t.Name(name), NOSPLIT,
		"func(rows int, masks *uint64, stride int, a "+aType+", lda int, b *float32, ldb int, sums *float32, carry int, c *float32, ldc, cols int, "+args+")")
	Pragma("noescape")
	Doc(fmt.Sprintf("rows rows of C[rows x cols] = alpha * %s * B[64 x cols] + beta * C, A's nonzeros marked in masks, cols <= %d: see %sGeneric",
		doc, sparseVectors*t.Lanes, name))
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
		sparseRowsLoop(t, r.full, r.partial, mask, bytesA)
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
func sparseRowsLoop(t simd.Tier, f int, partial bool, mask simd.Mask, bytesA bool) {
	name := fmt.Sprintf("%d%v", f, partial)
	Label("rows" + name)
	rows := simd.LoadGP(Param("rows"))
	masks := simd.LoadGP(Param("masks"))
	stride := simd.LoadGP(Param("stride"))
	SHLQ(U8(3), stride)
	a := simd.LoadGP(Param("a"))
	lda := simd.LoadGP(Param("lda"))
	// bytesA: zero is the conversion's merge source, zero so that it waits on nothing; scale
	// stays in a register, where a memory operand was one more load a nonzero beside its
	// eight of B, which bound the loop (BenchmarkSgemmBytes, 1 thread, best of four:
	// 784x128x128 with A^T 65.7 -> 62.8 us on avx512, 70.2 -> 66.7 on avx2; 128x784x128
	// 76.9 -> 75.2 and 80.7 -> 78.9).
	var zero, scale VecVirtual
	if bytesA {
		zero, scale = XMM(), XMM()
		VXORPS(zero, zero, zero)
		VMOVSS(simd.ParamAddr("scale"), scale)
	} else {
		SHLQ(U8(2), lda)
	}
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
	bc := t.Vec()
	if bytesA {
		x := GP32()
		MOVBLZX(Mem{Base: a, Index: q, Scale: 1}, x)
		f := XMM()
		VCVTSI2SSL(x, zero, f)
		VMULSS(scale, f, f)
		VBROADCASTSS(f, bc)
	} else {
		VBROADCASTSS(Mem{Base: a, Index: q, Scale: 4}, bc)
	}
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
	BLSRQ(m, m) // clear the nonzero's bit, and go on while bits are left
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
