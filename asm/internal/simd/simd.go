// Package simd describes the two vector tiers lanes generates code for, so that one generator
// function can emit a kernel for both: the AVX2 tier works on 8-lane ymm registers and does
// partial vectors with VMASKMOVPS and a mask read from a table; the AVX-512 tier works on
// 16-lane zmm registers and does partial vectors with an opmask register built by BZHI.
//
// A kernel written against Tier differs between the tiers only in register width and in how
// its tail is masked, so the AVX2 build, which runs on every development machine, exercises
// the same instruction sequence that the AVX-512 build emits.
package simd

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Tier is one instruction-set level of generated code.
type Tier struct {
	Suffix string // appended to every function name: "AVX2" or "AVX512"
	Lanes  int    // float32 lanes in one vector register
	Bytes  int    // bytes in one vector register
	// Registers is how many vector registers the tier's code may use: 16 for VEX-encoded
	// AVX2 (ymm0-15), 32 for EVEX-encoded AVX-512 (zmm0-31).
	Registers int
}

// AVX2 is the 8-lane tier: AVX, AVX2 and FMA3.
var AVX2 = Tier{Suffix: "AVX2", Lanes: 8, Bytes: 32, Registers: 16}

// AVX512 is the 16-lane tier: AVX-512 F, plus BMI2 for building tail masks.
var AVX512 = Tier{Suffix: "AVX512", Lanes: 16, Bytes: 64, Registers: 32}

// Tiers lists the tiers every kernel family is generated for, widest first.
var Tiers = []Tier{AVX512, AVX2}

// Name returns the assembly function name of kernel base on this tier: "dot" -> "dotAVX2".
func (t Tier) Name(base string) string { return base + t.Suffix }

// Vec allocates a virtual vector register of the tier's width.
func (t Tier) Vec() VecVirtual {
	if t.Lanes == 16 {
		return ZMM()
	}
	return YMM()
}

// Vecs allocates n vector registers.
func (t Tier) Vecs(n int) []VecVirtual {
	v := make([]VecVirtual, n)
	for i := range v {
		v[i] = t.Vec()
	}
	return v
}

// Mask selects the first r lanes of a vector, 0 <= r <= Lanes. On AVX2 it is a vector whose
// selected lanes have their sign bit set; on AVX-512 it is an opmask register.
type Mask struct {
	tier Tier
	vec  VecVirtual    // AVX2
	k    OpmaskVirtual // AVX-512
}

// tailMask holds 8 all-ones words followed by 8 zero words; a vector loaded at word offset
// 8-r is the AVX2 mask of the first r lanes. DeclareTables emits it.
var tailMask Mem

// DeclareTables emits the read-only data the tiers' helpers use. Call it once per generated
// file, before any TEXT.
func DeclareTables() {
	tailMask = GLOBL("tailMask", RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		var w uint32
		if i < 8 {
			w = 0xffffffff
		}
		DATA(4*i, U32(w))
	}
}

// TailMask builds the mask of the first r lanes, where 0 <= r <= Lanes is held in a
// register (which is left unchanged).
func (t Tier) TailMask(r GPVirtual) Mask {
	m := Mask{tier: t}
	if t.Lanes == 16 {
		ones := GP32()
		MOVL(U32(0xffffffff), ones)
		BZHIL(r.As32(), ones, ones) // ones = (1<<r) - 1
		m.k = K()
		KMOVW(ones, m.k)
		return m
	}
	// Load 8 words starting r words before the table's zero half.
	if tailMask.Symbol.Name == "" {
		panic("simd: TailMask before DeclareTables")
	}
	// An SB-relative address takes no index register, so form the address first.
	end := GP64()
	LEAQ(tailMask.Offset(32), end)
	neg := GP64()
	MOVQ(r, neg)
	NEGQ(neg)
	m.vec = YMM()
	VMOVDQU(Mem{Base: end, Index: neg, Scale: 4}, m.vec)
	return m
}

// LoadMasked loads the selected lanes of mem into dst and zeroes the others. Lanes that are
// not selected are not read, so a tail load never touches memory past a slice's end.
func (m Mask) LoadMasked(mem Mem, dst VecVirtual) {
	if m.tier.Lanes == 16 {
		VMOVUPS_Z(mem, m.k, dst)
		return
	}
	VMASKMOVPS(mem, m.vec, dst)
}

