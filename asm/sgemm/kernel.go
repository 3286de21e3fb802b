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

// shape is a micro-kernel's register block: MR rows of C by NV vectors of columns.
type shape struct {
	name string // sgemmKernel, or sgemmKernelShort for the block's last rows
	tier simd.Tier
	mr   int // rows of C held in registers
	nv   int // vectors of columns: NR = nv * tier.Lanes
}

// The register blocks, chosen so that accumulators + B vectors + one broadcast fill the
// register file without spilling, and so that the loads per FMA stay under the load ports:
//
//	AVX2:    6 x 16: 12 accumulators + 2 B + 1 broadcast = 15 of 16 ymm; 8 loads per 12 FMAs.
//	AVX-512: 12 x 32: 24 accumulators + 2 B + 1 broadcast = 27 of 32 zmm; 14 loads per 24 FMAs.
//
// Each tier also has a short kernel, two thirds as tall (4 x 16, 8 x 32), for the rows a
// block has left over: the MLP's batch of 32 rows is 6+6+6+6+4+4 with it, where 6-row tiles
// alone compute 36 rows, 4 of them padding. Its 8 (16) accumulators still cover the FMA
// latency of two pipes.
//
// kernels/sgemm_amd64.go mirrors these numbers; TestGemmTilesMatchGenerator checks them.
var shapes = []shape{
	{name: "sgemmKernel", tier: simd.AVX512, mr: 12, nv: 2},
	{name: "sgemmKernelShort", tier: simd.AVX512, mr: 8, nv: 2},
	{name: "sgemmKernel", tier: simd.AVX2, mr: 6, nv: 2},
	{name: "sgemmKernelShort", tier: simd.AVX2, mr: 4, nv: 2},
}

// kUnroll is how many k steps one pass of the main loop does; prefetchAhead how many steps
// ahead in A the loop asks for a cache line. A streams from L2 (a packed block) or further
// (a transposed A read in place), while the B sliver stays in L1 after the first tile.
const (
	kUnroll       = 4
	prefetchAhead = 8
)

// microKernel emits
//
//	func sgemmKernel<tier>(tiles, k int, a *float32, aNext, aStride int, b *float32,
//		c *float32, ldc int, alpha, beta float32, rows, cols int)
//
// which computes tiles register tiles down a column of C, all against one packed sliver of
// B: for t < tiles, r < rows and j < cols, with A_t = a + t*aNext and C_t = c + t*MR*ldc,
//
//	C_t[r*ldc+j] = alpha * sum over p < k of A_t[p*aStride+r] * b[p*NR+j] + beta * C_t[r*ldc+j]
//
// with strides in floats: b is a packed sliver, A_t a packed sliver (aStride = MR) or rows of
// a transposed A read in place. Each k step reads MR floats of A and NR floats of B, all of
// which must be readable (zero padding for edges is the packer's job); rows <= MR and
// cols <= NR limit only what is written back. beta == 0 writes C without reading it.
//
// One call sweeps many tiles because the MLP's products have short k (32 for a weight
// gradient at batch 32): there a tile is 32 steps, and a Go call, the argument loads and the
// write-back per tile cost about a third as much again; in one call, the out-of-order core
// overlaps one tile's write-back with the next tile's first steps.
//
// Registers: acc[r][v] holds C rows r, column vector v; bv[v] the current row of B; one
// register takes each broadcast element of A.
func microKernel(s shape) {
	t := s.tier
	TEXT(t.Name(s.name), NOSPLIT,
		"func(tiles, k int, a *float32, aNext, aStride int, b *float32, c *float32, ldc int, alpha, beta float32, rows, cols int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("tiles tiles of C[%d x %d] = alpha * A[%d x k] * B[k x %d] + beta * C, rows x cols of each written back.",
		s.mr, s.nv*t.Lanes, s.mr, s.nv*t.Lanes))

	tiles := simd.LoadGP(Param("tiles"))
	aTile := simd.LoadGP(Param("a"))
	cTile := simd.LoadGP(Param("c"))
	nrBytes := s.nv * t.Bytes

	Label("tile")
	k := simd.LoadGP(Param("k"))
	b := simd.LoadGP(Param("b"))
	aStride := simd.LoadGP(Param("aStride"))
	SHLQ(U8(2), aStride) // floats to bytes
	a := GP64()
	MOVQ(aTile, a)
	Comment("Ask for the tile of C now: it is read or written only after all k steps.")
	{
		c, ldc := GP64(), simd.LoadGP(Param("ldc"))
		MOVQ(cTile, c)
		SHLQ(U8(2), ldc)
		for r := 0; r < s.mr; r++ {
			for off := 0; off < nrBytes-4; off += 64 { // every line of the row, aligned or not
				PREFETCHT0(Mem{Base: c}.Offset(off))
			}
			PREFETCHT0(Mem{Base: c}.Offset(nrBytes - 4))
			ADDQ(ldc, c)
		}
	}
	acc := make([][]VecVirtual, s.mr)
	for r := range acc {
		acc[r] = t.Vecs(s.nv)
		for _, v := range acc[r] {
			VXORPS(v, v, v)
		}
	}
	bv := t.Vecs(s.nv)
	// step emits k step u of an unrolled group: B at a fixed offset from b, A at a.
	step := func(u int) {
		for v := range bv {
			VMOVUPS(Mem{Base: b}.Offset(u*nrBytes+v*t.Bytes), bv[v])
		}
		for r := 0; r < s.mr; r++ {
			ar := t.Vec()
			VBROADCASTSS(Mem{Base: a}.Offset(4*r), ar)
			for v := range bv {
				VFMADD231PS(bv[v], ar, acc[r][v])
			}
		}
		ADDQ(aStride, a)
	}

	Comment("Main loop: kUnroll steps of k at a time.")
	Label("unrolled")
	CMPQ(k, U8(kUnroll))
	JB(LabelRef("single"))
	PREFETCHT0(Mem{Base: a, Index: aStride, Scale: prefetchAhead})
	for u := 0; u < kUnroll; u++ {
		step(u)
	}
	ADDQ(U32(kUnroll*nrBytes), b)
	SUBQ(U8(kUnroll), k)
	JMP(LabelRef("unrolled"))
	Label("single")
	TESTQ(k, k)
	JZ(LabelRef("store"))
	step(0)
	ADDQ(U32(nrBytes), b)
	DECQ(k)
	JMP(LabelRef("single"))

	Label("store")
	c := GP64()
	MOVQ(cTile, c)
	storeTile(s, acc, c)

	Comment("Next tile: A and C move on, B starts over.")
	aNext := simd.LoadGP(Param("aNext"))
	SHLQ(U8(2), aNext)
	ADDQ(aNext, aTile)
	cNext := simd.LoadGP(Param("ldc"))
	IMUL3Q(U32(4*s.mr), cNext, cNext) // MR rows, in bytes
	ADDQ(cNext, cTile)
	DECQ(tiles)
	JNZ(LabelRef("tile"))
	VZEROUPPER()
	RET()
}

