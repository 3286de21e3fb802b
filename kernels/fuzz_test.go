package kernels

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzSgemm checks shapes, transposes, strides and scalars against the float64 reference on
// every tier (small-integer data, so results must match exactly). Bits 4-5 of scalars make
// A mostly zeros, so that wide enough products take the sparse path.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(32), uint8(10), uint8(128), false, false, uint8(0), uint8(0), uint8(0), uint8(0), uint64(1))
	f.Add(uint8(7), uint8(17), uint8(3), true, true, uint8(1), uint8(2), uint8(3), uint8(5), uint64(2))
	f.Add(uint8(0), uint8(5), uint8(0), true, false, uint8(0), uint8(1), uint8(0), uint8(2), uint64(3))
	f.Add(uint8(32), uint8(128), uint8(200), false, false, uint8(0), uint8(0), uint8(0), uint8(0x20), uint64(4))
	f.Add(uint8(200), uint8(65), uint8(32), true, false, uint8(1), uint8(0), uint8(2), uint8(0x35), uint64(5))
	f.Fuzz(func(t *testing.T, m, n, k uint8, ta, tb bool, padA, padB, padC, scalars uint8, seed uint64) {
		alphas := []float32{1, -0.5, 0, 2}
		betas := []float32{0, 1, 0.25, -1}
		zeros := []float64{0, 0.5, 0.85, 0.97}
		tc := gemmCase{transA: ta, transB: tb, m: int(m), n: int(n), k: int(k),
			alpha: alphas[scalars%4], beta: betas[scalars/4%4], zeros: zeros[scalars/16%4],
			padA: int(padA % 8), padB: int(padB % 8), padC: int(padC % 8)}
		forEachTier(t, func(t *testing.T) {
			checkGemmCase(t, rand.New(rand.NewPCG(seed, 0)), tc)
		})
	})
}

// FuzzSoftmaxExp runs Softmax, LogSoftmax, SoftmaxCrossEntropy and Exp on arbitrary float
// bit patterns on every tier and compares them with the generic tier: NaN where it has NaN,
// and within the documented accuracy elsewhere.
func FuzzSoftmaxExp(f *testing.F) {
	seed := func(vals ...float32) []byte {
		b := []byte{byte(len(vals))}
		for _, v := range vals {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	inf := float32(math.Inf(1))
	f.Add(seed(1, 2, 3, 4, 5, 6, 7, 8, 9, 10))
	f.Add(seed(-inf, 0, inf, float32(math.NaN()), 1e30, -1e30, 88.8, -87.5))
	f.Add(seed(0))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 1 {
			return
		}
		cols := int(data[0]%16) + 1
		var x []float32
		for b := data[1:]; len(b) >= 4; b = b[4:] {
			x = append(x, math.Float32frombits(binary.LittleEndian.Uint32(b)))
		}
		rows := len(x) / cols
		x = x[:rows*cols]
		labels := make([]int32, rows)
		for i := range labels {
			labels[i] = int32(i % cols)
		}
		ref := func() (sm, lsm, grad, ex []float32, loss float32) {
			sm, lsm, grad, ex = make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
			Softmax(sm, x, rows, cols)
			LogSoftmax(lsm, x, rows, cols)
			loss = SoftmaxCrossEntropy(grad, x, labels, rows, cols)
			Exp(ex, x)
			return
		}
		before := ISA()
		defer SetISA(before)
		SetISA("generic")
		wsm, wlsm, wgrad, wex, wloss := ref()
		for _, tier := range Available() {
			SetISA(tier)
			sm, lsm, grad, ex, loss := ref()
			same := func(what string, got, want []float32, abs, rel float64) {
				for i := range got {
					g, w := float64(got[i]), float64(want[i])
					if math.IsNaN(g) != math.IsNaN(w) {
						t.Fatalf("%s %s[%d] of %v: %v, generic %v", tier, what, i, x[i], g, w)
					}
					if w == g || math.IsNaN(w) || (what == "exp" && x[i] < -87.3 && g <= 1.3e-38) {
						continue
					}
					if math.Abs(g-w) > math.Max(abs, rel*math.Abs(w)) {
						t.Fatalf("%s %s[%d] of %v: %v, generic %v", tier, what, i, x[i], g, w)
					}
				}
			}
			same("softmax", sm, wsm, 1e-6, 0)
			same("logsoftmax", lsm, wlsm, 1e-6, 2e-6)
			same("grad", grad, wgrad, 1e-6, 0)
			same("exp", ex, wex, 0, 3e-7)
			same("loss", []float32{loss}, []float32{wloss}, 1e-6, 2e-6)
		}
	})
}
