// Command vec generates the vector kernels of package kernels (BLAS level 1 now; exp,
// softmax and activations to follow), for the AVX-512 and AVX2 tiers.
//
// `make generate` at the top of the repository runs it through go generate.
package main

//go:generate go run . -out ../../kernels/vec_amd64.s -stubs ../../kernels/vec_stubs_amd64.go -pkg kernels

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/lanesml/lanes/asm/internal/simd"
)

func main() {
	ConstraintExpr("!purego")
	simd.DeclareTables()
	for _, t := range simd.Tiers {
		axpy(t)
		addBias(t)
		sumRows(t)
		argmaxRows(t)
		scale(t)
		dot(t)
		blas1AndActivations(t)
		softmaxStats(t)
		softmaxSmall(t, false)
		softmaxSmall(t, true)
		rowsAffine(t)
		adam(t)
		bytesToFloat32(t)
	}
	prefetchLines()
	Generate()
	simd.CheckOutput()
}
