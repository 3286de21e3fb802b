package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// peakChains is how many independent FMA chains the peak loop keeps: with two FMA pipes of
// 4-cycle latency, 8 would do; 12 leaves margin and fits AVX2's 16 registers.
const peakChains = 12

// fmaPeak emits fmaPeak<tier>(iters int): iters rounds of peakChains independent FMAs on
// registers only, the machine's floating-point limit for the tier (lanes bench reports
// SGEMM as a share of it).
func fmaPeak(t simd.Tier) {
	TEXT(t.Name("fmaPeak"), NOSPLIT, "func(iters int)")
	Doc(fmt.Sprintf("iters rounds of %d independent %d-lane FMAs, on registers only", peakChains, t.Lanes))
	n := simd.LoadGP(Param("iters"))
	acc := t.Vecs(peakChains)
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	b, c := t.Const(1.0000001), t.Const(1e-7)
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	for _, a := range acc {
		VFMADD213PS(c, b, a) // a = a*b + c
	}
	DECQ(n)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
