package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// axpy: y += alpha*x, over len(x) elements; the caller makes len(y) >= len(x).
//
// Registers: one holds alpha broadcast; each vector of a step takes one for y.
func axpy(t simd.Tier) {
	TEXT(t.Name("axpy"), NOSPLIT, "func(alpha float32, x, y []float32)")
	Pragma("noescape")
	Doc("for i, v := range x { y[i] += alpha * v }")
	alpha := t.BroadcastParam("alpha")
	x := simd.LoadGP(Param("x").Base())
	y := simd.LoadGP(Param("y").Base())
	n := simd.LoadGP(Param("x").Len())
	t.Stream("axpy", n, []GPVirtual{x, y}, 4, func(s simd.Step) {
		for j := 0; j < s.Vectors; j++ {
			v := t.Vec()
			s.Load(y, j, v)
			VFMADD231PS(s.Operand(x, j), alpha, v)
			s.Store(v, y, j)
		}
	})
	VZEROUPPER()
	RET()
}

// scale: x *= alpha.
func scale(t simd.Tier) {
	TEXT(t.Name("scale"), NOSPLIT, "func(alpha float32, x []float32)")
	Pragma("noescape")
	Doc("for i := range x { x[i] *= alpha }")
	alpha := t.BroadcastParam("alpha")
	x := simd.LoadGP(Param("x").Base())
	n := simd.LoadGP(Param("x").Len())
	t.Stream("scale", n, []GPVirtual{x}, 4, func(s simd.Step) {
		for j := 0; j < s.Vectors; j++ {
			v := t.Vec()
			s.Load(x, j, v)
			VMULPS(alpha, v, v)
			s.Store(v, x, j)
		}
	})
	VZEROUPPER()
	RET()
}

// dotUnroll is the number of independent accumulators: with two FMA pipes of 4-cycle
// latency, 8 keep both busy; the loads (two per FMA) are the limit below that anyway.
const dotUnroll = 8

