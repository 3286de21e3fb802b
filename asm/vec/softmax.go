package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// maxChains and expChains are how many vectors softmaxStats' passes work on at once.
const (
	maxChains = 4
	expChains = 3
)

// softmaxStats emits
//
//	func softmaxStats<tier>(stats, dst, src []float32, cols int)
//
// which, for each row i of src (len(src)/cols rows of cols > 0 floats), sets
// stats[2i] = m, the row's maximum, and stats[2i+1] = the sum over the row of exp(x - m); when
// dst is not empty it also writes exp(x - m) there (dst may be src). A NaN in a row makes
// its sum NaN.
func softmaxStats(t simd.Tier) {
	TEXT(t.Name("softmaxStats"), NOSPLIT, "func(stats, dst, src []float32, cols int)")
	Pragma("noescape")
	Doc("for each row: stats = {max, sum(exp(x - max))}; dst = exp(x - max) when len(dst) > 0")
	stats := simd.LoadGP(Param("stats").Base())
	dst := simd.LoadGP(Param("dst").Base())
	store := simd.LoadGP(Param("dst").Len())
	src := simd.LoadGP(Param("src").Base())
	n := simd.LoadGP(Param("src").Len())
	cols := simd.LoadGP(Param("cols"))

	Label("row")
	TESTQ(n, n)
	JZ(LabelRef("done"))

	// Pass 1: the row's maximum, in maxChains independent accumulators (VMAXPS's latency
	// would otherwise bound the pass); lanes past the end read as -Inf.
	p, left := GP64(), GP64()
	MOVQ(src, p)
	MOVQ(cols, left)
	accs := make([]VecVirtual, maxChains)
	for j := range accs {
		accs[j] = t.Const(float32(math.Inf(-1)))
	}
	t.Stream("max", left, []GPVirtual{p}, maxChains, func(s simd.Step) {
		for j := 0; j < s.Vectors; j++ {
			v := t.Vec()
			s.LoadFill(p, j, float32(math.Inf(-1)), v)
			VMAXPS(v, accs[j], accs[j])
		}
	})
	for j := 1; j < maxChains; j++ {
		VMAXPS(accs[j], accs[0], accs[0])
	}
	m := t.Vec()
	VBROADCASTSS(t.ReduceMax(accs[0]), m)
	VMOVSS(m.AsX(), Mem{Base: stats})

	// Pass 2: exp(x - m), summed, and stored when asked to; several vectors a step, so that
	// their exp chains overlap.
	sum := t.Vec()
	VXORPS(sum, sum, sum)
	MOVQ(src, p)
	MOVQ(cols, left)
	q := GP64()
	MOVQ(dst, q)
	expSum := func(s simd.Step, store bool) {
		xs := t.Vecs(s.Vectors)
		for j, v := range xs {
			s.Load(p, j, v)
			VSUBPS(m, v, v)
		}
		for j, e := range emitExp(t, xs, softmaxExp) {
			s.ZeroTail(e)
			VADDPS(e, sum, sum)
			if store {
				s.Store(e, q, j)
			}
		}
	}
	TESTQ(store, store)
	JZ(LabelRef("sumOnly"))
	t.Stream("expStore", left, []GPVirtual{p, q}, unroll(t, expChains), func(s simd.Step) { expSum(s, true) })
	JMP(LabelRef("reduce"))
	Label("sumOnly")
	t.Stream("expSum", left, []GPVirtual{p}, unroll(t, expChains), func(s simd.Step) { expSum(s, false) })
	Label("reduce")
	VMOVSS(t.ReduceAdd(sum), Mem{Base: stats}.Offset(4))

	ADDQ(U8(8), stats)
	nextRow(cols, n, src, dst)
	Label("done")
	VZEROUPPER()
	RET()
}

// nextRow moves the row pointers on by cols floats, counts the row's cols off the n floats
// left, and jumps back to the label "row".
func nextRow(cols, n GPVirtual, rowPtrs ...GPVirtual) {
	rowBytes := GP64()
	MOVQ(cols, rowBytes)
	SHLQ(U8(2), rowBytes)
	for _, p := range rowPtrs {
		ADDQ(rowBytes, p)
	}
	SUBQ(cols, n)
	JMP(LabelRef("row"))
}

