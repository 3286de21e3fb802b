package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lanesml/lanes/internal/race"
)

// softmaxRef is the float64 softmax and log-softmax of one row (NaN rows as PyTorch has them).
func softmaxRef(row []float32) (p, logp []float64) {
	m := math.Inf(-1)
	nan := false
	for _, x := range row {
		m = math.Max(m, float64(x))
		nan = nan || x != x
	}
	var sum float64
	for _, x := range row {
		sum += math.Exp(float64(x) - m)
	}
	p, logp = make([]float64, len(row)), make([]float64, len(row))
	for j, x := range row {
		if nan || math.IsInf(m, -1) {
			p[j], logp[j] = math.NaN(), math.NaN()
			continue
		}
		p[j] = math.Exp(float64(x)-m) / sum
		logp[j] = float64(x) - m - math.Log(sum)
	}
	return p, logp
}

var softmaxCols = []int{1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 31, 32, 33, 100, 128, 255, 1000}

// randomLogits fills x with values of the given scale, and sprinkles special rows.
func randomLogits(r *rand.Rand, x []float32, rows, cols int, scale float32) {
	for i := range x {
		x[i] = (r.Float32()*2 - 1) * scale
	}
	if rows >= 4 {
		x[0*cols] = -inf // one -Inf entry: probability 0
		for j := 0; j < cols; j++ {
			x[1*cols+j] = -inf // an all -Inf row: NaN
			x[2*cols+j] = 1e30 + float32(j)*1e23
		}
		x[3*cols+cols/2] = nan32 // a NaN entry: NaN row
	}
}

func TestSoftmaxAndLogSoftmax(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(31, 32))
		for _, cols := range softmaxCols {
			for _, rows := range []int{0, 1, 3, 5, 70} {
				for _, scale := range []float32{1, 30} {
					gs, gd := newGuarded(rows*cols, 1), newGuarded(rows*cols, 2)
					src, dst := gs.s(), gd.s()
					randomLogits(r, src, rows, cols, scale)
					Softmax(dst, src, rows, cols)
					gd.check(t, "Softmax dst")
					ld := newGuarded(rows*cols, 3)
					LogSoftmax(ld.s(), src, rows, cols)
					ld.check(t, "LogSoftmax dst")
					for i := 0; i < rows; i++ {
						p, logp := softmaxRef(src[i*cols : (i+1)*cols])
						for j := range p {
							if err := within(dst[i*cols+j], p[j], 1e-6, 0); err != nil {
								t.Fatalf("Softmax %dx%d row %d col %d: %v", rows, cols, i, j, err)
							}
							if err := within(ld.s()[i*cols+j], logp[j], 1e-6, 2e-6); err != nil {
								t.Fatalf("LogSoftmax %dx%d row %d col %d: %v", rows, cols, i, j, err)
							}
						}
					}
					// In place gives the same bits.
					logIn := append([]float32(nil), src...)
					LogSoftmax(logIn, logIn, rows, cols)
					for i, v := range logIn {
						if math.Float32bits(v) != math.Float32bits(ld.s()[i]) {
							t.Fatalf("LogSoftmax in place %dx%d differs at %d", rows, cols, i)
						}
					}
					want := append([]float32(nil), dst...)
					Softmax(src, src, rows, cols)
					for i := range src {
						if math.Float32bits(src[i]) != math.Float32bits(want[i]) {
							t.Fatalf("Softmax in place %dx%d differs at %d", rows, cols, i)
						}
					}
					gs.check(t, "Softmax in place")
				}
			}
		}
	})
}

// TestSoftmaxManySmallRows: more rows of few columns than one assembly call takes, so the
// call boundaries and the last row (which must not spill past dst) are crossed; every row
// equals the softmax of that row alone.
func TestSoftmaxManySmallRows(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(33, 34))
		for _, cols := range []int{5, 10, 16, 17} {
			rows := maxChunk/cols + 3
			g := newGuarded(rows*cols, 1)
			src, dst := make([]float32, rows*cols), g.s()
			randomLogits(r, src, rows, cols, 10)
			Softmax(dst, src, rows, cols)
			g.check(t, fmt.Sprintf("Softmax %dx%d", rows, cols))
			one := make([]float32, cols)
			for i := 0; i < rows; i++ {
				Softmax(one, src[i*cols:(i+1)*cols], 1, cols)
				for j, v := range one {
					if math.Float32bits(dst[i*cols+j]) != math.Float32bits(v) {
						t.Fatalf("Softmax %dx%d row %d col %d = %v, the row alone gives %v", rows, cols, i, j, dst[i*cols+j], v)
					}
				}
			}
		}
	})
}

