package kernels

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/klauspost/cpuid/v2"
)

// tier is one complete set of kernel implementations and the CPU features it needs.
type tier struct {
	name     string
	requires []cpuid.FeatureID // every feature the tier's code uses, checked before it is offered

	axpy  func(alpha float32, x, y []float32)
	scale func(alpha float32, x []float32)
	dot   func(x, y []float32) float32
	gemm  *gemmConfig

	// addBias and sumRows take rows rows of len(bias) or len(dst) floats in one call (a
	// loop of axpy calls paid a call per row: most of the time for the MLP's 10 classes).
	addBias func(x, bias []float32, rows int)
	sumRows func(dst, x []float32, rows int) // adds the rows to dst

	argmaxRows func(dst []int32, x []float32, cols int) // len(dst) rows, cols >= 1

	// bytesToFloat32 converts whole vectors: len(dst) is a multiple of 16, the widest tier's
	// vector, and the exported function converts the rest in Go.
	bytesToFloat32 func(dst []float32, src []byte, scale float32)

	// prefetchLines asks for the cache lines of b without waiting for them; nil where the
	// tier cannot (Go has no prefetch), and the gather then touches its rows instead.
	prefetchLines func(b []byte)

	exp, relu, sigmoid, tanh, gelu                            func(dst, src []float32)
	reluBackward, sigmoidBackward, tanhBackward, geluBackward func(dst, grad, x []float32)
	softmaxStats                                              func(stats, dst, src []float32, cols int)
	softmaxSmall                                              func(dst, src []float32, cols int, spill bool) // cols <= smallCols
	softmaxXentSmall                                          func(dst, src, stats []float32, cols int, spill bool, rows float64)
	smallCols                                                 int // 0: no softmaxSmall
	rowsAffine                                                func(dst, src, coef []float32, cols int)
	adam                                                      func(p, g, m, v []float32, h *[9]float32)

	peak      func(iters int) // see MeasurePeak
	peakFlops float64         // floating-point operations per iteration of peak
}

// genericTier is the pure-Go reference, available everywhere.
var genericTier = &tier{
	name:  "generic",
	axpy:  axpyGeneric,
	scale: scaleGeneric,
	dot:   dotGeneric,
	gemm:  genericGemm,

	addBias: addBiasGeneric, sumRows: sumRowsGeneric, argmaxRows: argmaxRowsGeneric,

	bytesToFloat32: bytesToFloat32Generic,

	exp: expGeneric, relu: reluGeneric, sigmoid: sigmoidGeneric, tanh: tanhGeneric, gelu: geluGeneric,
	reluBackward: reluBackwardGeneric, sigmoidBackward: sigmoidBackwardGeneric,
	tanhBackward: tanhBackwardGeneric, geluBackward: geluBackwardGeneric,
	softmaxStats: softmaxStatsGeneric, rowsAffine: rowsAffineGeneric, adam: adamGeneric,
	peak: peakGeneric, peakFlops: 8 * 2,
}

// allTiers is every tier this build contains, best first: the assembly tiers of this
// GOARCH (none with -tags purego), then generic.
var allTiers = append(asmTiers, genericTier)

// tierNames is every tier name lanes knows, on any build, best first.
var tierNames = []string{"avx512", "avx2", "generic"}

// usable reports whether every feature a tier requires is present; has reports one
// feature (cpuid.CPU.Supports on a real machine, a table in tests).
func usable(t *tier, has func(cpuid.FeatureID) bool) bool {
	for _, f := range t.requires {
		if !has(f) {
			return false
		}
	}
	return true
}

func cpuHas(f cpuid.FeatureID) bool { return cpuid.CPU.Supports(f) }

// available is the usable tiers of this machine and build, best first. cpuid only
// reports AVX and AVX-512 features when the OS saves their registers (XCR0).
var available = func() []*tier {
	var ts []*tier
	for _, t := range allTiers {
		if usable(t, cpuHas) {
			ts = append(ts, t)
		}
	}
	return ts
}()

// active is the tier the exported functions call.
var active atomic.Pointer[tier]

func init() {
	active.Store(available[0])
	if name, ok := os.LookupEnv("LANES_ISA"); ok && name != "" {
		if err := SetISA(name); err != nil {
			fmt.Fprintf(os.Stderr, "lanes: ignoring LANES_ISA: %v; using %s\n", err, ISA())
		}
	}
}

// impl returns the tier in use.
func impl() *tier { return active.Load() }

// ISA returns the name of the tier in use: "avx512", "avx2" or "generic".
func ISA() string { return impl().name }

// Available returns the tiers this CPU and build can run, best first; "generic" is always
// last.
func Available() []string {
	names := make([]string, len(available))
	for i, t := range available {
		names[i] = t.name
	}
	return names
}

// SetISA switches every kernel to the named tier. It returns an error, and changes nothing,
// when the name is unknown or the tier cannot run on this CPU or in this build. It is safe
// to call while kernels run on other goroutines; calls already under way finish on the old
// tier.
func SetISA(name string) error {
	for _, t := range available {
		if t.name == name {
			active.Store(t)
			return nil
		}
	}
	known := false
	for _, n := range tierNames {
		known = known || n == name
	}
	avail := strings.Join(Available(), ", ")
	if !known {
		return fmt.Errorf("kernels: unknown ISA %q (valid: %s; available here: %s)",
			name, strings.Join(tierNames, ", "), avail)
	}
	return fmt.Errorf("kernels: ISA %q is not available on this CPU or build %s (available: %s)",
		name, buildDesc(), avail)
}

func buildDesc() string {
	if len(asmTiers) == 0 {
		return "(" + runtime.GOARCH + ", no assembly: purego or non-amd64)"
	}
	return "(" + runtime.GOARCH + ", " + cpuid.CPU.BrandName + ")"
}

var threads atomic.Int64

// SetThreads sets how many goroutines parallel kernels may use; n <= 0 means GOMAXPROCS.
func SetThreads(n int) { threads.Store(int64(n)) }

// Threads returns the worker count parallel kernels use now.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}
