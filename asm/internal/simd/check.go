package simd

import (
	"flag"
	"fmt"
	"os"
	"regexp"
)

var (
	avx2Func = regexp.MustCompile(`(?s)TEXT ·(\w+AVX2)\(SB\)(.*?)\n\s*RET\n`)
	evexOnly = regexp.MustCompile(`\b[XYZ](1[6-9]|2[0-9]|3[01])\b`)
)

// CheckOutput reads the assembly that Generate just wrote (its -out flag) and exits with
// an error if an AVX2 function uses vector registers 16-31, which exist only with AVX-512:
// avo's allocator hands them out when a function needs more than 16 registers, and the
// result would die with SIGILL on an AVX2 CPU. Call it after Generate. The rejected file
// is moved aside (to -out with ".rejected" appended), so that the package stops building
// instead of keeping code that only some CPUs can run.
func CheckOutput() {
	out := flag.Lookup("out")
	if out == nil || out.Value.String() == "" {
		return
	}
	src, err := os.ReadFile(out.Value.String())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bad := false
	for _, m := range avx2Func.FindAllStringSubmatch(string(src), -1) {
		if r := evexOnly.FindString(m[2]); r != "" {
			fmt.Fprintf(os.Stderr, "%s: %s uses %s, an AVX-512 register: lower its unroll\n", out.Value, m[1], r)
			bad = true
		}
	}
	if bad {
		rejected := out.Value.String() + ".rejected"
		if err := os.Rename(out.Value.String(), rejected); err != nil {
			fmt.Fprintln(os.Stderr, err)
		} else {
			fmt.Fprintf(os.Stderr, "moved it to %s; git checkout restores the committed one\n", rejected)
		}
		os.Exit(1)
	}
}