func TestSoftmaxCrossEntropy(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(33, 34))
		for _, cols := range softmaxCols {
			for _, rows := range []int{1, 2, 32, 130} {
				logits := make([]float32, rows*cols)
				randomLogits(r, logits, 0, cols, 8)
				labels := make([]int32, rows)
				for i := range labels {
					labels[i] = int32(r.IntN(cols))
				}
				gg := newGuarded(rows*cols, 1)
				loss := SoftmaxCrossEntropy(gg.s(), logits, labels, rows, cols)
				gg.check(t, "SoftmaxCrossEntropy grad")
				var want float64
				for i := 0; i < rows; i++ {
					p, logp := softmaxRef(logits[i*cols : (i+1)*cols])
					want -= logp[labels[i]]
					for j := range p {
						g := p[j]
						if j == int(labels[i]) {
							g--
						}
						if err := within(gg.s()[i*cols+j], g/float64(rows), 1e-6/float64(rows), 0); err != nil {
							t.Fatalf("%dx%d grad[%d][%d]: %v", rows, cols, i, j, err)
						}
					}
				}
				want /= float64(rows)
				if err := within(loss, want, 1e-7, 2e-6); err != nil {
					t.Fatalf("%dx%d loss: %v", rows, cols, err)
				}
				if noGrad := SoftmaxCrossEntropy(nil, logits, labels, rows, cols); noGrad != loss {
					t.Fatalf("%dx%d: loss without grad %v, with grad %v", rows, cols, noGrad, loss)
				}
				// grad may be logits: the same loss and gradient, to the bit.
				inPlace := append([]float32(nil), logits...)
				if got := SoftmaxCrossEntropy(inPlace, inPlace, labels, rows, cols); got != loss {
					t.Fatalf("%dx%d: loss with grad = logits %v, with a separate grad %v", rows, cols, got, loss)
				}
				for i, v := range inPlace {
					if math.Float32bits(v) != math.Float32bits(gg.s()[i]) {
						t.Fatalf("%dx%d: grad = logits gives grad[%d] = %v, a separate grad %v", rows, cols, i, v, gg.s()[i])
					}
				}
			}
		}
	})
}

// TestSoftmaxCrossEntropyPart cuts batches into parts at every row: each part's gradient
// must be the whole batch's rows to the bit, guards around it intact, and the parts' loss
// sums must add up to the batch's mean times its rows.
func TestSoftmaxCrossEntropyPart(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(35, 36))
		for _, cols := range softmaxCols {
			for _, rows := range []int{2, 17, 70} {
				logits := make([]float32, rows*cols)
				randomLogits(r, logits, 0, cols, 8)
				labels := make([]int32, rows)
				for i := range labels {
					labels[i] = int32(r.IntN(cols))
				}
				whole := make([]float32, rows*cols)
				loss := SoftmaxCrossEntropy(whole, logits, labels, rows, cols)
				for cut := 1; cut < rows; cut++ {
					var sum float64
					for _, part := range [][2]int{{0, cut}, {cut, rows}} {
						lo, hi := part[0], part[1]
						gg := newGuarded((hi-lo)*cols, 1)
						sum += SoftmaxCrossEntropyPart(gg.s(), logits[lo*cols:hi*cols], labels[lo:hi], hi-lo, cols, rows)
						gg.check(t, "SoftmaxCrossEntropyPart grad")
						for i, v := range gg.s() {
							if math.Float32bits(v) != math.Float32bits(whole[lo*cols+i]) {
								t.Fatalf("%dx%d cut at %d: grad[%d] = %v, whole batch %v", rows, cols, cut, lo*cols+i, v, whole[lo*cols+i])
							}
						}
					}
					if err := within(float32(sum/float64(rows)), float64(loss), 1e-7, 2e-6); err != nil {
						t.Fatalf("%dx%d cut at %d: loss: %v", rows, cols, cut, err)
					}
				}
			}
		}
	})
	defer func() {
		if recover() == nil {
			t.Error("batchRows < rows did not panic")
		}
	}()
	SoftmaxCrossEntropyPart(nil, make([]float32, 20), []int32{0, 1}, 2, 10, 1)
}

