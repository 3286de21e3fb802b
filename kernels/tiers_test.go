package kernels

import (
	"testing"
)

// forEachTier runs f once per tier this machine and build can run, as a subtest named after
// the tier, with that tier active; the tier in use before is restored afterwards.
func forEachTier(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	before := ISA()
	t.Cleanup(func() {
		if err := SetISA(before); err != nil {
			t.Fatal(err)
		}
	})
	for _, name := range Available() {
		t.Run(name, func(t *testing.T) {
			if err := SetISA(name); err != nil {
				t.Fatal(err)
			}
			f(t)
		})
	}
}

// guarded returns a slice of n elements inside a larger buffer whose elements before and
// after the slice hold a sentinel; offset shifts the slice's start so kernels meet every
// alignment. check reports any sentinel that changed.
type guarded struct {
	buf    []float32
	offset int
	n      int
}

const guardLen = 19

var sentinel = float32(-7.25e33)

func newGuarded(n, offset int) *guarded {
	g := &guarded{buf: make([]float32, offset+guardLen+n+guardLen), offset: offset + guardLen, n: n}
	for i := range g.buf {
		g.buf[i] = sentinel
	}
	return g
}

// s is the slice under test; its capacity ends at its length, so append cannot reach the guard.
func (g *guarded) s() []float32 { return g.buf[g.offset : g.offset+g.n : g.offset+g.n] }

func (g *guarded) check(t *testing.T, what string) {
	t.Helper()
	for i, v := range g.buf {
		if (i < g.offset || i >= g.offset+g.n) && v != sentinel {
			t.Fatalf("%s: guard element %d (slice is [%d, %d)) changed to %v", what, i, g.offset, g.offset+g.n, v)
		}
	}
}
