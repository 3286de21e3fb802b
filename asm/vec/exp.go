package main

import (
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/lanesml/lanes/asm/internal/simd"
)

// Constants of exp: x = n*ln2 + r with |r| <= ln2/2, ln2 split in a part with few
// significant bits (n*ln2Hi is exact) and the rest, as in Cephes' expf, and
// exp(r) = 1 + r + r^2 * P(r) with P of degree 4, fitted by weighted least squares on
// [-ln2/2, ln2/2]: 3.6e-9 relative, far under float32's own rounding.
const (
	expLo    = -110 // exp(-110) rounds to 0; clamping here also maps -Inf to 0
	expHi    = 89   // exp(89) overflows; clamping here also maps +Inf to +Inf
	ln2Hi    = 0.693359375
	ln2Lo    = -2.12194440e-4
	expP0    = 0.00137514085508883
	expP1    = 0.008368918672204018
	expP2    = 0.04166953265666962
	expP3    = 0.166665181517601
	expP4    = 0.49999988079071045
	geluC1   = 1.5957691216057308 // 2*sqrt(2/pi): GELU(x) = x * sigmoid(x*(geluC1 + geluC2*x^2))
	geluC2   = 0.044715 * geluC1
	geluClip = 30 // beyond +-30, GELU(x) is x or 0 and its slope 1 or 0, in float32
)

// vecs is a group of independent vectors that an emitter works on step by step, so that
// their dependency chains interleave.
type vecs = []VecVirtual

// each runs f for every index of a group.
func each(n int, f func(j int)) {
	for j := 0; j < n; j++ {
		f(j)
	}
}

// expRecipe is one way of computing exp: the clamp bounds of its input, P's coefficients
// (highest degree first), and whether 2^n is applied as two factors. With nonPositive the
// inputs are never above 0 (or are NaN): there is no upper clamp, and hi is unused.
type expRecipe struct {
	lo, hi      float32
	p           []float32
	split       bool
	nonPositive bool
}

// exactExp is Exp's recipe: within 3e-7 relative of exp on [-87, 88], denormal results
// below, 0 for -Inf and +Inf above 88.7.
var exactExp = expRecipe{lo: expLo, hi: expHi, p: []float32{expP0, expP1, expP2, expP3, expP4}, split: true}

// squashExp is the recipe inside sigmoid, tanh and GELU, which need their results to 2e-6
// absolute and feed exp only into 1/(1 + e) or (1 - e)/(1 + e): P of degree 3 (fitted by
// weighted least squares on [-ln2/2, ln2/2]: 1.2e-7 relative, 20 times under what those
// allow), and an input clamped to [-87, 88], where 2^n is one normal float. A fused
// multiply-add, a multiply and five integer operations fewer than exactExp.
var squashExp = expRecipe{lo: -87, hi: 88,
	p: []float32{0.008333842270076275, 0.04189859703183174, 0.1666688621044159, 0.49999141693115234}}

// squashExpNeg is squashExp for inputs that are never positive (tanh's -2|x|).
var squashExpNeg = expRecipe{lo: squashExp.lo, p: squashExp.p, nonPositive: true}

// softmaxExp is the recipe inside softmax, whose arguments x - max are never positive: Exp's
// polynomial and one 2^n factor. At the clamp, -88, n is -127, whose 2^n built from exponent
// bits is exactly 0: -Inf entries get probability 0, as they must, and so does anything
// below about -87.7 (exp there is under 1.2e-38). No upper clamp, and five integer
// operations and a multiply fewer than exactExp.
var softmaxExp = expRecipe{lo: -88, p: exactExp.p, nonPositive: true}