// LoadMaskedFill loads the selected lanes of mem into dst and sets the others to the lanes
// of fill.
func (m Mask) LoadMaskedFill(mem Mem, fill, dst VecVirtual) {
	if m.tier.Lanes == 16 {
		VMOVAPS(fill, dst)
		VMOVUPS(mem, m.k, dst) // merge-masking keeps fill in the unselected lanes
		return
	}
	VMASKMOVPS(mem, m.vec, dst)
	VBLENDVPS(m.vec, dst, fill, dst) // selected lanes from the load, the rest from fill
}

// Zero clears the lanes of v that the mask does not select.
func (m Mask) Zero(v VecVirtual) {
	if m.tier.Lanes == 16 {
		VMOVAPS_Z(v, m.k, v)
		return
	}
	VANDPS(m.vec, v, v)
}

// StoreMasked stores the selected lanes of src to mem and leaves the rest of mem untouched.
func (m Mask) StoreMasked(src VecVirtual, mem Mem) {
	if m.tier.Lanes == 16 {
		VMOVUPS(src, m.k, mem)
		return
	}
	VMASKMOVPS(src, m.vec, mem)
}

// BroadcastParam loads the float32 argument name into every lane of a new register.
// The broadcast reads the argument's memory directly: an SSE load could not reach the
// AVX-512 registers 16-31 that the allocator may pick.
func (t Tier) BroadcastParam(name string) VecVirtual {
	v := t.Vec()
	VBROADCASTSS(ParamAddr(name), v)
	return v
}

// ParamAddr is the memory operand of a scalar argument.
func ParamAddr(name string) Mem {
	arg, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return arg.Addr
}

// extractHigh128 copies the upper 128 bits of a ymm register. AVX-512 code uses the EVEX
// form, which also reaches registers 16-31.
func (t Tier) extractHigh128(y, dst Register) {
	if t.Lanes == 16 {
		VEXTRACTF32X4(U8(1), y, dst)
		return
	}
	VEXTRACTF128(U8(1), y, dst)
}

// ReduceAdd adds the lanes of v and leaves the sum in the low lane of the returned xmm
// register. v is clobbered.
func (t Tier) ReduceAdd(v VecVirtual) VecVirtual { return t.reduce(v, VADDPS, VADDSS) }

// ReduceMax leaves the largest lane of v in the low lane of the returned xmm register
// (a NaN lane may or may not win). v is clobbered.
func (t Tier) ReduceMax(v VecVirtual) VecVirtual { return t.reduce(v, VMAXPS, VMAXSS) }

// reduce folds the lanes of v with a packed operation, halving the width each time, and
// the scalar form for the last pair.
func (t Tier) reduce(v VecVirtual, packed func(...Op), scalar func(...Op)) VecVirtual {
	y := v.AsY()
	if t.Lanes == 16 {
		hi := YMM()
		VEXTRACTF64X4(U8(1), v, hi)
		packed(hi, y, y)
	}
	x := v.AsX()
	hi := XMM()
	t.extractHigh128(y, hi)
	packed(hi, x, x)
	VPERMILPS(U8(0b_00_00_11_10), x, hi) // lanes 2,3 down
	packed(hi, x, x)
	VPERMILPS(U8(0b_00_00_00_01), x, hi) // lane 1 down
	scalar(hi, x, x)
	return x.(VecVirtual)
}

// LoadGP loads an integer or pointer argument (a slice's base or length) into a new
// general-purpose register.
func LoadGP(c gotypes.Component) GPVirtual {
	r := GP64()
	Load(c, r)
	return r
}

// constants holds the read-only float32 constants emitted so far, by bit pattern.
var constants = map[uint32]Mem{}

// Const broadcasts the float32 constant f into a new register, from a read-only word
// emitted once per file.
func (t Tier) Const(f float32) VecVirtual {
	bits := math.Float32bits(f)
	m, ok := constants[bits]
	if !ok {
		m = ConstData(fmt.Sprintf("f32_%08x", bits), U32(bits))
		constants[bits] = m
	}
	v := t.Vec()
	VBROADCASTSS(m, v)
	return v
}