func TestSoftmaxCrossEntropyPanics(t *testing.T) {
	logits := make([]float32, 20)
	for _, labels := range [][]int32{{0, 10}, {-1, 0}, {0}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("labels %v for 2 rows of 10 classes did not panic", labels)
				}
			}()
			SoftmaxCrossEntropy(nil, logits, labels, 2, 10)
		}()
	}
}

func TestRowKernels(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(35, 36))
		for _, cols := range softmaxCols {
			// 70 rows of 1000 floats take two calls of the row kernels (see chunkRows).
			for _, rows := range []int{0, 1, 7, 64, 70} {
				gx := newGuarded(rows*cols, 1)
				x := gx.s()
				uniform(r, x)
				bias := make([]float32, cols)
				uniform(r, bias)
				// AddBias: one correctly rounded addition per element: exact.
				want := make([]float32, len(x))
				for i := range x {
					want[i] = x[i] + bias[i%cols]
				}
				AddBias(x, bias, rows, cols)
				gx.check(t, "AddBias")
				for i := range x {
					if x[i] != want[i] {
						t.Fatalf("AddBias %dx%d: x[%d] = %v, want %v", rows, cols, i, x[i], want[i])
					}
				}
				// SumRows: the rows added in order from zero, in float32, on every tier (so
				// exactly that sum), and within 1e-6 of the float64 sum, relative to the sum
				// of magnitudes.
				gd := newGuarded(cols, 1)
				SumRows(gd.s(), x, rows, cols)
				gd.check(t, "SumRows")
				for j := 0; j < cols; j++ {
					var sum, mag float64
					var inOrder float32
					for i := 0; i < rows; i++ {
						sum += float64(x[i*cols+j])
						mag += math.Abs(float64(x[i*cols+j]))
						inOrder += x[i*cols+j]
					}
					if got := gd.s()[j]; got != inOrder || math.Abs(float64(got)-sum) > 1e-6*mag {
						t.Fatalf("SumRows %dx%d: dst[%d] = %v, want %v (float64 %v)", rows, cols, j, got, inOrder, sum)
					}
				}
				// ArgmaxRows: first index of the maximum, NaN counts as largest.
				if rows >= 3 && cols > 2 {
					x[cols+1] = x[cols+0] + 10 // row 1: a tie at 1 and 2
					x[cols+2] = x[cols+1]
					x[2*cols+cols-1] = nan32 // row 2: NaN wins
				}
				idx := make([]int32, rows)
				ArgmaxRows(idx, x, rows, cols)
				for i := 0; i < rows; i++ {
					best := 0
					for j := 0; j < cols; j++ {
						v := x[i*cols+j]
						if v != v {
							best = j
							break
						}
						if v > x[i*cols+best] {
							best = j
						}
					}
					if int(idx[i]) != best {
						t.Fatalf("ArgmaxRows %dx%d row %d = %d, want %d", rows, cols, i, idx[i], best)
					}
				}
			}
		}
	})
}

// adamRef is Adam in float64. Beside it, it tracks what float32 rounding may add up to:
// mScale is the size of m's terms (m with |g| for g), the scale m's errors are relative to,
// since m itself may cancel to near zero; pErr bounds p's error, at most half an ulp
// (2^-24 relative) of p per step for the subtraction, plus 1e-6 of the step itself for the
// rounding in m, v, the square root and the division.
func adamRef(p, g, m, v, mScale, pErr []float64, lr, b1, b2, eps, wd float64, step int) {
	c1, c2 := 1-math.Pow(b1, float64(step)), 1-math.Pow(b2, float64(step))
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		mScale[i] = b1*mScale[i] + (1-b1)*math.Abs(g[i])
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		update := lr * (m[i]/c1/(math.Sqrt(v[i]/c2)+eps) + wd*p[i])
		p[i] -= update
		pErr[i] += 0x1p-24*math.Abs(p[i]) + 1e-6*math.Abs(update)
	}
}