// emitExp returns new registers holding exp(x) lane by lane, for each x of the group (the
// xs are left unchanged), computed by recipe e. NaN stays NaN (the clamps keep a NaN
// operand); infinities and overflow go to the clamp bounds' results.
//
// With split, 2^n is applied as two factors 2^(n/2) * 2^(n - n/2), each a normal float built
// from its exponent bits, so no intermediate overflows early or flushes to zero (+Inf for
// x > 88.7, denormals below -87.3). Constants are memory operands, except the clamp bounds,
// which must be registers to keep NaN.
func emitExp(t simd.Tier, xs vecs, e expRecipe) vecs {
	k := len(xs)
	r, n, nf, p, r2 := t.Vecs(k), t.Vecs(k), t.Vecs(k), t.Vecs(k), t.Vecs(k)
	each(k, func(j int) {
		VMAXPS(xs[j], t.Const(e.lo), r[j]) // max(lo, x): the second operand, x, is kept if NaN
	})
	if !e.nonPositive {
		each(k, func(j int) { VMINPS(r[j], t.Const(e.hi), r[j]) })
	}
	// n = round(x*log2(e)) without conversions: adding magic = 1.5*2^23 leaves n in the low
	// mantissa bits of the sum (one rounding, to nearest), and subtracting magic gives n as
	// a float. Without split, magic also holds the exponent bias 127. magic's bits are a
	// multiple of 2^9, so a shift by 23 into the exponent field pushes them out: the sum's
	// bits shifted are (n + 127) << 23, which is 2^n.
	magic := float32(0x1.8p23)
	if !e.split {
		magic += 127
	}
	each(k, func(j int) { VMOVUPS(t.ConstVec(math.Log2E), n[j]) })
	each(k, func(j int) { VFMADD213PS(t.ConstVec(magic), r[j], n[j]) }) // n = x*log2(e) + magic
	each(k, func(j int) { VSUBPS(t.ConstVec(magic), n[j], nf[j]) })
	each(k, func(j int) { VFNMADD231PS(t.ConstVec(ln2Hi), nf[j], r[j]) }) // r = x - n*ln2Hi
	each(k, func(j int) { VFNMADD231PS(t.ConstVec(ln2Lo), nf[j], r[j]) }) // r -= n*ln2Lo
	each(k, func(j int) { VMOVUPS(t.ConstVec(e.p[0]), p[j]) })
	for _, c := range e.p[1:] {
		each(k, func(j int) { VFMADD213PS(t.ConstVec(c), r[j], p[j]) }) // p = p*r + c
	}
	each(k, func(j int) { VMULPS(r[j], r[j], r2[j]) })
	each(k, func(j int) { VFMADD213PS(r[j], r2[j], p[j]) }) // p = p*r^2 + r
	each(k, func(j int) { VADDPS(t.ConstVec(1), p[j], p[j]) })
	if !e.split {
		// n in [-127, 127]: 2^n, or 0 for n = -127.
		each(k, func(j int) { VPSLLD(U8(23), n[j], n[j]) })
		each(k, func(j int) { VMULPS(n[j], p[j], p[j]) })
		return p
	}
	// Scale by 2^n: half = n>>1 and n-half, each biased by 127 and shifted into the exponent.
	// Both are computed on the sum's bits, magic's plus n: magic's part, and half of it,
	// shift out.
	half := r2 // r2 is free now
	each(k, func(j int) { VPSRAD(U8(1), n[j], half[j]) })
	each(k, func(j int) { VPSUBD(half[j], n[j], n[j]) })
	for _, h := range []vecs{half, n} {
		each(k, func(j int) { VPADDD(t.ConstVecInt(127), h[j], h[j]) })
		each(k, func(j int) { VPSLLD(U8(23), h[j], h[j]) })
		each(k, func(j int) { VMULPS(h[j], p[j], p[j]) })
	}
	return p
}

// emitSigmoid returns 1 / (1 + exp(-x)) for each x of the group.
func emitSigmoid(t simd.Tier, xs vecs) vecs {
	k := len(xs)
	neg := t.Vecs(k)
	each(k, func(j int) { VXORPS(t.ConstVec(float32(math.Copysign(0, -1))), xs[j], neg[j]) }) // flip the sign
	e := emitExp(t, neg, squashExp)
	each(k, func(j int) { VADDPS(t.ConstVec(1), e[j], e[j]) })
	one := t.Vecs(k)
	each(k, func(j int) { VMOVUPS(t.ConstVec(1), one[j]) })
	each(k, func(j int) { VDIVPS(e[j], one[j], one[j]) })
	return one
}

