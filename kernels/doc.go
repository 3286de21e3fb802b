// Package kernels holds lanes' numeric kernels: float32 matrix multiply, vector arithmetic,
// softmax and activations over plain row-major slices. It is the only package in lanes that
// knows about CPUs.
//
// Every kernel exists in tiers: avo-generated assembly for AVX-512 ("avx512") and for AVX2
// with FMA3 ("avx2"), and a pure-Go implementation ("generic") that is both the reference the
// assembly is tested against and the fallback on any other CPU, on any GOARCH other than
// amd64, and in builds with -tags purego. The best tier the CPU and operating system support
// is chosen at start-up; the environment variable LANES_ISA=generic|avx2|avx512 asks for
// another, and SetISA switches at run time (for tests and benchmarks).
//
// Exported functions check their arguments and panic with a message that names the bad one,
// as gonum's BLAS does; packages above (tensor, nn) validate first and return errors.
package kernels