func TestAdamUpdate(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(37, 38))
		for _, n := range []int{0, 1, 7, 8, 9, 16, 17, 300, 1000} {
			for _, wd := range []float32{0, 0.01} {
				p, m, v, g := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				uniform(r, p)
				p64, m64, v64, g64 := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
				mScale, pErr := make([]float64, n), make([]float64, n)
				f64 := func(x float32) float64 { return float64(x) } // the float32 hyper-parameters, exactly
				for i := range p {
					p64[i] = float64(p[i])
				}
				for step := 1; step <= 100; step++ {
					uniform(r, g)
					for i := range g {
						g64[i] = float64(g[i])
					}
					AdamUpdate(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7, wd, step)
					adamRef(p64, g64, m64, v64, mScale, pErr, f64(1e-3), f64(0.9), f64(0.999), f64(1e-7), f64(wd), step)
				}
				for i := range p {
					if d := math.Abs(float64(p[i]) - p64[i]); d > pErr[i] {
						t.Fatalf("n=%d wd=%v: after 100 steps p[%d] = %v, float64 reference %v (error bound %.2g)", n, wd, i, p[i], p64[i], pErr[i])
					}
					if d := math.Abs(float64(m[i]) - m64[i]); d > 1e-6*mScale[i] {
						t.Fatalf("n=%d: m[%d] = %v, reference %v", n, i, m[i], m64[i])
					}
				}
			}
		}
	})
}

func TestVectorKernelAllocs(t *testing.T) {
	if race.Enabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	forEachTier(t, func(t *testing.T) {
		x, d := make([]float32, 32*10), make([]float32, 32*10)
		labels := make([]int32, 32)
		p, g, m, v := make([]float32, 1000), make([]float32, 1000), make([]float32, 1000), make([]float32, 1000)
		ps, gs, ms, vs := [][]float32{p, p[:10]}, [][]float32{g, g[:10]}, [][]float32{m, m[:10]}, [][]float32{v, v[:10]}
		pixels, batch, idx := make([]byte, 100*784), make([]float32, 32*784), make([]int, 32)
		allocs := testing.AllocsPerRun(50, func() {
			GatherBytesToFloat32(batch, pixels, idx, 784, 1.0/255)
			Softmax(d, x, 32, 10)
			LogSoftmax(d, x, 32, 10)
			SoftmaxCrossEntropy(d, x, labels, 32, 10)
			Exp(d, x)
			GELU(d, x)
			AdamUpdate(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7, 0, 3)
			AdamUpdates(ps, gs, ms, vs, 1e-3, 0.9, 0.999, 1e-7, 0, 3)
		})
		if allocs != 0 {
			t.Errorf("%v allocations per round of vector kernels, want 0", allocs)
		}
	})
}

// TestAdamUpdateParallel: an update split across workers gives the same bits as one worker.
func TestAdamUpdateParallel(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		n := 3*minParallelAdam + 77
		var results [][]float32
		for _, threads := range []int{1, 2, 3} {
			SetThreads(threads)
			p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
			r := rand.New(rand.NewPCG(41, 42))
			uniform(r, p)
			for step := 1; step <= 3; step++ {
				uniform(r, g)
				AdamUpdate(p, g, m, v, 1e-3, 0.9, 0.999, 1e-7, 0.01, step)
			}
			results = append(results, p)
		}
		for k := 1; k < len(results); k++ {
			for i := range results[0] {
				if math.Float32bits(results[k][i]) != math.Float32bits(results[0][i]) {
					t.Fatalf("%d workers: p[%d] = %v, one worker gave %v", k+1, i, results[k][i], results[0][i])
				}
			}
		}
	})
}

