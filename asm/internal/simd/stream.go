package simd

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Step is one pass of a Stream loop's body: Vectors consecutive vectors from each pointer,
// or, when Mask is set, one partial vector whose unselected lanes must not be touched.
type Step struct {
	Tier    Tier
	Vectors int
	Mask    *Mask
}

// Tail reports whether this is the masked, partial step.
func (s Step) Tail() bool { return s.Mask != nil }

// At is the memory operand of vector j of this step from pointer p.
func (s Step) At(p Register, j int) Mem { return Mem{Base: p}.Offset(j * s.Tier.Bytes) }

// Load loads vector j from p into dst (masked on the tail step).
func (s Step) Load(p Register, j int, dst VecVirtual) {
	if s.Tail() {
		s.Mask.LoadMasked(s.At(p, j), dst)
		return
	}
	VMOVUPS(s.At(p, j), dst)
}

// LoadFill loads vector j from p into dst; on the tail step the lanes past the end take
// the value fill instead.
func (s Step) LoadFill(p Register, j int, fill float32, dst VecVirtual) {
	if s.Tail() {
		s.Mask.LoadMaskedFill(s.At(p, j), s.Tier.Const(fill), dst)
		return
	}
	VMOVUPS(s.At(p, j), dst)
}

// ZeroTail clears, on the tail step, the lanes of v past the end.
func (s Step) ZeroTail(v VecVirtual) {
	if s.Tail() {
		s.Mask.Zero(v)
	}
}

// Operand is vector j from p as an instruction's source: the memory operand itself on full
// steps (so it folds into the instruction), a masked load into a new register on the tail.
func (s Step) Operand(p Register, j int) Op {
	if !s.Tail() {
		return s.At(p, j)
	}
	v := s.Tier.Vec()
	s.Mask.LoadMasked(s.At(p, j), v)
	return v
}

// Store stores src as vector j at p (masked on the tail step).
func (s Step) Store(src VecVirtual, p Register, j int) {
	if s.Tail() {
		s.Mask.StoreMasked(src, s.At(p, j))
		return
	}
	VMOVUPS(src, s.At(p, j))
}

// Stream emits a loop over n float32 elements read or written through ptrs, all advancing
// together: blocks of unroll vectors, then single vectors, then one masked partial vector.
// body emits the work of one step; Stream advances the pointers and counts n down to zero.
// label prefixes the loop's labels, so a function can hold several loops.
func (t Tier) Stream(label string, n GPVirtual, ptrs []GPVirtual, unroll int, body func(Step)) {
	block, single, tail, done := label+"Block", label+"Vector", label+"Tail", label+"Done"
	steps := []struct {
		label, next string
		vectors     int
	}{{block, single, unroll}, {single, tail, 1}}
	for _, st := range steps {
		Label(st.label)
		CMPQ(n, U32(st.vectors*t.Lanes))
		JB(LabelRef(st.next))
		body(Step{Tier: t, Vectors: st.vectors})
		for _, p := range ptrs {
			ADDQ(U32(st.vectors*t.Bytes), p)
		}
		SUBQ(U32(st.vectors*t.Lanes), n)
		JMP(LabelRef(st.label))
	}
	Label(tail)
	TESTQ(n, n)
	JZ(LabelRef(done))
	m := t.TailMask(n)
	body(Step{Tier: t, Vectors: 1, Mask: &m})
	Label(done)
}