// Map emits an element-wise function over float32 slices:
//
//	func name(dst, in1, ..., inK []float32)
//
// computing dst[i] = f(in1[i], ..., inK[i]) for i < len(dst); the caller makes every input
// at least that long. body gets, for each input, the registers of unroll consecutive vectors
// (one on the tail step), which it may clobber, and returns the result registers. Working
// on several vectors at once lets a body interleave independent dependency chains, which
// long ones like exp's need to keep the pipes busy. dst may be any of the inputs.
func (t Tier) Map(name string, inputs []string, doc string, unroll int, body func(in [][]VecVirtual) []VecVirtual) {
	params := "dst"
	for _, in := range inputs {
		params += ", " + in
	}
	TEXT(t.Name(name), NOSPLIT, "func("+params+" []float32)")
	Pragma("noescape")
	Doc(doc)
	dst := LoadGP(Param("dst").Base())
	n := LoadGP(Param("dst").Len())
	ptrs := []GPVirtual{dst}
	for _, in := range inputs {
		ptrs = append(ptrs, LoadGP(Param(in).Base()))
	}
	t.Stream(name, n, ptrs, unroll, func(s Step) {
		in := make([][]VecVirtual, len(inputs))
		for i := range in {
			in[i] = t.Vecs(s.Vectors)
			for j, v := range in[i] {
				s.Load(ptrs[i+1], j, v)
			}
		}
		for j, v := range body(in) {
			s.Store(v, dst, j)
		}
	})
	VZEROUPPER()
	RET()
}

// vectorConsts holds the replicated constants emitted so far, by bit pattern.
var vectorConsts = map[uint32]Mem{}

// ConstVec is a full vector of the constant f in read-only memory, for use as an
// instruction's memory operand (which costs no register and no separate load).
func (t Tier) ConstVec(f float32) Mem {
	return t.constVec(math.Float32bits(f))
}

// ConstVecInt is ConstVec for an int32 lane value.
func (t Tier) ConstVecInt(v int32) Mem { return t.constVec(uint32(v)) }

func (t Tier) constVec(bits uint32) Mem {
	m, ok := vectorConsts[bits]
	if !ok {
		m = GLOBL(fmt.Sprintf("vec_%08x", bits), RODATA|NOPTR)
		for i := 0; i < 16; i++ { // enough for a zmm; ymm code reads the first 32 bytes
			DATA(4*i, U32(bits))
		}
		vectorConsts[bits] = m
	}
	return m
}

// Predicate is a VCMPPS comparison.
type Predicate uint8

// GreaterThan is "a > b", false when either is NaN (_CMP_GT_OQ).
const GreaterThan Predicate = 0x1e

// KeepWhere zeroes the lanes of v where "a pred b" does not hold.
func (t Tier) KeepWhere(pred Predicate, a, b, v VecVirtual) {
	if t.Lanes == 16 {
		k := K()
		VCMPPS(U8(uint8(pred)), b, a, k)
		VMOVAPS_Z(v, k, v)
		return
	}
	m := t.Vec()
	VCMPPS(U8(uint8(pred)), b, a, m)
	VANDPS(m, v, v)
}

// The VCMPPS predicates that LaneBits takes.
const (
	EqualTo   Predicate = 0x00 // a == b, false when either is NaN (_CMP_EQ_OQ)
	Unordered Predicate = 0x03 // a or b is NaN (_CMP_UNORD_Q)
)

// LaneBits compares v and b (a register or memory) lane by lane and returns a new register
// whose bit i is set when "v pred b" holds in lane i, the other bits clear.
func (t Tier) LaneBits(pred Predicate, v VecVirtual, b Op) GPVirtual {
	bits := GP32()
	if t.Lanes == 16 {
		k := K()
		VCMPPS(U8(uint8(pred)), b, v, k)
		KMOVW(k, bits)
		return bits
	}
	m := t.Vec()
	VCMPPS(U8(uint8(pred)), b, v, m)
	VMOVMSKPS(m, bits)
	return bits
}
