//go:build race

// Package race reports whether the race detector is on, for tests that must allow for it:
// under -race, sync.Pool drops items at random, so zero-allocation checks cannot hold.
package race

// Enabled is true in a -race build.
const Enabled = true
