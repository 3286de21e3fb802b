package mnist

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"
)

// TestLargeImagesGetHugePages reads a 12 MB image file and checks, in /proc/self/smaps, that
// the whole 2 MB pages inside its pixels are huge pages, with the read's earlier, smaller
// buffers handed back to the kernel first so that they cannot count.
func TestLargeImagesGetHugePages(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || !bytes.Contains(mode, []byte("[madvise]")) && !bytes.Contains(mode, []byte("[always]")) {
		t.Skipf("transparent huge pages are off here (%q, %v)", mode, err)
	}
	// A control: a fresh buffer advised by hand. Where even it gets no huge pages (under
	// qemu-user, say, whose guest addresses are not the kernel's), there is nothing to test.
	control := make([]byte, 8*hugePage)
	adviseHugePages(control)
	for i := range control {
		control[i] = 1
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(control)))
	if huge, err := anonHugeBytes((start + hugePage - 1) &^ (hugePage - 1)); err != nil || huge == 0 {
		t.Skipf("no huge pages here even for a fresh advised buffer (%d bytes, %v)", huge, err)
	}
	runtime.KeepAlive(control)

	const n = 16000 // 12.5 MB of pixels
	pixels := make([]byte, n*28*28)
	for i := range pixels {
		pixels[i] = byte(i * 13)
	}
	im, err := ReadImages(write(t, t.TempDir(), "img", idx(imagesMagic, []uint32{n, 28, 28}, pixels)))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(im.Pixels, pixels) {
		t.Fatal("pixels read back differ")
	}
	runtime.GC()
	debug.FreeOSMemory()
	start = uintptr(unsafe.Pointer(unsafe.SliceData(im.Pixels)))
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + uintptr(len(im.Pixels))) &^ (hugePage - 1)
	huge, err := anonHugeBytes(lo) // madvise makes the advised range a mapping of its own
	if err != nil {
		t.Fatal(err)
	}
	if huge < uint64(hi-lo) {
		t.Errorf("the mapping holding the pixels has %d KB in huge pages, want at least the %d KB of whole huge pages inside them",
			huge>>10, (hi-lo)>>10)
	}
	runtime.KeepAlive(im)
}

// anonHugeBytes returns the AnonHugePages of the mapping of /proc/self/smaps that holds addr.
func anonHugeBytes(addr uintptr) (uint64, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") {
			in = lo <= addr && addr < hi
			continue
		}
		var kb uint64
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			if _, err := fmt.Sscanf(line, "AnonHugePages: %d kB", &kb); err != nil {
				return 0, fmt.Errorf("%q: %w", line, err)
			}
			return kb << 10, nil
		}
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no mapping of /proc/self/smaps holds %#x", addr)
}
