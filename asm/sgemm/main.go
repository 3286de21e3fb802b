// Command sgemm generates the SGEMM micro-kernels of package kernels for the AVX-512 and
// AVX2 tiers. `make generate` at the top of the repository runs it through go generate.
package main

//go:generate go run . -out ../../kernels/sgemm_amd64.s -stubs ../../kernels/sgemm_stubs_amd64.go -pkg kernels

import (
	. "github.com/mmcloughlin/avo/build"

	"github.com/lanesml/lanes/asm/internal/simd"
)

func main() {
	ConstraintExpr("!purego")
	simd.DeclareTables()
	for _, s := range shapes {
		microKernel(s)
	}
	for _, t := range simd.Tiers {
		fmaPeak(t)
	}
	for _, w := range []int{16, 32} {
		packCopy(w)
		packRows(w)
	}
	for _, rows := range []int{4, 6, 8} {
		packTranspose(rows)
	}
	sparseMasks()
	sparseMasksU8()
	transposeBytes()
	finiteRows()
	for _, t := range simd.Tiers {
		sparseKernel(t, false)
		sparseKernel(t, true)
	}
	Generate()
	simd.CheckOutput()
}
