//go:build !amd64 || purego

package kernels

// asmTiers is empty: this build has no assembly, only the generic tier.
var asmTiers []*tier
