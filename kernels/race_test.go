//go:build race

package kernels

// raceEnabled: under the race detector sync.Pool drops items at random, so the
// zero-allocation tests cannot hold.
const raceEnabled = true
