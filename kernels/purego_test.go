//go:build purego || !amd64

package kernels

import "testing"

func TestNoAssemblyTiers(t *testing.T) {
	if av := Available(); len(av) != 1 || av[0] != "generic" {
		t.Errorf("Available() = %v on a build without assembly, want [generic]", av)
	}
	for _, name := range []string{"avx512", "avx2"} {
		if err := SetISA(name); err == nil {
			t.Errorf("SetISA(%q) succeeded on a build without assembly", name)
		}
	}
}