// rowsAffine emits
//
//	func rowsAffine<tier>(dst, src, coef []float32, cols int)
//
// which, for each row i of src (len(src)/cols rows), writes
// dst = (src - coef[3i]) * coef[3i+1] + coef[3i+2]: softmax's scaling, log-softmax's shift.
// dst may be src.
func rowsAffine(t simd.Tier) {
	TEXT(t.Name("rowsAffine"), NOSPLIT, "func(dst, src, coef []float32, cols int)")
	Pragma("noescape")
	Doc("for each row i, j: dst[i][j] = (src[i][j] - coef[3i]) * coef[3i+1] + coef[3i+2]")
	dst := simd.LoadGP(Param("dst").Base())
	src := simd.LoadGP(Param("src").Base())
	n := simd.LoadGP(Param("src").Len())
	coef := simd.LoadGP(Param("coef").Base())
	cols := simd.LoadGP(Param("cols"))
	Label("row")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	sub, mul, add := t.Vec(), t.Vec(), t.Vec()
	VBROADCASTSS(Mem{Base: coef}, sub)
	VBROADCASTSS(Mem{Base: coef}.Offset(4), mul)
	VBROADCASTSS(Mem{Base: coef}.Offset(8), add)
	p, q, left := GP64(), GP64(), GP64()
	MOVQ(src, p)
	MOVQ(dst, q)
	MOVQ(cols, left)
	t.Stream("affine", left, []GPVirtual{p, q}, 2, func(s simd.Step) {
		for j := 0; j < s.Vectors; j++ {
			v := t.Vec()
			s.Load(p, j, v)
			VSUBPS(sub, v, v)
			VFMADD213PS(add, mul, v) // v = v*mul + add
			s.Store(v, q, j)
		}
	})
	ADDQ(U8(12), coef)
	nextRow(cols, n, src, dst)
	Label("done")
	VZEROUPPER()
	RET()
}

// adam emits
//
//	func adam<tier>(p, g, m, v []float32, h *adamHyper)
//
// one Adam step over len(p) parameters (the caller makes g, m and v as long), with the
// hyper-parameters precomputed in Go: h = {lr, beta1, 1-beta1, beta2, 1-beta2,
// 1/(1-beta1^t), 1/(1-beta2^t), eps, weightDecay}.
func adam(t simd.Tier) {
	TEXT(t.Name("adam"), NOSPLIT, "func(p, g, m, v []float32, h *[9]float32)")
	Pragma("noescape")
	Doc("m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g*g; p -= lr*((m*c1) / (sqrt(v*c2) + eps) + wd*p)")
	p := simd.LoadGP(Param("p").Base())
	n := simd.LoadGP(Param("p").Len())
	g := simd.LoadGP(Param("g").Base())
	m := simd.LoadGP(Param("m").Base())
	v := simd.LoadGP(Param("v").Base())
	h := simd.LoadGP(Param("h"))
	hyper := make([]VecVirtual, 9)
	for i := range hyper {
		hyper[i] = t.Vec()
		VBROADCASTSS(Mem{Base: h}.Offset(4*i), hyper[i])
	}
	lr, b1, oneMinusB1, b2, oneMinusB2, c1, c2, eps, wd := hyper[0], hyper[1], hyper[2], hyper[3],
		hyper[4], hyper[5], hyper[6], hyper[7], hyper[8]
	t.Stream("adam", n, []GPVirtual{p, g, m, v}, 1, func(s simd.Step) {
		gv, mv, vv, pv := t.Vec(), t.Vec(), t.Vec(), t.Vec()
		s.Load(g, 0, gv)
		s.Load(m, 0, mv)
		s.Load(v, 0, vv)
		s.Load(p, 0, pv)
		VMULPS(b1, mv, mv)
		VFMADD231PS(oneMinusB1, gv, mv) // m = b1*m + (1-b1)*g
		VMULPS(gv, gv, gv)
		VMULPS(b2, vv, vv)
		VFMADD231PS(oneMinusB2, gv, vv) // v = b2*v + (1-b2)*g*g
		s.Store(mv, m, 0)
		s.Store(vv, v, 0)
		VMULPS(c2, vv, vv)
		VSQRTPS(vv, vv)
		VADDPS(eps, vv, vv) // sqrt(v-hat) + eps
		VMULPS(c1, mv, mv)
		VDIVPS(vv, mv, mv)       // m-hat / (sqrt(v-hat) + eps)
		VFMADD231PS(wd, pv, mv)  // + wd*p
		VFNMADD231PS(lr, mv, pv) // p -= lr * update
		s.Store(pv, p, 0)
	})
	VZEROUPPER()
	RET()
}

