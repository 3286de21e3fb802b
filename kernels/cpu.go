package kernels

import "github.com/klauspost/cpuid/v2"

// Feature is one CPU capability lanes cares about and whether this machine (and its OS)
// offers it.
type Feature struct {
	Name    string
	Present bool
}

// CPUModel returns the processor's brand string as the CPU reports it.
func CPUModel() string { return cpuid.CPU.BrandName }

// Features reports the instruction sets lanes' tiers use or may use, in a fixed order.
func Features() []Feature {
	list := []struct {
		name string
		id   cpuid.FeatureID
	}{
		{"AVX2", cpuid.AVX2}, {"FMA3", cpuid.FMA3}, {"BMI2", cpuid.BMI2},
		{"AVX512F", cpuid.AVX512F}, {"AVX512VL", cpuid.AVX512VL}, {"AVX512DQ", cpuid.AVX512DQ},
		{"AVX512BW", cpuid.AVX512BW}, {"AVX512_VNNI", cpuid.AVX512VNNI}, {"AVX512_BF16", cpuid.AVX512BF16},
	}
	fs := make([]Feature, len(list))
	for i, f := range list {
		fs[i] = Feature{Name: f.name, Present: cpuHas(f.id)}
	}
	return fs
}
