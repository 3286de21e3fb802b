package main

import (
	"errors"
	"fmt"
)

// The round trip between two cores that lanes cpu reports. firstTwoCPUs and coreRoundTrip
// are per OS: roundtrip_linux.go pins a thread to each CPU; elsewhere they say they cannot.

// errNoAnswer is coreRoundTrip's error when a run of round trips takes over a second.
var errNoAnswer = errors.New("20,000 round trips took over a second: the CPUs are busy")

// roundTripLine reports how long a cache line takes to go between the first two CPUs this
// process may use and back: about 50-100 ns between cores that share an L3, several times
// that between cores far apart (another CCD or socket), where two threads can train slower
// than one (README, Threads).
func roundTripLine() string {
	a, b, ok := firstTwoCPUs()
	if !ok {
		return "one CPU: no round trip between cores to measure"
	}
	d, err := coreRoundTrip(a, b)
	if err != nil {
		return fmt.Sprintf("CPU %d <-> CPU %d: round trip not measured: %v", a, b, err)
	}
	return fmt.Sprintf("CPU %d <-> CPU %d: a cache line's round trip takes %d ns", a, b, d.Nanoseconds())
}