// TestAdamUpdates: updating several parameters in one call gives, to the bit, what updating
// each on its own gives, on every tier and with 1, 2 and 3 workers, for parameters that are
// empty, shorter than a vector, cut by a part boundary or larger than a part; and writes
// nothing outside them (guards on both sides of every slice).
func TestAdamUpdates(t *testing.T) {
	defer SetThreads(0)
	forEachTier(t, func(t *testing.T) {
		for _, lens := range [][]int{{}, {0}, {5}, {100352, 128, 1280, 10}, {3, 0, minParallelAdam + 9, 17, 2*minParallelAdam - 1}} {
			for _, threads := range []int{1, 2, 3} {
				SetThreads(threads)
				r := rand.New(rand.NewPCG(45, 46))
				var guards [4][]*guarded
				var sl [4][][]float32   // p, g, m, v of each parameter, updated together
				var want [3][][]float32 // p, m, v of each, updated one by one
				for _, n := range lens {
					for k := range guards {
						g := newGuarded(n, 1)
						guards[k] = append(guards[k], g)
						sl[k] = append(sl[k], g.s())
						uniform(r, g.s())
					}
					for i := range sl[3][len(sl[3])-1] { // v >= 0
						sl[3][len(sl[3])-1][i] *= sl[3][len(sl[3])-1][i]
					}
					for k, from := range []int{0, 2, 3} {
						want[k] = append(want[k], slices.Clone(sl[from][len(sl[from])-1]))
					}
				}
				for step := 1; step <= 2; step++ {
					for i := range lens {
						AdamUpdate(want[0][i], sl[1][i], want[1][i], want[2][i], 1e-3, 0.9, 0.999, 1e-7, 0.01, step)
					}
					AdamUpdates(sl[0], sl[1], sl[2], sl[3], 1e-3, 0.9, 0.999, 1e-7, 0.01, step)
				}
				what := fmt.Sprintf("lengths %v, %d threads", lens, threads)
				for k, from := range []int{0, 2, 3} {
					for i := range lens {
						for j, x := range sl[from][i] {
							if math.Float32bits(x) != math.Float32bits(want[k][i][j]) {
								t.Fatalf("%s: slice %d of parameter %d, element %d = %v, one by one %v", what, from, i, j, x, want[k][i][j])
							}
						}
					}
				}
				for k := range guards {
					for _, g := range guards[k] {
						g.check(t, what)
					}
				}
			}
		}
	})
}

// TestAdamUpdatesChecksArguments: lists or slices of different lengths, and a step below 1,
// panic with a message that names the function and what is wrong.
func TestAdamUpdatesChecksArguments(t *testing.T) {
	s := func(n int) []float32 { return make([]float32, n) }
	for _, c := range []struct {
		name, want string
		f          func()
	}{
		{"short list", "AdamUpdates: len(ms)", func() {
			AdamUpdates([][]float32{s(3)}, [][]float32{s(3)}, nil, [][]float32{s(3)}, 1e-3, 0.9, 0.999, 1e-7, 0, 1)
		}},
		{"short slice", "AdamUpdates: parameter 1", func() {
			AdamUpdates([][]float32{s(3), s(4)}, [][]float32{s(3), s(4)}, [][]float32{s(3), s(4)}, [][]float32{s(3), s(2)}, 1e-3, 0.9, 0.999, 1e-7, 0, 1)
		}},
		{"step 0", "AdamUpdates: step = 0", func() {
			AdamUpdates([][]float32{s(3)}, [][]float32{s(3)}, [][]float32{s(3)}, [][]float32{s(3)}, 1e-3, 0.9, 0.999, 1e-7, 0, 0)
		}},
		{"AdamUpdate short g", "AdamUpdate: parameter 0", func() { AdamUpdate(s(3), s(2), s(3), s(3), 1e-3, 0.9, 0.999, 1e-7, 0, 1) }},
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, c.want) {
					t.Errorf("%s: panic %q, want one containing %q", c.name, msg, c.want)
				}
			}()
			c.f()
		}()
	}
}

// TestArgmaxRowsAgainstGo checks every tier's ArgmaxRows against the Go loop on rows built
// to catch the corner cases: ties (the first wins), -0 and +0 (equal), infinities, rows of
// -Inf alone (the tail's filler is -Inf too), NaN anywhere (the first NaN wins, even after
// the maximum), and every tail length, with guards around dst.
func TestArgmaxRowsAgainstGo(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(37, 38))
		special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), nan32, 1, -1}
		for cols := 1; cols <= 70; cols++ {
			const rows = 40
			x := make([]float32, rows*cols)
			for i := 0; i < rows; i++ {
				row := x[i*cols : (i+1)*cols]
				switch i % 5 {
				case 0: // random values
					uniform(r, row)
				case 1: // few distinct values: ties
					for j := range row {
						row[j] = float32(r.IntN(3))
					}
				case 2: // special values
					for j := range row {
						row[j] = special[r.IntN(len(special))]
					}
				case 3: // all -Inf
					for j := range row {
						row[j] = float32(math.Inf(-1))
					}
				case 4: // random values, one NaN after the maximum or before it
					uniform(r, row)
					row[r.IntN(cols)] = nan32
				}
			}
			want := make([]int32, rows)
			argmaxRowsGeneric(want, x, cols)
			g := newGuardedInt32(rows)
			ArgmaxRows(g.s(), x, rows, cols)
			g.check(t, "ArgmaxRows")
			for i, w := range want {
				if got := g.s()[i]; got != w {
					t.Fatalf("cols %d, row %d %v: index %d, want %d", cols, i, x[i*cols:(i+1)*cols], got, w)
				}
			}
		}
	})
}

