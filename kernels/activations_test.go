package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var (
	inf    = float32(math.Inf(1))
	nan32  = float32(math.NaN())
	tiny32 = float32(1.3e-38)
)

// checkUnary runs an element-wise kernel over lengths 0..300 with guard bands, in place and
// out of place, and checks every output against want with check.
func checkUnary(t *testing.T, name string, f func(dst, src []float32), gen func(r *rand.Rand) float32,
	check func(x, got float32) error) {
	r := rand.New(rand.NewPCG(21, 22))
	for n := 0; n <= 300; n++ {
		gs, gd := newGuarded(n, n%3), newGuarded(n, n%5)
		src, dst := gs.s(), gd.s()
		for i := range src {
			src[i] = gen(r)
		}
		f(dst, src)
		for i, x := range src {
			if err := check(x, dst[i]); err != nil {
				t.Fatalf("%s n=%d: element %d: %v", name, n, i, err)
			}
		}
		gd.check(t, name+" dst")
		want := append([]float32(nil), dst...)
		f(src, src) // in place
		for i := range src {
			if math.Float32bits(src[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s n=%d: in place gives %v at %d, out of place %v", name, n, src[i], i, want[i])
			}
		}
		gs.check(t, name+" in place")
	}
}

// within reports whether got is within max(abs, rel*|want|) of want (NaN only for NaN).
func within(got float32, want float64, abs, rel float64) error {
	if w32 := float64(float32(want)); math.IsInf(w32, 0) {
		want = w32 // beyond float32's range: the right answer is the infinity
	}
	if math.IsNaN(want) != math.IsNaN(float64(got)) {
		return fmt.Errorf("got %v, want %v", got, want)
	}
	if math.IsInf(want, 0) || math.IsNaN(want) {
		if float64(got) != want && !math.IsNaN(want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	}
	if d := math.Abs(float64(got) - want); d > math.Max(abs, rel*math.Abs(want)) {
		return fmt.Errorf("got %v, want %v (|diff| %g, allowed %g)", got, want, d, math.Max(abs, rel*math.Abs(want)))
	}
	return nil
}

func uniformIn(lo, hi float32) func(r *rand.Rand) float32 {
	return func(r *rand.Rand) float32 { return lo + (hi-lo)*r.Float32() }
}

func TestExpAccuracy(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		// Every 97th float32 in [-87, 88], plus random ones: relative error <= 3e-7.
		var xs []float32
		step := uint32(97)
		if testing.Short() {
			step = 9973
		}
		for b := math.Float32bits(0); b < math.Float32bits(88); b += step {
			xs = append(xs, math.Float32frombits(b))
		}
		for b := uint32(1 << 31); b < math.Float32bits(-87); b += step { // from -0 down to -87
			xs = append(xs, math.Float32frombits(b))
		}
		got := make([]float32, len(xs))
		Exp(got, xs)
		worst := 0.0
		for i, x := range xs {
			want := math.Exp(float64(x))
			if w := float64(float32(want)); math.IsInf(w, 1) {
				if !math.IsInf(float64(got[i]), 1) {
					t.Fatalf("exp(%v) = %v, want +Inf", x, got[i])
				}
				continue
			}
			rel := math.Abs(float64(got[i])-want) / want
			worst = max(worst, rel)
			if !(rel <= 3e-7) {
				t.Fatalf("exp(%v) = %v, want %v (relative error %g)", x, got[i], want, rel)
			}
		}
		t.Logf("%d points, worst relative error %.3g", len(xs), worst)
	})
}

func TestExpSpecialValues(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		xs := []float32{88.73, 89, 100, 1e30, inf, -87.4, -90, -103, -1e30, -inf, nan32, 0, float32(math.Copysign(0, -1))}
		got := make([]float32, len(xs))
		Exp(got, xs)
		for i, x := range xs {
			g := got[i]
			switch {
			case x != x:
				if g == g {
					t.Errorf("exp(NaN) = %v", g)
				}
			case x >= 88.73:
				if !math.IsInf(float64(g), 1) {
					t.Errorf("exp(%v) = %v, want +Inf", x, g)
				}
			case x < -87.3:
				if g < 0 || g > tiny32 || (math.IsInf(float64(x), -1) && g != 0) {
					t.Errorf("exp(%v) = %v, want a value in [0, 1.3e-38] (0 for -Inf)", x, g)
				}
			case x == 0:
				if g != 1 {
					t.Errorf("exp(%v) = %v, want 1", x, g)
				}
			}
		}
	})
	forEachTier(t, func(t *testing.T) {
		checkUnary(t, "Exp", Exp, uniformIn(-100, 100), func(x, got float32) error {
			want := math.Exp(float64(x))
			if x < -87.3 {
				if got < 0 || got > tiny32 {
					return fmt.Errorf("exp(%v) = %v", x, got)
				}
				return nil
			}
			return within(got, want, 0, 3e-7)
		})
	})
}

