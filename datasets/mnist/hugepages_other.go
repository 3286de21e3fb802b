//go:build !linux

package mnist

// adviseHugePages does nothing here: transparent huge pages are a Linux feature.
func adviseHugePages(b []byte) {}
