//go:build !race

package kernels

// Without the race detector, the annotations cost nothing.

func raceRead[T element](s []T)  {}
func raceWrite[T element](s []T) {}
