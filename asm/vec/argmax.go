package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// argmaxRows emits
//
//	func argmaxRows<tier>(dst []int32, x []float32, cols int)
//
// which sets dst[i] to the first index of the largest value of row i of x, for len(dst)
// rows of cols >= 1 floats; a NaN counts as larger than any number, so the first NaN of a
// row wins (as ArgmaxRows in Go). Each row takes two passes: the first finds its maximum
// and whether it holds a NaN, the second the first lane equal to that maximum, or the first
// NaN. Equal compares -0 and +0 equal, as Go's > does, so the first zero wins a zero maximum.
//
// The last partial vector of a row is loaded with -Inf in its missing lanes, which can equal
// the maximum only when the whole row is -Inf, and then its first lane is found first.
func argmaxRows(t simd.Tier) {
	TEXT(t.Name("argmaxRows"), NOSPLIT, "func(dst []int32, x []float32, cols int)")
	Pragma("noescape")
	Doc("for each row i: dst[i] = the first index of row i's maximum, or of its first NaN")
	dst := simd.LoadGP(Param("dst").Base())
	rows := simd.LoadGP(Param("dst").Len())
	x := simd.LoadGP(Param("x").Base())
	cols := simd.LoadGP(Param("cols"))
	ld := GP64()
	MOVQ(cols, ld)
	SHLQ(U8(2), ld)
	tail := GP64()
	MOVQ(cols, tail)
	ANDQ(U8(t.Lanes-1), tail)
	mask := t.TailMask(tail)
	negInf := t.Const(float32(math.Inf(-1)))

	// vectors emits a loop over the row at x: each whole vector, then the masked partial one
	// (-Inf past the row), handed to body with its first column in col and a suffix for its
	// labels. body jumps out when it is done with the row; the loop falls through at the
	// row's end.
	vectors := func(label string, body func(v VecVirtual, col GPVirtual, suffix string)) {
		p, col := GP64(), GP64()
		MOVQ(x, p)
		XORQ(col, col)
		Label(label)
		left := GP64()
		MOVQ(cols, left)
		SUBQ(col, left)
		CMPQ(left, U8(t.Lanes))
		JB(LabelRef(label + "Tail"))
		v := t.Vec()
		VMOVUPS(Mem{Base: p}, v)
		body(v, col, "Whole")
		ADDQ(U8(t.Bytes), p)
		ADDQ(U8(t.Lanes), col)
		JMP(LabelRef(label))
		Label(label + "Tail")
		TESTQ(tail, tail)
		JZ(LabelRef(label + "Done"))
		last := t.Vec()
		mask.LoadMaskedFill(Mem{Base: p}, negInf, last)
		body(last, col, "Tail")
		Label(label + "Done")
	}
	// first emits the search for the first lane where "v pred ref" holds: it stores the
	// lane's column to dst and goes on to the next row.
	first := func(label string, pred simd.Predicate, ref func(v VecVirtual) Op) {
		vectors(label, func(v VecVirtual, col GPVirtual, suffix string) {
			bits := t.LaneBits(pred, v, ref(v))
			TESTL(bits, bits)
			JZ(LabelRef(label + "Miss" + suffix))
			lane := GP32()
			TZCNTL(bits, lane)
			ADDL(lane, col.As32())
			MOVL(col.As32(), Mem{Base: dst})
			JMP(LabelRef("next"))
			Label(label + "Miss" + suffix)
		})
	}

	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	best := t.Vec()
	VMOVAPS(negInf, best)
	nans := GP32()
	XORL(nans, nans)
	vectors("max", func(v VecVirtual, _ GPVirtual, _ string) {
		ORL(t.LaneBits(simd.Unordered, v, v), nans)
		VMAXPS(best, v, best) // max(v, best) is best when v is NaN
	})
	TESTL(nans, nans)
	JZ(LabelRef("numbers"))
	first("nan", simd.Unordered, func(v VecVirtual) Op { return v })
	Label("numbers")
	top := t.ReduceMax(best)
	maxima := t.Vec()
	VBROADCASTSS(top, maxima)
	first("equal", simd.EqualTo, func(VecVirtual) Op { return maxima })

	Label("next")
	ADDQ(U8(4), dst)
	ADDQ(ld, x)
	DECQ(rows)
	JMP(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
