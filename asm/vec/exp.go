package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// Constants of exp, after Cephes' expf: x = n*ln2 + r with |r| <= ln2/2, ln2 split in a part
// with few significant bits (n*ln2Hi is exact) and the rest, and
// exp(r) = 1 + r + r^2 * P(r) with P of degree 5.
const (
	expLo    = -110 // exp(-110) rounds to 0; clamping here also maps -Inf to 0
	expHi    = 89   // exp(89) overflows; clamping here also maps +Inf to +Inf
	ln2Hi    = 0.693359375
	ln2Lo    = -2.12194440e-4
	expP0    = 1.9875691500e-4
	expP1    = 1.3981999507e-3
	expP2    = 8.3334519073e-3
	expP3    = 4.1665795894e-2
	expP4    = 1.6666665459e-1
	expP5    = 5.0000001201e-1
	geluC1   = 1.5957691216057308 // 2*sqrt(2/pi): GELU(x) = x * sigmoid(x*(geluC1 + geluC2*x^2))
	geluC2   = 0.044715 * geluC1
	geluClip = 30 // beyond +-30, GELU(x) is x or 0 and its slope 1 or 0, in float32
)

// emitExp returns a new register holding exp(x), lane by lane; x is left unchanged.
// NaN stays NaN (the clamps keep a NaN operand), +Inf gives +Inf, -Inf gives 0, and results
// below the normal range come out denormal or zero.
//
// 2^n is applied as two factors 2^(n/2) * 2^(n - n/2), each a normal float built from its
// exponent bits, so no intermediate overflows early or flushes to zero.
func emitExp(t simd.Tier, x VecVirtual) VecVirtual {
	xc := t.Vec()
	VMAXPS(x, t.Const(expLo), xc) // max(lo, x): the second operand, x, is kept if NaN
	VMINPS(xc, t.Const(expHi), xc)
	n := t.Vec()
	VMULPS(t.Const(math.Log2E), xc, n)
	VCVTPS2DQ(n, n) // round to nearest: n as int32
	nf := t.Vec()
	VCVTDQ2PS(n, nf)
	r := t.Vec()
	VMOVAPS(xc, r)
	VFNMADD231PS(t.Const(ln2Hi), nf, r) // r = x - n*ln2Hi
	VFNMADD231PS(t.Const(ln2Lo), nf, r) // r -= n*ln2Lo
	p := t.Const(expP0)
	for _, c := range []float32{expP1, expP2, expP3, expP4, expP5} {
		VFMADD213PS(t.Const(c), r, p) // p = p*r + c
	}
	r2 := t.Vec()
	VMULPS(r, r, r2)
	VFMADD213PS(r, r2, p) // p = p*r^2 + r
	VADDPS(t.Const(1), p, p)
	// Scale by 2^n: half = n>>1 and n-half, each biased by 127 and shifted into the exponent.
	half := t.Vec()
	VPSRAD(U8(1), n, half)
	VPSUBD(half, n, n)
	bias := t.Vec()
	VPBROADCASTD(constInt(127), bias)
	for _, e := range []VecVirtual{half, n} {
		VPADDD(bias, e, e)
		VPSLLD(U8(23), e, e)
		VMULPS(e, p, p)
	}
	return p
}

// intConsts holds the read-only int32 constants emitted so far.
var intConsts = map[int32]Mem{}

func constInt(v int32) Mem {
	m, ok := intConsts[v]
	if !ok {
		m = ConstData("i32_"+itoa(v), U32(uint32(v)))
		intConsts[v] = m
	}
	return m
}

func itoa(v int32) string {
	if v < 0 {
		return "m" + itoa(-v)
	}
	s := ""
	for {
		s = string(rune('0'+v%10)) + s
		v /= 10
		if v == 0 {
			return s
		}
	}
}

// emitSigmoid returns 1 / (1 + exp(-x)).
func emitSigmoid(t simd.Tier, x VecVirtual) VecVirtual {
	neg := t.Vec()
	VXORPS(t.Const(float32(math.Copysign(0, -1))), x, neg) // flip the sign bit
	e := emitExp(t, neg)
	VADDPS(t.Const(1), e, e)
	one := t.Const(1)
	VDIVPS(e, one, one)
	return one
}

// emitTanh returns sign(x) * (1 - e) / (1 + e) with e = exp(-2|x|), which keeps its
// relative accuracy for large |x| and its absolute accuracy near 0.
func emitTanh(t simd.Tier, x VecVirtual) VecVirtual {
	signBit := t.Const(float32(math.Copysign(0, -1)))
	sign := t.Vec()
	VANDPS(signBit, x, sign)
	negAbs := t.Vec()
	VORPS(signBit, x, negAbs) // -|x|
	VADDPS(negAbs, negAbs, negAbs)
	e := emitExp(t, negAbs)
	num, den := t.Const(1), t.Const(1)
	VSUBPS(e, num, num) // 1 - e
	VADDPS(e, den, den) // 1 + e
	VDIVPS(den, num, num)
	VXORPS(sign, num, num)
	return num
}