// guardedInt32 is a slice of int32 between guard values.
type guardedInt32 struct{ buf []int32 }

func newGuardedInt32(n int) guardedInt32 {
	g := guardedInt32{make([]int32, n+2*guardLen)}
	for i := range g.buf {
		g.buf[i] = -7
	}
	return g
}

func (g guardedInt32) s() []int32 { return g.buf[guardLen : len(g.buf)-guardLen : len(g.buf)-guardLen] }

func (g guardedInt32) check(t *testing.T, what string) {
	t.Helper()
	for i, v := range g.buf {
		if (i < guardLen || i >= len(g.buf)-guardLen) && v != -7 {
			t.Fatalf("%s: guard element %d changed to %d", what, i, v)
		}
	}
}

// TestAdamUpdateZeros: without weight decay, a parameter whose g, m and v are all +0 and whose
// p is finite (the weight of a pixel black in every image) comes out of an Adam step
// unchanged, to the bit, on every tier; the others, -0 in m or v, a nonzero or denormal g, an
// Inf or NaN in p, alone among +0s or mixed, are updated as by the generic tier (within
// rounding; zeros with their sign, NaN as NaN), on every tail length, with and without weight
// decay.
func TestAdamUpdateZeros(t *testing.T) {
	before := ISA()
	defer SetISA(before)
	r := rand.New(rand.NewPCG(43, 44))
	negZero := float32(math.Copysign(0, -1))
	// special makes element i one that must be updated; -1 picks at random.
	special := func(kind, i int, p, g, m, v []float32) {
		if kind < 0 {
			kind = r.IntN(6)
		}
		switch kind {
		case 0:
			g[i], m[i], v[i] = r.Float32()-0.5, r.Float32()-0.5, r.Float32()
		case 1:
			m[i] = negZero
		case 2:
			v[i] = negZero
		case 3:
			p[i] = float32(math.Inf(1))
		case 4:
			p[i] = float32(math.NaN())
		case 5:
			g[i] = 1e-40 // a denormal gradient
		}
	}
	for _, n := range []int{1, 7, 8, 9, 16, 17, 31, 40, 100} {
		// Random mixtures, then each kind alone in the middle of a run of +0s.
		for kind := -1; kind < 6; kind++ {
			for _, wd := range []float32{0, 0.01} {
				p, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
				uniform(r, p)
				if kind < 0 {
					for i := range g {
						if r.IntN(2) == 0 {
							special(-1, i, p, g, m, v)
						} // otherwise g, m and v are +0
					}
				} else {
					special(kind, n/2, p, g, m, v)
				}
				step := 1 + r.IntN(50)
				run := func(tier string) (pp, mm, vv []float32) {
					if err := SetISA(tier); err != nil {
						t.Fatal(err)
					}
					pp, mm, vv = append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
					AdamUpdate(pp, g, mm, vv, 1e-3, 0.9, 0.999, 1e-7, wd, step)
					return pp, mm, vv
				}
				wp, wm, wv := run("generic")
				for _, tier := range Available() {
					gp, gm, gv := run(tier)
					for i := range gp {
						unchanged := g[i] == 0 && m[i] == 0 && v[i] == 0 && !math.Signbit(float64(m[i])) &&
							!math.Signbit(float64(v[i])) && !math.IsInf(float64(p[i]), 0) && p[i] == p[i]
						for j, c := range [][3]float32{{gp[i], wp[i], p[i]}, {gm[i], wm[i], m[i]}, {gv[i], wv[i], v[i]}} {
							got, want, in := c[0], c[1], c[2]
							var ok bool
							switch {
							case unchanged && wd == 0:
								ok = math.Float32bits(got) == math.Float32bits(in)
							case want != want:
								ok = got != got
							case want == 0:
								ok = math.Float32bits(got) == math.Float32bits(want)
							default:
								ok = math.Abs(float64(got-want)) <= 1e-6*math.Abs(float64(want))
							}
							if !ok {
								t.Fatalf("%s n=%d wd=%v: element %d (p %v, g %v, m %v, v %v): %s = %v, generic %v",
									tier, n, wd, i, p[i], g[i], m[i], v[i], [3]string{"p", "m", "v"}[j], got, want)
							}
						}
					}
				}
			}
		}
	}
}
