package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// maxTestLen covers several full unrolled blocks of every tier plus every tail.
const maxTestLen = 1100

// smallInts fills s with integers in [-8, 8]: products and sums of up to 1100 of them are
// exact in float32, so every tier must give exactly the same answer whatever its order.
func smallInts(r *rand.Rand, s []float32) {
	for i := range s {
		s[i] = float32(r.IntN(17) - 8)
	}
}

func uniform(r *rand.Rand, s []float32) {
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
}

func TestAxpy(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		for n := 0; n <= maxTestLen; n++ {
			gx, gy := newGuarded(n, n%3), newGuarded(n, (n+1)%4)
			x, y := gx.s(), gy.s()
			smallInts(r, x)
			smallInts(r, y)
			want := make([]float32, n)
			for i := range want {
				want[i] = y[i] + 3*x[i]
			}
			Axpy(3, x, y)
			for i := range y {
				if y[i] != want[i] {
					t.Fatalf("n=%d: y[%d] = %v, want %v", n, i, y[i], want[i])
				}
			}
			gx.check(t, fmt.Sprintf("Axpy n=%d x", n))
			gy.check(t, fmt.Sprintf("Axpy n=%d y", n))

			// Rounding: a fused or unfused multiply-add, within one rounding of float64.
			uniform(r, x)
			uniform(r, y)
			copy(want, y)
			Axpy(-0.37, x, y)
			for i := range y {
				exact := float64(want[i]) + -0.37*float64(x[i])
				if d := math.Abs(float64(y[i]) - exact); d > 2e-7*(math.Abs(float64(want[i]))+0.37*math.Abs(float64(x[i]))) {
					t.Fatalf("n=%d: y[%d] = %v, want %v (|diff| %g)", n, i, y[i], exact, d)
				}
			}
		}
	})
}

func TestAxpyAliased(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for n := 0; n <= 300; n++ {
			g := newGuarded(n, 1)
			x := g.s()
			smallInts(r, x)
			want := make([]float32, n)
			for i, v := range x {
				want[i] = 3 * v
			}
			Axpy(2, x, x)
			for i := range x {
				if x[i] != want[i] {
					t.Fatalf("n=%d: aliased Axpy x[%d] = %v, want %v", n, i, x[i], want[i])
				}
			}
			g.check(t, "aliased Axpy")
		}
	})
}

func TestScale(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for n := 0; n <= maxTestLen; n++ {
			g := newGuarded(n, n%5)
			x := g.s()
			uniform(r, x)
			want := make([]float32, n)
			for i, v := range x {
				want[i] = v * -1.7 // one correctly rounded multiply: exact agreement
			}
			Scale(-1.7, x)
			for i := range x {
				if x[i] != want[i] {
					t.Fatalf("n=%d: x[%d] = %v, want %v", n, i, x[i], want[i])
				}
			}
			g.check(t, fmt.Sprintf("Scale n=%d", n))
		}
	})
}

func TestBytesToFloat32(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		lengths := []int{maxChunk - 1, maxChunk + 17, 2*maxChunk + 5}
		for n := 0; n <= maxTestLen; n++ {
			lengths = append(lengths, n)
		}
		for _, n := range lengths {
			buf := make([]byte, n+n%7)
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
			src := buf[n%7:] // any alignment
			for _, scale := range []float32{1.0 / 255, -3.5} {
				g := newGuarded(n, n%3)
				dst := g.s()
				BytesToFloat32(dst, src, scale)
				for i, b := range src {
					if want := float32(b) * scale; dst[i] != want { // one rounding: exact agreement
						t.Fatalf("n=%d: dst[%d] = %v, want %v (byte %d, scale %v)", n, i, dst[i], want, b, scale)
					}
				}
				g.check(t, fmt.Sprintf("BytesToFloat32 n=%d", n))
			}
		}
	})
}

