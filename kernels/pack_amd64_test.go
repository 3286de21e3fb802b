//go:build !purego

package kernels

import (
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// TestPackRows32 checks the avx512 tier's packRows, whose assembly uses AVX only, on every
// CPU with AVX2, not only where that tier runs.
func TestPackRows32(t *testing.T) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2) {
		t.Skip("no AVX2")
	}
	checkPackRows(t, "packRows32AVX2Checked", avx512NR, packRows32AVX2Checked)
}