// softmaxSmall emits
//
//	func softmaxSmall<tier>(dst, src []float32, cols int, spill bool)
//
// the softmax of each row of src (len(src)/cols rows) for 0 < cols <= 2*Lanes: the MLP's
// 10 classes, where the general kernels' per-row loops, a second pass and the coefficients
// computed in Go cost more than the arithmetic. A row is two vectors loaded with masks (lanes
// past cols read as -Inf, whose exp is 0), and nothing carries from one row to the next, so
// the out-of-order core overlaps consecutive rows. dst may be src.
//
// With spill (cols >= Lanes only), each row's second vector is stored whole, past the row's
// end into the next row of dst, which a later row or call overwrites: the caller sets it only
// when dst is not src, and makes dst reach at least 2*Lanes - cols floats past src's rows.
// AVX2's masked store is microcoded on AMD, and one a row kept consecutive rows from
// overlapping.
//
// With xent it emits softmaxXentSmall<tier>(dst, src, stats []float32, cols int, spill bool,
// rows float64) instead, the kernel of SoftmaxCrossEntropy's gradient: for row i it also
// writes stats[2i] = max and stats[2i+1] = sum, and dst = exp(x - max) * c with
// c = float32(1 / (float64(sum) * rows)), rounded as package kernels' Go code rounds it.
func softmaxSmall(t simd.Tier, xent bool) {
	if xent {
		TEXT(t.Name("softmaxXentSmall"), NOSPLIT, "func(dst, src, stats []float32, cols int, spill bool, rows float64)")
		Pragma("noescape")
		Doc("for each row of cols <= 2*lanes floats: stats = {max, sum}; dst = exp(x - max) / (sum * rows)")
	} else {
		TEXT(t.Name("softmaxSmall"), NOSPLIT, "func(dst, src []float32, cols int, spill bool)")
		Pragma("noescape")
		Doc("for each row of cols <= 2*lanes floats: dst = exp(x - max) / sum(exp(x - max))")
	}
	var stats GPVirtual
	if xent {
		stats = simd.LoadGP(Param("stats").Base())
	}
	dst := simd.LoadGP(Param("dst").Base())
	src := simd.LoadGP(Param("src").Base())
	n := simd.LoadGP(Param("src").Len())
	cols := simd.LoadGP(Param("cols"))
	lanes0, lanes1, full := GP64(), GP64(), GP64()
	MOVQ(cols, lanes0) // min(cols, Lanes) in the first vector, the rest in the second
	MOVQ(U32(t.Lanes), full)
	CMPQ(lanes0, full)
	CMOVQGT(full, lanes0)
	MOVQ(cols, lanes1)
	SUBQ(lanes0, lanes1)
	m0, m1 := t.TailMask(lanes0), t.TailMask(lanes1)
	rowBytes := GP64()
	MOVQ(cols, rowBytes)
	SHLQ(U8(2), rowBytes)

	// Three copies of the row loop: when the first vector is whole (cols >= Lanes, as for 10
	// classes on AVX2) it is stored plainly, and with spill the second one too.
	CMPQ(cols, U32(t.Lanes))
	JB(LabelRef("partRow"))
	spill := GP32()
	MOVBLZX(simd.ParamAddr("spill"), spill)
	TESTL(spill, spill)
	JNZ(LabelRef("spillRow"))
	JMP(LabelRef("wholeRow"))
	for _, mode := range []string{"partRow", "wholeRow", "spillRow"} {
		label, whole := mode, mode != "partRow"
		Label(label)
		TESTQ(n, n)
		JZ(LabelRef("done"))
		x0, x1 := t.Vec(), t.Vec()
		if whole {
			VMOVUPS(Mem{Base: src}, x0)
		} else {
			m0.LoadMaskedFill(Mem{Base: src}, t.Const(float32(math.Inf(-1))), x0)
		}
		m1.LoadMaskedFill(Mem{Base: src}.Offset(t.Bytes), t.Const(float32(math.Inf(-1))), x1)
		mx, m := t.Vec(), t.Vec()
		VMAXPS(x1, x0, mx)
		VBROADCASTSS(t.ReduceMax(mx), m)
		VSUBPS(m, x0, x0)
		VSUBPS(m, x1, x1)
		e := emitExp(t, vecs{x0, x1}, softmaxExp)
		s, inv := t.Vec(), t.Vec()
		VADDPS(e[1], e[0], s)
		VBROADCASTSS(t.ReduceAdd(s), s)
		if xent {
			VMOVSS(m.AsX(), Mem{Base: stats})
			VMOVSS(s.AsX(), Mem{Base: stats}.Offset(4))
			ADDQ(U8(8), stats)
			// 1 / (sum * rows) in float64, then to float32: the Go code's rounding.
			d, one, bits := t.Vec(), t.Vec(), GP64()
			VCVTSS2SD(s.AsX(), d.AsX(), d.AsX())
			VMULSD(simd.ParamAddr("rows"), d.AsX(), d.AsX())
			MOVQ(U64(math.Float64bits(1)), bits)
			VMOVQ(bits, one.AsX())
			VDIVSD(d.AsX(), one.AsX(), one.AsX())
			VCVTSD2SS(one.AsX(), one.AsX(), inv.AsX())
			VBROADCASTSS(inv.AsX(), inv)
		} else {
			VMOVUPS(t.ConstVec(1), inv)
			VDIVPS(s, inv, inv) // 1 / sum
		}
		VMULPS(inv, e[0], e[0])
		VMULPS(inv, e[1], e[1])
		if whole {
			VMOVUPS(e[0], Mem{Base: dst})
		} else {
			m0.StoreMasked(e[0], Mem{Base: dst})
		}
		if mode == "spillRow" {
			VMOVUPS(e[1], Mem{Base: dst}.Offset(t.Bytes))
		} else {
			m1.StoreMasked(e[1], Mem{Base: dst}.Offset(t.Bytes))
		}
		ADDQ(rowBytes, src)
		ADDQ(rowBytes, dst)
		SUBQ(cols, n)
		JMP(LabelRef(label))
	}
	Label("done")
	VZEROUPPER()
	RET()
}
