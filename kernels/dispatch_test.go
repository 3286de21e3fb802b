package kernels

import (
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/cpuid/v2"
)

func TestUsableTruthTable(t *testing.T) {
	tr := &tier{name: "x", requires: []cpuid.FeatureID{cpuid.AVX2, cpuid.FMA3}}
	cases := []struct {
		have []cpuid.FeatureID
		want bool
	}{
		{nil, false},
		{[]cpuid.FeatureID{cpuid.AVX2}, false},
		{[]cpuid.FeatureID{cpuid.FMA3}, false},
		{[]cpuid.FeatureID{cpuid.AVX2, cpuid.FMA3}, true},
		{[]cpuid.FeatureID{cpuid.AVX2, cpuid.FMA3, cpuid.AVX512F}, true},
	}
	for _, c := range cases {
		has := func(f cpuid.FeatureID) bool { return slices.Contains(c.have, f) }
		if got := usable(tr, has); got != c.want {
			t.Errorf("usable(requires AVX2+FMA3, have %v) = %v, want %v", c.have, got, c.want)
		}
	}
	if !usable(genericTier, func(cpuid.FeatureID) bool { return false }) {
		t.Error("generic tier needs no feature but is reported unusable")
	}
}

func TestAvailable(t *testing.T) {
	av := Available()
	if len(av) == 0 || av[len(av)-1] != "generic" {
		t.Fatalf("Available() = %v, want generic last", av)
	}
	if ISA() != av[0] && os.Getenv("LANES_ISA") == "" {
		t.Errorf("ISA() = %q, want the best available tier %q", ISA(), av[0])
	}
	for _, name := range av {
		if !slices.Contains(tierNames, name) {
			t.Errorf("Available() has unknown tier %q", name)
		}
	}
}

func TestSetISA(t *testing.T) {
	before := ISA()
	defer SetISA(before)
	for _, name := range tierNames {
		err := SetISA(name)
		if slices.Contains(Available(), name) {
			if err != nil || ISA() != name {
				t.Errorf("SetISA(%q) = %v, ISA() = %q", name, err, ISA())
			}
		} else if err == nil {
			t.Errorf("SetISA(%q) succeeded, but %q is not in Available() = %v", name, name, Available())
		}
	}
	SetISA(before)
	err := SetISA("bogus")
	if err == nil || !strings.Contains(err.Error(), "avx512, avx2, generic") {
		t.Errorf("SetISA(bogus) = %v, want an error naming the valid tiers", err)
	}
	if ISA() != before {
		t.Errorf("a failed SetISA changed the tier to %q", ISA())
	}
}

// TestLanesISAEnv runs this test binary again with LANES_ISA set and reads the tier the
// child chose from its output.
func TestLanesISAEnv(t *testing.T) {
	if os.Getenv("LANES_ISA_CHILD") == "1" {
		os.Stdout.WriteString("isa=" + ISA() + "\n")
		return
	}
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	best := Available()[0]
	run := func(env string) (stdout, stderr string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLanesISAEnv$")
		cmd.Env = append(os.Environ(), "LANES_ISA_CHILD=1", "LANES_ISA="+env)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); errors.Is(err, syscall.ENOEXEC) {
			// The binary runs under an emulator (go test -exec qemu-aarch64) that the
			// kernel does not know how to start by itself.
			t.Skipf("cannot start this test binary again: %v", err)
		} else if err != nil {
			t.Fatalf("child with LANES_ISA=%s: %v\n%s%s", env, err, out.String(), errb.String())
		}
		return out.String(), errb.String()
	}
	for _, name := range Available() {
		if out, _ := run(name); !strings.Contains(out, "isa="+name+"\n") {
			t.Errorf("LANES_ISA=%s: child output %q", name, out)
		}
	}
	out, errOut := run("bogus")
	if !strings.Contains(out, "isa="+best+"\n") {
		t.Errorf("LANES_ISA=bogus: child chose %q, want the best tier %s", out, best)
	}
	if !strings.Contains(errOut, `"bogus"`) || !strings.Contains(errOut, "avx512, avx2, generic") {
		t.Errorf("LANES_ISA=bogus: stderr %q does not warn with the valid tiers", errOut)
	}
}

func TestThreads(t *testing.T) {
	defer SetThreads(0)
	SetThreads(3)
	if Threads() != 3 {
		t.Errorf("SetThreads(3): Threads() = %d", Threads())
	}
	SetThreads(-1)
	if Threads() < 1 {
		t.Errorf("SetThreads(-1): Threads() = %d, want GOMAXPROCS", Threads())
	}
}

func TestMeasurePeak(t *testing.T) {
	forEachTier(t, func(t *testing.T) {
		if p := MeasurePeak(20 * time.Millisecond); !(p > 0.1) {
			t.Errorf("MeasurePeak = %v GFLOPS", p)
		}
	})
}
