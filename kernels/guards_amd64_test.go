//go:build !purego

package kernels

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/cpuid/v2"
)

// avoFeatures maps the instruction-set names avo writes on "// Requires:" lines to cpuid's.
// baseline lists what every amd64 CPU has (GOAMD64=v1), which needs no guard.
var avoFeatures = map[string]cpuid.FeatureID{
	"AVX": cpuid.AVX, "AVX2": cpuid.AVX2, "FMA3": cpuid.FMA3, "BMI": cpuid.BMI1, "BMI2": cpuid.BMI2,
	"AVX512F": cpuid.AVX512F, "AVX512VL": cpuid.AVX512VL, "AVX512DQ": cpuid.AVX512DQ,
	"AVX512BW": cpuid.AVX512BW, "AVX512VNNI": cpuid.AVX512VNNI,
	"SSE3": cpuid.SSE3, "SSSE3": cpuid.SSSE3, "SSE4.1": cpuid.SSE4, "SSE4.2": cpuid.SSE42,
	"POPCNT": cpuid.POPCNT,
}

var baseline = map[string]bool{"SSE": true, "SSE2": true, "CMOV": true, "MMX+": true}

// generatedAssembly returns the source of every generated .s file, by file name.
func generatedAssembly(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("*_amd64.s")
	if len(files) == 0 {
		t.Fatal("no generated assembly found")
	}
	srcs := map[string]string{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		srcs[f] = string(src)
	}
	return srcs
}

// TestGuardsCoverGeneratedCode reads the instruction sets avo recorded for every generated
// function and checks that the dispatch guard of the function's tier requires each one: a
// guard that forgot one would pass every test here and die with SIGILL on an older CPU.
func TestGuardsCoverGeneratedCode(t *testing.T) {
	text := regexp.MustCompile(`(?m)^// Requires: (.*)\nTEXT ·(\w+)\(SB\)`)
	tiers := map[string]*tier{"AVX512": avx512Tier, "AVX2": avx2Tier}
	checked := 0
	for f, src := range generatedAssembly(t) {
		for _, m := range text.FindAllStringSubmatch(src, -1) {
			fn := m[2]
			var tr *tier
			for suffix, candidate := range tiers {
				if strings.HasSuffix(fn, suffix) {
					tr = candidate
				}
			}
			if tr == nil {
				t.Errorf("%s: %s has no tier suffix", f, fn)
				continue
			}
			for _, isa := range strings.Split(m[1], ", ") {
				if baseline[isa] {
					continue
				}
				id, ok := avoFeatures[isa]
				if !ok {
					t.Errorf("%s: %s requires %s, which this test cannot map to a cpuid feature", f, fn, isa)
				} else if !slices.Contains(tr.requires, id) {
					t.Errorf("%s: %s requires %s, but the %s tier's guard does not check it", f, fn, isa, tr.name)
				}
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("found no '// Requires:' lines in the generated assembly")
	}
}

// TestAVX2CodeStaysInVEXRegisters checks that no AVX2-tier function touches vector registers
// 16-31: those exist only with AVX-512 (EVEX encoding), and avo's register allocator, which
// does not know the tier, hands them out when a function needs more than 16.
func TestAVX2CodeStaysInVEXRegisters(t *testing.T) {
	text := regexp.MustCompile(`(?s)TEXT ·(\w+AVX2)\(SB\)(.*?)\n\s*RET\n`)
	high := regexp.MustCompile(`\b[XYZ](1[6-9]|2[0-9]|3[01])\b`)
	checked := 0
	for f, src := range generatedAssembly(t) {
		for _, m := range text.FindAllStringSubmatch(src, -1) {
			if r := high.FindString(m[2]); r != "" {
				t.Errorf("%s: %s uses %s, an AVX-512 register", f, m[1], r)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("found no AVX2 functions")
	}
}

// TestGemmTilesMatchGenerator checks the tile sizes sgemm_amd64.go declares against the
// ones the generator wrote into each kernel's doc comment ("C[6 x 16]") in the stubs.
func TestGemmTilesMatchGenerator(t *testing.T) {
	stubs, err := os.ReadFile("sgemm_stubs_amd64.go")
	if err != nil {
		t.Fatal(err)
	}
	src := string(stubs)
	doc := regexp.MustCompile(`(?m)^// tiles tiles of C\[(\d+) x (\d+)\].*\n(?://.*\n)*func (\w+)\(`)
	want := map[string][2]int{
		"sgemmKernelAVX512":      {avx512MR, avx512NR},
		"sgemmKernelShortAVX512": {avx512ShortMR, avx512NR},
		"sgemmKernelAVX2":        {avx2MR, avx2NR},
		"sgemmKernelShortAVX2":   {avx2ShortMR, avx2NR},
	}
	found := 0
	for _, m := range doc.FindAllStringSubmatch(src, -1) {
		w, ok := want[m[3]]
		if !ok {
			t.Errorf("the generator wrote kernel %s, which sgemm_amd64.go does not know", m[3])
			continue
		}
		found++
		if got := [2]int{atoi(t, m[1]), atoi(t, m[2])}; got != w {
			t.Errorf("%s computes %d x %d tiles; sgemm_amd64.go says %d x %d", m[3], got[0], got[1], w[0], w[1])
		}
	}
	if found != len(want) {
		t.Errorf("found %d of the %d kernels in sgemm_stubs_amd64.go", found, len(want))
	}
}

func atoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
