package kernels

import "time"

// MeasurePeak returns the floating-point rate, in GFLOPS, that the tier in use reaches on
// one core with multiply-adds on registers only: the ceiling its matrix multiply is measured
// against. It runs for about d and reports the best of a few rounds.
func MeasurePeak(d time.Duration) float64 {
	t := impl()
	iters := 1 << 12
	best := 0.0
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		start := time.Now()
		t.peak(iters)
		el := time.Since(start)
		if el < time.Millisecond {
			iters *= 4
			continue
		}
		best = max(best, float64(iters)*t.peakFlops/el.Seconds()/1e9)
	}
	return best
}

// peakGeneric is the generic tier's register-only loop: eight independent chains of a
// multiply and an add, which Go compiles to scalar instructions.
func peakGeneric(iters int) {
	a0, a1, a2, a3, a4, a5, a6, a7 := peakSeed, peakSeed, peakSeed, peakSeed, peakSeed, peakSeed, peakSeed, peakSeed
	const b, c = 1.0000001, 1e-7
	for i := 0; i < iters; i++ {
		a0, a1, a2, a3 = a0*b+c, a1*b+c, a2*b+c, a3*b+c
		a4, a5, a6, a7 = a4*b+c, a5*b+c, a6*b+c, a7*b+c
	}
	peakSink = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}

// peakSeed and peakSink keep the compiler from folding the generic loop away: it cannot
// know the seed, and the result is stored where it could be read.
var peakSeed float32 = 1

//lint:ignore U1000 written so that the loop's result is used
var peakSink float32
