package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// bytesUnroll is how many vectors one pass of the main loop converts.
const bytesUnroll = 4

// bytesToFloat32 emits
//
//	func bytesToFloat32<tier>(dst []float32, src []byte, scale float32)
//
// over len(dst) elements, which the caller makes a multiple of the vector width (the Go side
// does the tail: a masked load has no byte granularity on AVX2) and at most len(src).
//
// Each vector: widen Lanes bytes to int32 (VPMOVZXBD), convert (VCVTDQ2PS), multiply.
func bytesToFloat32(t simd.Tier) {
	TEXT(t.Name("bytesToFloat32"), NOSPLIT, "func(dst []float32, src []byte, scale float32)")
	Pragma("noescape")
	Doc("for i := range dst { dst[i] = float32(src[i]) * scale }")
	scale := t.BroadcastParam("scale")
	dst := simd.LoadGP(Param("dst").Base())
	src := simd.LoadGP(Param("src").Base())
	n := simd.LoadGP(Param("dst").Len())
	for _, pass := range []struct {
		label   string
		vectors int
	}{{"block", bytesUnroll}, {"vector", 1}} {
		next := "done"
		if pass.vectors > 1 {
			next = "vector"
		}
		Label(pass.label)
		CMPQ(n, U32(pass.vectors*t.Lanes))
		JB(LabelRef(next))
		for j := 0; j < pass.vectors; j++ {
			v := t.Vec()
			VPMOVZXBD(Mem{Base: src}.Offset(j*t.Lanes), v)
			VCVTDQ2PS(v, v)
			VMULPS(scale, v, v)
			VMOVUPS(v, Mem{Base: dst}.Offset(j*t.Bytes))
		}
		ADDQ(U32(pass.vectors*t.Lanes), src)
		ADDQ(U32(pass.vectors*t.Bytes), dst)
		SUBQ(U32(pass.vectors*t.Lanes), n)
		JMP(LabelRef(pass.label))
	}
	Label("done")
	VZEROUPPER()
	RET()
}

// prefetchLines emits
//
//	func prefetchLinesAVX2(p *byte, n int)
//
// which asks for every 64-byte cache line of p[:n] (n >= 1) without waiting for any:
// PREFETCHT0 neither faults nor holds up the instructions after it. The gather calls it for
// a row a few rows ahead of the one it converts, so that the misses of random rows overlap
// the conversion. It needs no AVX; the AVX2 suffix places it with the tiers that call it.
func prefetchLines() {
	TEXT("prefetchLinesAVX2", NOSPLIT, "func(p *byte, n int)")
	Pragma("noescape")
	Doc("asks for the cache lines of p[:n], n >= 1, without waiting for them")
	p := simd.LoadGP(Param("p"))
	n := simd.LoadGP(Param("n"))
	Label("line")
	PREFETCHT0(Mem{Base: p})
	ADDQ(U8(64), p)
	SUBQ(U8(64), n)
	JG(LabelRef("line"))
	RET()
}
