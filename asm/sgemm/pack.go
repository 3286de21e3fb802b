package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// The packers lay panels out for the micro-kernels. They use 256-bit AVX only, so both
// tiers call the same code (the AVX-512 tier's guard includes AVX2's).

// packCopy emits packCopy<w>AVX2: a sliver whose steps are already contiguous rows of the
// matrix (B as stored), copied w floats a step:
//
//	for q := 0; q < kc; q++ { copy(dst[q*w:q*w+w], src[q*ld:q*ld+w]) }
func packCopy(w int) {
	name := fmt.Sprintf("packCopy%dAVX2", w)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, kc int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("for q := 0; q < kc; q++ { copy(dst[q*%d:q*%d+%d], src[q*ld:q*ld+%d]) }", w, w, w, w))
	dst := simd.LoadGP(Param("dst"))
	src := simd.LoadGP(Param("src"))
	ld := simd.LoadGP(Param("ld"))
	kc := simd.LoadGP(Param("kc"))
	SHLQ(U8(2), ld)
	v := simd.AVX2.Vecs(w / 8)
	Label("loop")
	TESTQ(kc, kc)
	JZ(LabelRef("done"))
	copyStep(Mem{Base: dst}, Mem{Base: src}, v)
	ADDQ(ld, src)
	ADDQ(U32(4*w), dst)
	DECQ(kc)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// copyStep copies one step of a sliver, len(v) vectors of floats, from src to dst through
// the registers v.
func copyStep(dst, src Mem, v []VecVirtual) {
	for i := range v {
		VMOVUPS(src.Offset(32*i), v[i])
	}
	for i := range v {
		VMOVUPS(v[i], dst.Offset(32*i))
	}
}

