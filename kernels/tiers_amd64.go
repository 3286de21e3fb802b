//go:build !purego

package kernels

import "github.com/klauspost/cpuid/v2"

// The feature lists name every instruction set the generated code of a tier uses (each
// function's "Requires:" line in the .s files; TestGuardsCoverGeneratedCode checks them).
var (
	avx512Tier = &tier{
		name: "avx512",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.BMI1, cpuid.BMI2,
			cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512DQ, cpuid.AVX512BW},
		axpy:  axpyAVX512,
		scale: scaleAVX512,
		dot:   dotAVX512,
		gemm:  avx512Gemm,

		addBias: addBiasAVX512, sumRows: sumRowsAVX512, argmaxRows: argmaxRowsAVX512,

		bytesToFloat32: bytesToFloat32AVX512, prefetchLines: prefetchLines,

		exp: expAVX512, relu: reluAVX512, sigmoid: sigmoidAVX512, tanh: tanhAVX512, gelu: geluAVX512,
		reluBackward: reluBackwardAVX512, sigmoidBackward: sigmoidBackwardAVX512,
		tanhBackward: tanhBackwardAVX512, geluBackward: geluBackwardAVX512,
		softmaxStats: softmaxStatsAVX512, softmaxSmall: softmaxSmallAVX512, softmaxXentSmall: softmaxXentSmallAVX512, smallCols: 32,
		rowsAffine: rowsAffineAVX512, adam: adamAVX512,
		peak: fmaPeakAVX512, peakFlops: 12 * 16 * 2,
	}
	avx2Tier = &tier{
		name:     "avx2",
		requires: []cpuid.FeatureID{cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.BMI1, cpuid.BMI2},
		axpy:     axpyAVX2,
		scale:    scaleAVX2,
		dot:      dotAVX2,
		gemm:     avx2Gemm,

		addBias: addBiasAVX2, sumRows: sumRowsAVX2, argmaxRows: argmaxRowsAVX2,

		bytesToFloat32: bytesToFloat32AVX2, prefetchLines: prefetchLines,

		exp: expAVX2, relu: reluAVX2, sigmoid: sigmoidAVX2, tanh: tanhAVX2, gelu: geluAVX2,
		reluBackward: reluBackwardAVX2, sigmoidBackward: sigmoidBackwardAVX2,
		tanhBackward: tanhBackwardAVX2, geluBackward: geluBackwardAVX2,
		softmaxStats: softmaxStatsAVX2, softmaxSmall: softmaxSmallAVX2, softmaxXentSmall: softmaxXentSmallAVX2, smallCols: 16,
		rowsAffine: rowsAffineAVX2, adam: adamAVX2,
		peak: fmaPeakAVX2, peakFlops: 12 * 8 * 2,
	}
)

var asmTiers = []*tier{avx512Tier, avx2Tier}

// prefetchLines is prefetchLinesAVX2 on a slice (a prefetch never faults, but the address
// stays inside b all the same).
func prefetchLines(b []byte) {
	if len(b) > 0 {
		prefetchLinesAVX2(&b[0], len(b))
	}
}
