//go:build race

package kernels

import (
	"runtime"
	"unsafe"
)

// The race detector cannot see inside assembly, so every exported kernel tells it which
// memory it reads and writes (whatever the tier, so that -race on any machine checks the
// same thing).

func raceRead[T element](s []T) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), int(unsafe.Sizeof(s[0]))*len(s))
	}
}

func raceWrite[T element](s []T) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), int(unsafe.Sizeof(s[0]))*len(s))
	}
}