// packRows emits packRows<w>AVX2: whole slivers of a panel whose steps are contiguous
// rows of the matrix (B as stored), eight rows of the panel at a time across all its
// slivers:
//
//	for q := 0; q < 8*blocks; q++ { for s := 0; s < slivers; s++ {
//		copy(dst[s*kc*w+q*w:][:w], src[q*ld+s*w:][:w]) } }
//
// packCopy walks one sliver down all kc rows, each row a new cache line ld floats away and
// usually a new page, which the hardware prefetchers do not follow: from memory it packed
// 2.3-2.7 GB/s on the development machine. Eight rows across the panel read eight runs
// along the rows, which they do follow (5-6 GB/s). The last kc%8 rows are packCopy's.
func packRows(w int) {
	name := fmt.Sprintf("packRows%dAVX2", w)
	TEXT(name, NOSPLIT, "func(dst, src *float32, ld, blocks, slivers, kc int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("for q := 0; q < 8*blocks; q++ { for s := 0; s < slivers; s++ { copy(dst[s*kc*%d+q*%d:][:%d], src[q*ld+s*%d:][:%d]) } }", w, w, w, w, w))
	dstBlock := simd.LoadGP(Param("dst"))
	srcBlock := simd.LoadGP(Param("src"))
	ld := simd.LoadGP(Param("ld"))
	blocks := simd.LoadGP(Param("blocks"))
	sliverBytes := simd.LoadGP(Param("kc"))
	SHLQ(U8(2), ld)
	IMUL3Q(U32(4*w), sliverBytes, sliverBytes) // one sliver of dst: kc steps of w floats
	ld3 := GP64()
	LEAQ(Mem{Base: ld, Index: ld, Scale: 2}, ld3)
	v := simd.AVX2.Vecs(w / 8)

	Label("block")
	TESTQ(blocks, blocks)
	JZ(LabelRef("done"))
	slivers := simd.LoadGP(Param("slivers"))
	// Rows 0-3 of the block are at src0 + {0, 1, 2, 3}*ld, rows 4-7 at src4 + the same.
	src0, src4, dst := GP64(), GP64(), GP64()
	MOVQ(srcBlock, src0)
	LEAQ(Mem{Base: srcBlock, Index: ld, Scale: 4}, src4)
	MOVQ(dstBlock, dst)
	Label("sliver")
	for r := 0; r < 8; r++ {
		base := src0
		if r >= 4 {
			base = src4
		}
		row := Mem{Base: base}
		switch r % 4 {
		case 1:
			row = Mem{Base: base, Index: ld, Scale: 1}
		case 2:
			row = Mem{Base: base, Index: ld, Scale: 2}
		case 3:
			row = Mem{Base: base, Index: ld3, Scale: 1}
		}
		copyStep(Mem{Base: dst}.Offset(4*w*r), row, v)
	}
	ADDQ(U32(4*w), src0)
	ADDQ(U32(4*w), src4)
	ADDQ(sliverBytes, dst)
	DECQ(slivers)
	JNZ(LabelRef("sliver"))
	LEAQ(Mem{Base: srcBlock, Index: ld, Scale: 8}, srcBlock)
	ADDQ(U32(8*4*w), dstBlock)
	DECQ(blocks)
	JMP(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}

// packTranspose emits packTranspose<rows>AVX2: rows (4, 6 or 8) rows of the matrix, each
// running along k, transposed into steps of a sliver of width w (rows of the sliver beyond
// these are another call's):
//
//	for q := 0; q < kc; q++ { for r := 0; r < rows; r++ { dst[q*w+r] = src[r*ld+q] } }
//
// kc must be a multiple of 8: eight steps at a time go through an 8 x 8 transpose in
// registers (missing rows read as zero and are not stored).
//
// Registers: row[0..7] the loaded rows, then unpacked pairs, then 4-wide groups, then the
// eight output steps.
func packTranspose(rows int) {
	name := fmt.Sprintf("packTranspose%dAVX2", rows)
	TEXT(name, NOSPLIT, "func(dst *float32, w int, src *float32, ld, kc int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("for q := 0; q < kc; q++ { for r := 0; r < %d; r++ { dst[q*w+r] = src[r*ld+q] } }, kc%%8 == 0", rows))
	dst := simd.LoadGP(Param("dst"))
	w := simd.LoadGP(Param("w"))
	src := simd.LoadGP(Param("src"))
	ld := simd.LoadGP(Param("ld"))
	kc := simd.LoadGP(Param("kc"))
	SHLQ(U8(2), ld)
	SHLQ(U8(2), w)
	// Row r of the block is at base[r/3] + (r%3)*ld: three bases cover eight rows.
	bases := []GPVirtual{src, GP64(), GP64()}
	for i := 1; i < len(bases); i++ {
		LEAQ(Mem{Base: bases[i-1], Index: ld, Scale: 2}, bases[i])
		ADDQ(ld, bases[i])
	}
	rowAt := func(r int) Mem {
		m := Mem{Base: bases[r/3]}
		if r%3 > 0 {
			m.Index, m.Scale = ld, uint8(r%3)
		}
		return m
	}

	Label("loop")
	TESTQ(kc, kc)
	JZ(LabelRef("done"))
	row := make([]VecVirtual, 8)
	for r := range row {
		row[r] = YMM()
		if r < rows {
			VMOVUPS(rowAt(r), row[r])
		} else {
			VXORPS(row[r], row[r], row[r])
		}
	}
	// Pairs: lo[i] = r2i q0 r2i+1 q0 r2i q1 r2i+1 q1 | same for q4, q5; hi[i] the same for q2,3 / q6,7.
	lo, hi := make([]VecVirtual, 4), make([]VecVirtual, 4)
	for i := range lo {
		lo[i], hi[i] = YMM(), YMM()
		VUNPCKLPS(row[2*i+1], row[2*i], lo[i])
		VUNPCKHPS(row[2*i+1], row[2*i], hi[i])
	}
	// Quads: quad[h][s] holds rows 4h..4h+3 at step s (low lane) and s+4 (high lane).
	quad := [2][4]VecVirtual{}
	for h := 0; h < 2; h++ {
		for s := 0; s < 4; s++ {
			quad[h][s] = YMM()
			pair := lo
			if s >= 2 {
				pair = hi
			}
			sel := U8(0x44) // elements 0,1 of each source
			if s%2 == 1 {
				sel = U8(0xee) // elements 2,3
			}
			VSHUFPS(sel, pair[2*h+1], pair[2*h], quad[h][s])
		}
	}
	// Steps: out[s] = rows 0-7 at step s; store the first rows floats of each.
	for s := 0; s < 8; s++ {
		out := YMM()
		sel := U8(0x20) // low lanes of both
		if s >= 4 {
			sel = U8(0x31) // high lanes
		}
		VPERM2F128(sel, quad[1][s%4], quad[0][s%4], out)
		at := Mem{Base: dst}
		switch rows {
		case 8:
			VMOVUPS(out, at)
		case 6:
			VMOVUPS(out.AsX(), at)
			VEXTRACTF128(U8(1), out, out.AsX())
			VMOVQ(out.AsX(), at.Offset(16))
		case 4:
			VMOVUPS(out.AsX(), at)
		}
		ADDQ(w, dst)
	}
	for _, b := range bases {
		ADDQ(U8(32), b)
	}
	SUBQ(U8(8), kc)
	JMP(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
