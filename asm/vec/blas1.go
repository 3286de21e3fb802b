package main

import (
	. "github.com/mmcloughlin/avo/build"
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