// emitGELUParts returns the clamped input xc and s = sigmoid(xc*(c1 + c2*xc^2)), the pieces
// of GELU and of its slope.
func emitGELUParts(t simd.Tier, x VecVirtual) (xc, s VecVirtual) {
	xc = t.Vec()
	VMAXPS(x, t.Const(-geluClip), xc) // NaN kept, as in emitExp
	VMINPS(xc, t.Const(geluClip), xc)
	z := t.Vec()
	VMULPS(xc, xc, z)
	c1 := t.Const(geluC1)
	VFMADD132PS(t.Const(geluC2), c1, z) // z = x^2*c2 + c1
	VMULPS(xc, z, z)
	return xc, emitSigmoid(t, z)
}

func blas1AndActivations(t simd.Tier) {
	t.Map("exp", []string{"src"}, "for i, x := range src { dst[i] = exp(x) }",
		func(in []VecVirtual) VecVirtual { return emitExp(t, in[0]) })
	t.Map("sigmoid", []string{"src"}, "for i, x := range src { dst[i] = 1 / (1 + exp(-x)) }",
		func(in []VecVirtual) VecVirtual { return emitSigmoid(t, in[0]) })
	t.Map("tanh", []string{"src"}, "for i, x := range src { dst[i] = tanh(x) }",
		func(in []VecVirtual) VecVirtual { return emitTanh(t, in[0]) })
	t.Map("gelu", []string{"src"}, "for i, x := range src { dst[i] = x * sigmoid(2*sqrt(2/pi)*(x + 0.044715*x^3)) }",
		func(in []VecVirtual) VecVirtual {
			x := in[0]
			xc, s := emitGELUParts(t, x)
			VMULPS(xc, s, s)
			// Beyond the clamp GELU(x) = x: add back what the clamp took off the top.
			over := t.Vec()
			VSUBPS(t.Const(geluClip), x, over)
			VMAXPS(over, t.Const(0), over) // max(0, x-clip); NaN x is already NaN in s
			VADDPS(over, s, s)
			return s
		})
	t.Map("geluBackward", []string{"grad", "x"},
		"for i := range dst { dst[i] = grad[i] * (s + x*s*(1-s)*(c1 + 3*c2*x^2)) }, s the sigmoid of GELU",
		func(in []VecVirtual) VecVirtual {
			grad, x := in[0], in[1]
			xc, s := emitGELUParts(t, x)
			dz := t.Vec()
			VMULPS(xc, xc, dz)
			c1 := t.Const(geluC1)
			VFMADD132PS(t.Const(3*geluC2), c1, dz) // dz = 3*c2*x^2 + c1
			oneMinus := t.Const(1)
			VSUBPS(s, oneMinus, oneMinus) // 1 - s
			VMULPS(s, oneMinus, oneMinus) // s(1-s)
			VMULPS(xc, oneMinus, oneMinus)
			VFMADD213PS(s, dz, oneMinus) // x*s*(1-s)*dz + s
			VMULPS(grad, oneMinus, oneMinus)
			return oneMinus
		})
	t.Map("relu", []string{"src"}, "for i, x := range src { dst[i] = max(x, 0) }, NaN kept",
		func(in []VecVirtual) VecVirtual {
			VMAXPS(in[0], t.Const(0), in[0]) // max(0, x): x, the second operand, is kept if NaN
			return in[0]
		})
	t.Map("reluBackward", []string{"grad", "x"}, "for i := range dst { dst[i] = grad[i] if x[i] > 0 else 0 }",
		func(in []VecVirtual) VecVirtual {
			t.KeepWhere(simd.GreaterThan, in[1], t.Const(0), in[0])
			return in[0]
		})
	t.Map("sigmoidBackward", []string{"grad", "y"}, "for i := range dst { dst[i] = grad[i] * y[i] * (1 - y[i]) }",
		func(in []VecVirtual) VecVirtual {
			grad, y := in[0], in[1]
			oneMinus := t.Const(1)
			VSUBPS(y, oneMinus, oneMinus)
			VMULPS(y, oneMinus, oneMinus)
			VMULPS(grad, oneMinus, oneMinus)
			return oneMinus
		})
	t.Map("tanhBackward", []string{"grad", "y"}, "for i := range dst { dst[i] = grad[i] * (1 - y[i]*y[i]) }",
		func(in []VecVirtual) VecVirtual {
			grad, y := in[0], in[1]
			d := t.Const(1)
			VFNMADD231PS(y, y, d) // 1 - y*y
			VMULPS(grad, d, d)
			return d
		})
}
