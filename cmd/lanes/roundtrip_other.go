//go:build !linux

package main

import (
	"errors"
	"runtime"
	"time"
)

func firstTwoCPUs() (a, b int, ok bool) { return 0, 1, runtime.NumCPU() >= 2 }

// coreRoundTrip needs to pin threads to CPUs, which lanes does only on Linux.
func coreRoundTrip(a, b int) (time.Duration, error) {
	return 0, errors.New("measured on Linux only")
}