// emitTanh returns sign(x) * (1 - e) / (1 + e) with e = exp(-2|x|), which keeps its
// relative accuracy for large |x| and its absolute accuracy near 0.
func emitTanh(t simd.Tier, xs vecs) vecs {
	k := len(xs)
	signBit := t.ConstVec(float32(math.Copysign(0, -1)))
	sign, negAbs := t.Vecs(k), t.Vecs(k)
	each(k, func(j int) { VANDPS(signBit, xs[j], sign[j]) })
	each(k, func(j int) { VORPS(signBit, xs[j], negAbs[j]) }) // -|x|
	each(k, func(j int) { VADDPS(negAbs[j], negAbs[j], negAbs[j]) })
	e := emitExp(t, negAbs, squashExpNeg)
	num, den := t.Vecs(k), t.Vecs(k)
	each(k, func(j int) { VMOVUPS(t.ConstVec(1), num[j]) })
	each(k, func(j int) { VSUBPS(e[j], num[j], num[j]) }) // 1 - e
	each(k, func(j int) { VADDPS(t.ConstVec(1), e[j], den[j]) })
	each(k, func(j int) { VDIVPS(den[j], num[j], num[j]) })
	each(k, func(j int) { VXORPS(sign[j], num[j], num[j]) })
	return num
}

// emitGELUParts returns the clamped inputs xc and s = sigmoid(xc*(c1 + c2*xc^2)), the pieces
// of GELU and of its slope.
func emitGELUParts(t simd.Tier, xs vecs) (xc, s vecs) {
	k := len(xs)
	xc, z := t.Vecs(k), t.Vecs(k)
	each(k, func(j int) { VMAXPS(xs[j], t.Const(-geluClip), xc[j]) }) // NaN kept, as in emitExp
	each(k, func(j int) { VMINPS(xc[j], t.Const(geluClip), xc[j]) })
	each(k, func(j int) { VMULPS(xc[j], xc[j], z[j]) })
	each(k, func(j int) { VFMADD213PS(t.ConstVec(geluC1), t.Const(geluC2), z[j]) }) // z = c2*x^2 + c1
	each(k, func(j int) { VMULPS(xc[j], z[j], z[j]) })
	return xc, emitSigmoid(t, z)
}

// unroll is how many vectors an element-wise kernel interleaves: enough independent chains
// to hide exp's latency and, on AVX2, few enough that 16 registers hold them (avo would
// silently hand out registers 16-31, which only AVX-512 has; a test in kernels checks). The
// AVX2 figures are the largest that fit for each kernel.
func unroll(t simd.Tier, avx2 int) int {
	if t.Registers == 16 {
		return avx2
	}
	return 4
}