func TestDot(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for n := 0; n <= maxTestLen; n++ {
			gx, gy := newGuarded(n, n%4), newGuarded(n, n%3)
			x, y := gx.s(), gy.s()
			smallInts(r, x)
			smallInts(r, y)
			var exact float32
			for i := range x {
				exact += x[i] * y[i]
			}
			if got := Dot(x, y); got != exact {
				t.Fatalf("n=%d: Dot = %v, want %v (integer inputs: must be exact)", n, got, exact)
			}
			if got, want := Dot(x, x), dotGeneric(x, x); got != want {
				t.Fatalf("n=%d: Dot(x, x) = %v, want %v", n, got, want)
			}

			uniform(r, x)
			uniform(r, y)
			var ref, mag float64
			for i := range x {
				ref += float64(x[i]) * float64(y[i])
				mag += math.Abs(float64(x[i]) * float64(y[i]))
			}
			// Any summation order is within n roundings of the magnitude sum.
			got := Dot(x, y)
			if d := math.Abs(float64(got) - ref); d > float64(n+1)*6e-8*mag {
				t.Fatalf("n=%d: Dot = %v, float64 reference %v (|diff| %g)", n, got, ref, d)
			}
			gx.check(t, "Dot x")
			gy.check(t, "Dot y")
		}
	})
}

// TestLongVectors crosses the maxChunk boundary at which the exported functions split calls.
func TestLongVectors(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 10))
		for _, n := range []int{maxChunk - 1, maxChunk, maxChunk + 1, 3*maxChunk + 77} {
			x, y := make([]float32, n), make([]float32, n)
			smallInts(r, x)
			smallInts(r, y)
			want := dotGeneric(x, y) // exact: the sum stays below 2^24
			if got := Dot(x, y); got != want {
				t.Fatalf("n=%d: Dot = %v, want %v", n, got, want)
			}
			want2 := make([]float32, n)
			for i := range y {
				want2[i] = 2 * (y[i] + x[i])
			}
			Axpy(1, x, y)
			Scale(2, y)
			for i := range y {
				if y[i] != want2[i] {
					t.Fatalf("n=%d: after Axpy and Scale, y[%d] = %v, want %v", n, i, y[i], want2[i])
				}
			}
		}
	})
}

func TestLengthMismatchPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"Axpy":           func() { Axpy(1, make([]float32, 3), make([]float32, 4)) },
		"Dot":            func() { Dot(make([]float32, 5), make([]float32, 4)) },
		"BytesToFloat32": func() { BytesToFloat32(make([]float32, 5), make([]byte, 4), 1) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if msg == "" {
					t.Errorf("%s with different lengths did not panic with a message", name)
				}
			}()
			f()
		}()
	}
}

func TestGatherBytesToFloat32(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, width := range []int{1, 7, 8, 9, 16, 17, 100, 784} {
			src := make([]byte, 50*width)
			for i := range src {
				src[i] = byte(r.Uint32())
			}
			for _, n := range []int{0, 1, 3, 32, 200} {
				idx := make([]int, n)
				for i := range idx {
					idx[i] = r.IntN(50)
				}
				for _, threads := range []int{1, 2, 3, 5} {
					SetThreads(threads)
					g := newGuarded(n*width, 1)
					dst := g.s()
					GatherBytesToFloat32(dst, src, idx, width, 1.0/255)
					g.check(t, fmt.Sprintf("GatherBytesToFloat32 width %d, %d rows", width, n))
					for i, row := range idx {
						for j := 0; j < width; j++ {
							if want := float32(src[row*width+j]) * (1.0 / 255); dst[i*width+j] != want {
								t.Fatalf("width %d, %d rows, %d threads: dst row %d col %d = %v, want %v (src row %d)",
									width, n, threads, i, j, dst[i*width+j], want, row)
							}
						}
					}
				}
			}
		}
	})
}

func TestGatherBytesToFloat32Panics(t *testing.T) {
	src := make([]byte, 10*4)
	for name, f := range map[string]func(){
		"index past the end": func() { GatherBytesToFloat32(make([]float32, 4), src, []int{10}, 4, 1) },
		"negative index":     func() { GatherBytesToFloat32(make([]float32, 4), src, []int{-1}, 4, 1) },
		"short dst":          func() { GatherBytesToFloat32(make([]float32, 7), src, []int{1, 2}, 4, 1) },
		"zero width":         func() { GatherBytesToFloat32(nil, src, nil, 0, 1) },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "GatherBytesToFloat32") {
					t.Errorf("%s: recovered %q, want a panic naming GatherBytesToFloat32", name, msg)
				}
			}()
			f()
		}()
	}
}