// storeTile writes alpha*acc + beta*C back to the tile at c (which it advances), all
// MR x NR of it when rows and cols are full, otherwise the first rows rows and, with masks,
// the first cols columns. alpha == 1, the usual case, skips the multiplies.
func storeTile(s shape, acc [][]VecVirtual, c GPVirtual) {
	t := s.tier
	ldc := simd.LoadGP(Param("ldc"))
	SHLQ(U8(2), ldc)
	rows := simd.LoadGP(Param("rows"))
	cols := simd.LoadGP(Param("cols"))
	beta := t.BroadcastParam("beta")
	betaZero := GP32()
	MOVL(simd.ParamAddr("beta"), betaZero) // the bits of beta, shifted out of the sign: zero for +0 and -0
	SHLL(U8(1), betaZero)

	CMPL(simd.ParamAddr("alpha"), U32(math.Float32bits(1)))
	JE(LabelRef("scaled"))
	alpha := t.BroadcastParam("alpha")
	for r := range acc {
		for _, v := range acc[r] {
			VMULPS(alpha, v, v)
		}
	}
	Label("scaled")

	// full reports a whole tile: rows == MR and cols == NR.
	CMPQ(rows, U32(s.mr))
	JNE(LabelRef("edge"))
	CMPQ(cols, U32(s.nv*t.Lanes))
	JNE(LabelRef("edge"))
	TESTL(betaZero, betaZero)
	JZ(LabelRef("fullBetaZero"))
	for r := range acc {
		for v := range acc[r] {
			VFMADD231PS(Mem{Base: c}.Offset(v*t.Bytes), beta, acc[r][v])
			VMOVUPS(acc[r][v], Mem{Base: c}.Offset(v*t.Bytes))
		}
		ADDQ(ldc, c)
	}
	JMP(LabelRef("done"))
	Label("fullBetaZero")
	for r := range acc {
		for v := range acc[r] {
			VMOVUPS(acc[r][v], Mem{Base: c}.Offset(v*t.Bytes))
		}
		ADDQ(ldc, c)
	}
	JMP(LabelRef("done"))

	// Edge tile: the first rows rows, and of each, cols = full*Lanes + tail columns: full
	// vectors stored whole, then one masked vector when tail > 0 (AVX2's masked store is
	// microcoded on AMD, so it is kept to the one vector that needs it). One copy of the
	// write-back per value of full.
	Label("edge")
	full, tail := GP64(), GP64()
	MOVQ(cols, full)
	SHRQ(U8(uint8(bits.TrailingZeros(uint(t.Lanes)))), full)
	MOVQ(cols, tail)
	ANDQ(U8(t.Lanes-1), tail)
	mask := t.TailMask(tail)
	for f := 0; f <= s.nv; f++ {
		CMPQ(full, U8(f))
		JE(LabelRef(fmt.Sprintf("edgeFull%d", f)))
	}
	for f := 0; f <= s.nv; f++ {
		Label(fmt.Sprintf("edgeFull%d", f))
		for r := range acc {
			CMPQ(rows, U32(r+1))
			JB(LabelRef("done"))
			for v := 0; v < f; v++ {
				TESTL(betaZero, betaZero)
				JZ(LabelRef(fmt.Sprintf("edgePlain%d_%d_%d", f, r, v)))
				VFMADD231PS(Mem{Base: c}.Offset(v*t.Bytes), beta, acc[r][v])
				Label(fmt.Sprintf("edgePlain%d_%d_%d", f, r, v))
				VMOVUPS(acc[r][v], Mem{Base: c}.Offset(v*t.Bytes))
			}
			if f < s.nv {
				next := fmt.Sprintf("edgeRow%d_%d", f, r)
				TESTQ(tail, tail)
				JZ(LabelRef(next))
				TESTL(betaZero, betaZero)
				JZ(LabelRef(next + "Store"))
				old := t.Vec()
				mask.LoadMasked(Mem{Base: c}.Offset(f*t.Bytes), old)
				VFMADD231PS(old, beta, acc[r][f])
				Label(next + "Store")
				mask.StoreMasked(acc[r][f], Mem{Base: c}.Offset(f*t.Bytes))
				Label(next)
			}
			ADDQ(ldc, c)
		}
		JMP(LabelRef("done"))
	}
	Label("done")
}