func blas1AndActivations(t simd.Tier) {
	t.Map("exp", []string{"src"}, "for i, x := range src { dst[i] = exp(x) }", unroll(t, 4),
		func(in []vecs) vecs { return emitExp(t, in[0], exactExp) })
	t.Map("sigmoid", []string{"src"}, "for i, x := range src { dst[i] = 1 / (1 + exp(-x)) }", unroll(t, 4),
		func(in []vecs) vecs { return emitSigmoid(t, in[0]) })
	t.Map("tanh", []string{"src"}, "for i, x := range src { dst[i] = tanh(x) }", unroll(t, 3),
		func(in []vecs) vecs { return emitTanh(t, in[0]) })
	t.Map("gelu", []string{"src"}, "for i, x := range src { dst[i] = x * sigmoid(2*sqrt(2/pi)*(x + 0.044715*x^3)) }", unroll(t, 2),
		func(in []vecs) vecs {
			x := in[0]
			k := len(x)
			xc, s := emitGELUParts(t, x)
			each(k, func(j int) { VMULPS(xc[j], s[j], s[j]) })
			// Beyond the clamp GELU(x) = x: add back what the clamp took off the top.
			over := t.Vecs(k)
			each(k, func(j int) { VSUBPS(t.ConstVec(geluClip), x[j], over[j]) })
			each(k, func(j int) { VMAXPS(over[j], t.Const(0), over[j]) }) // max(0, x-clip); a NaN x is already NaN in s
			each(k, func(j int) { VADDPS(over[j], s[j], s[j]) })
			return s
		})
	t.Map("geluBackward", []string{"grad", "x"},
		"for i := range dst { dst[i] = grad[i] * (s + x*s*(1-s)*(c1 + 3*c2*x^2)) }, s the sigmoid of GELU", unroll(t, 2),
		func(in []vecs) vecs {
			grad, x := in[0], in[1]
			k := len(x)
			xc, s := emitGELUParts(t, x)
			dz, d := t.Vecs(k), t.Vecs(k)
			each(k, func(j int) { VMULPS(xc[j], xc[j], dz[j]) })
			each(k, func(j int) { VFMADD213PS(t.ConstVec(geluC1), t.Const(3*geluC2), dz[j]) }) // 3*c2*x^2 + c1
			each(k, func(j int) { VMOVUPS(t.ConstVec(1), d[j]) })
			each(k, func(j int) { VSUBPS(s[j], d[j], d[j]) })       // 1 - s
			each(k, func(j int) { VMULPS(s[j], d[j], d[j]) })       // s(1-s)
			each(k, func(j int) { VMULPS(xc[j], d[j], d[j]) })      // x*s*(1-s)
			each(k, func(j int) { VFMADD213PS(s[j], dz[j], d[j]) }) // x*s*(1-s)*dz + s
			each(k, func(j int) { VMULPS(grad[j], d[j], d[j]) })
			return d
		})
	t.Map("relu", []string{"src"}, "for i, x := range src { dst[i] = max(x, 0) }, NaN kept", 4,
		func(in []vecs) vecs {
			x := in[0]
			each(len(x), func(j int) { VMAXPS(x[j], t.Const(0), x[j]) }) // max(0, x): x, the second operand, is kept if NaN
			return x
		})
	t.Map("reluBackward", []string{"grad", "x"}, "for i := range dst { dst[i] = grad[i] if x[i] > 0 else 0 }", 4,
		func(in []vecs) vecs {
			grad, x := in[0], in[1]
			each(len(x), func(j int) { t.KeepWhere(simd.GreaterThan, x[j], t.Const(0), grad[j]) })
			return grad
		})
	t.Map("sigmoidBackward", []string{"grad", "y"}, "for i := range dst { dst[i] = grad[i] * y[i] * (1 - y[i]) }", 4,
		func(in []vecs) vecs {
			grad, y := in[0], in[1]
			k := len(y)
			d := t.Vecs(k)
			each(k, func(j int) { VMOVUPS(t.ConstVec(1), d[j]) })
			each(k, func(j int) { VSUBPS(y[j], d[j], d[j]) })
			each(k, func(j int) { VMULPS(y[j], d[j], d[j]) })
			each(k, func(j int) { VMULPS(grad[j], d[j], d[j]) })
			return d
		})
	t.Map("tanhBackward", []string{"grad", "y"}, "for i := range dst { dst[i] = grad[i] * (1 - y[i]*y[i]) }", 4,
		func(in []vecs) vecs {
			grad, y := in[0], in[1]
			k := len(y)
			d := t.Vecs(k)
			each(k, func(j int) { VMOVUPS(t.ConstVec(1), d[j]) })
			each(k, func(j int) { VFNMADD231PS(y[j], y[j], d[j]) }) // 1 - y*y
			each(k, func(j int) { VMULPS(grad[j], d[j], d[j]) })
			return d
		})
}