// The transcendental activations: error at most max(2e-6 absolute, 3e-7 relative) on
// [-20, 20], the right limits beyond, NaN propagated.
func TestActivationsAccuracy(t *testing.T) {
	funcs := []struct {
		name string
		f    func(dst, src []float32)
		ref  func(float64) float64
	}{
		{"Sigmoid", Sigmoid, sigmoid64},
		{"Tanh", Tanh, math.Tanh},
		{"GELU", GELU, gelu64},
	}
	forEachTier(t, func(t *testing.T) {
		for _, fn := range funcs {
			checkUnary(t, fn.name, fn.f, uniformIn(-20, 20), func(x, got float32) error {
				return within(got, fn.ref(float64(x)), 2e-6, 3e-7)
			})
			limits := []float32{-inf, -1e30, -200, -50, 50, 200, 1e30, inf, nan32}
			got := make([]float32, len(limits))
			fn.f(got, limits)
			for i, x := range limits {
				want := fn.ref(float64(x))
				if fn.name == "GELU" && x < -30 {
					want = 0 // x * sigmoid(-huge): a signed zero is fine
				}
				if err := within(got[i], want, 2e-6, 3e-7); err != nil {
					t.Errorf("%s(%v): %v", fn.name, x, err)
				}
			}
		}
	})
}

func TestActivationBackwards(t *testing.T) {
	slope := map[string]func(x, y float64) float64{
		"SigmoidBackward": func(_, y float64) float64 { return y * (1 - y) },
		"TanhBackward":    func(_, y float64) float64 { return 1 - y*y },
		"GELUBackward":    func(x, _ float64) float64 { return geluSlope64(x) },
		"ReLUBackward": func(x, _ float64) float64 {
			if x > 0 {
				return 1
			}
			return 0
		},
	}
	funcs := []struct {
		name    string
		f       func(dst, grad, x []float32)
		forward func(dst, src []float32) // the backward takes the forward's output; nil: its input
	}{
		{"SigmoidBackward", SigmoidBackward, sigmoidGeneric},
		{"TanhBackward", TanhBackward, tanhGeneric},
		{"GELUBackward", GELUBackward, nil},
		{"ReLUBackward", ReLUBackward, nil},
	}
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(23, 24))
		for _, fn := range funcs {
			for n := 0; n <= 300; n++ {
				gd, gg, gx := newGuarded(n, 1), newGuarded(n, 2), newGuarded(n, 0)
				dst, grad, x := gd.s(), gg.s(), gx.s()
				for i := range x {
					x[i] = uniformIn(-20, 20)(r)
					grad[i] = uniformIn(-2, 2)(r)
				}
				if n > 4 {
					x[0], x[1], x[2], x[3] = 60, -60, nan32, 0
				}
				in := x
				if fn.forward != nil {
					in = make([]float32, n)
					fn.forward(in, x)
				}
				fn.f(dst, grad, in)
				for i := range x {
					want := float64(grad[i]) * slope[fn.name](float64(x[i]), float64(in[i]))
					tol := 2e-6 * math.Abs(float64(grad[i]))
					if fn.name == "ReLUBackward" {
						tol = 0
						if x[i] != x[i] {
							want = 0 // NaN is not > 0
						}
					}
					if err := within(dst[i], want, tol, 3e-7); err != nil {
						t.Fatalf("%s n=%d x=%v grad=%v: %v", fn.name, n, x[i], grad[i], err)
					}
				}
				gd.check(t, fn.name)
				want := append([]float32(nil), dst...)
				fn.f(grad, grad, in) // dst aliasing grad
				for i := range grad {
					if math.Float32bits(grad[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s n=%d: dst aliasing grad gives %v at %d, want %v", fn.name, n, grad[i], i, want[i])
					}
				}
			}
		}
	})
}

func TestReLUExact(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		checkUnary(t, "ReLU", ReLU, func(r *rand.Rand) float32 {
			switch r.IntN(10) {
			case 0:
				return nan32
			case 1:
				return -inf
			case 2:
				return inf
			}
			return uniformIn(-5, 5)(r)
		}, func(x, got float32) error {
			if x != x {
				if got == got {
					return fmt.Errorf("ReLU(NaN) = %v, want NaN", got)
				}
				return nil
			}
			if want := max(x, 0); got != want {
				return fmt.Errorf("ReLU(%v) = %v, want %v", x, got, want)
			}
			return nil
		})
	})
}