// dot: the sum of x[i]*y[i] over len(x) elements; the caller makes len(y) >= len(x).
//
// Registers: dotUnroll accumulators, one temporary per vector of a step for x.
func dot(t simd.Tier) {
	TEXT(t.Name("dot"), NOSPLIT, "func(x, y []float32) float32")
	Pragma("noescape")
	Doc("for i, v := range x { sum += v * y[i] }")
	x := simd.LoadGP(Param("x").Base())
	y := simd.LoadGP(Param("y").Base())
	n := simd.LoadGP(Param("x").Len())
	acc := t.Vecs(dotUnroll)
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	t.Stream("dot", n, []GPVirtual{x, y}, dotUnroll, func(s simd.Step) {
		for j := 0; j < s.Vectors; j++ {
			v := t.Vec()
			s.Load(x, j, v)
			VFMADD231PS(s.Operand(y, j), v, acc[j])
		}
	})
	for w := dotUnroll / 2; w >= 1; w /= 2 { // pairwise: acc[0] += acc[4], ...
		for j := 0; j < w; j++ {
			VADDPS(acc[j+w], acc[j], acc[j])
		}
	}
	sum := t.ReduceAdd(acc[0])
	Store(sum, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// addBias: x[i][j] += bias[j] for each of rows rows of x, whose rows are len(bias) long.
func addBias(t simd.Tier) {
	TEXT(t.Name("addBias"), NOSPLIT, "func(x, bias []float32, rows int)")
	Pragma("noescape")
	Doc("for i := 0; i < rows; i++ { for j, b := range bias { x[i*len(bias)+j] += b } }")
	x := simd.LoadGP(Param("x").Base())
	bias := simd.LoadGP(Param("bias").Base())
	cols := simd.LoadGP(Param("bias").Len())
	rows := simd.LoadGP(Param("rows"))
	vectorDownRows(t, "bias", x, bias, cols, rows, true)
	VZEROUPPER()
	RET()
}

// sumRows: dst[j] += x[i][j] for each of rows rows of x in order, whose rows are len(dst)
// long: the column sums, one row at a time, as a loop of Axpy calls would add them.
func sumRows(t simd.Tier) {
	TEXT(t.Name("sumRows"), NOSPLIT, "func(dst, x []float32, rows int)")
	Pragma("noescape")
	Doc("for i := 0; i < rows; i++ { for j := range dst { dst[j] += x[i*len(dst)+j] } }")
	dst := simd.LoadGP(Param("dst").Base())
	x := simd.LoadGP(Param("x").Base())
	cols := simd.LoadGP(Param("dst").Len())
	rows := simd.LoadGP(Param("rows"))
	vectorDownRows(t, "sum", x, dst, cols, rows, false)
	VZEROUPPER()
	RET()
}

// vectorDownRows holds a block of vec, up to rowUnroll vectors, in registers and runs it
// down every row of x: toRows adds it to each row (addBias); otherwise each row is added to
// it, in order, and it is stored back (sumRows).
func vectorDownRows(t simd.Tier, label string, x, vec, cols, rows GPVirtual, toRows bool) {
	var held []VecVirtual
	downColumns(t, label, x, cols, rows, []GPVirtual{vec}, rowUnroll, columnBlock{
		begin: func(s simd.Step) {
			held = t.Vecs(s.Vectors)
			for j, h := range held {
				s.Load(vec, j, h)
			}
		},
		row: func(s simd.Step, p GPVirtual) {
			for j, h := range held {
				if toRows {
					v := t.Vec()
					VADDPS(s.Operand(p, j), h, v)
					s.Store(v, p, j)
				} else {
					VADDPS(s.Operand(p, j), h, h)
				}
			}
		},
		end: func(s simd.Step) {
			if !toRows {
				for j, h := range held {
					s.Store(h, vec, j)
				}
			}
		},
	})
}

// rowUnroll is the widest block of columns addBias and sumRows carry down the rows: 8
// vectors and their temporaries fit AVX2's 16 registers, and 8 AVX2 vectors, 64 floats,
// cover a 256-byte run of each row, long enough for the prefetchers.
const rowUnroll = 8

// columnBlock is the work downColumns does for one block of columns: begin before its rows,
// row for each row (p points at the block in that row), end after the last.
type columnBlock struct {
	begin func(simd.Step)
	row   func(s simd.Step, p GPVirtual)
	end   func(simd.Step)
}

// downColumns emits loops over a matrix of rows rows of cols floats at m (rows contiguous,
// cols floats apart): it cuts the columns into blocks of unroll vectors, then single
// vectors, then one masked partial vector, and runs each block down every row. The
// pointers in along advance with the blocks, a block's width at a time.
func downColumns(t simd.Tier, label string, m, cols, rows GPVirtual, along []GPVirtual, unroll int, w columnBlock) {
	ld := GP64()
	MOVQ(cols, ld)
	SHLQ(U8(2), ld)
	left := GP64()
	MOVQ(cols, left)
	block := func(name string, s simd.Step) {
		w.begin(s)
		p, r := GP64(), GP64()
		MOVQ(m, p)
		MOVQ(rows, r)
		Label(name + "Row")
		TESTQ(r, r)
		JZ(LabelRef(name + "End"))
		w.row(s, p)
		ADDQ(ld, p)
		DECQ(r)
		JMP(LabelRef(name + "Row"))
		Label(name + "End")
		w.end(s)
	}
	steps := []struct {
		name, next string
		vectors    int
	}{{label + "Block", label + "Vector", unroll}, {label + "Vector", label + "Tail", 1}}
	for _, st := range steps {
		Label(st.name)
		CMPQ(left, U32(st.vectors*t.Lanes))
		JB(LabelRef(st.next))
		block(st.name, simd.Step{Tier: t, Vectors: st.vectors})
		for _, p := range append([]GPVirtual{m}, along...) {
			ADDQ(U32(st.vectors*t.Bytes), p)
		}
		SUBQ(U32(st.vectors*t.Lanes), left)
		JMP(LabelRef(st.name))
	}
	Label(label + "Tail")
	TESTQ(left, left)
	JZ(LabelRef(label + "Done"))
	mask := t.TailMask(left)
	block(label+"Tail", simd.Step{Tier: t, Vectors: 1, Mask: &mask})
	Label(label + "Done")
}
