package mnist

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes to both readers: they must return an error or a
// consistent result, never panic or allocate past what the file holds.
func FuzzReadIDX(f *testing.F) {
	img := idx(imagesMagic, []uint32{2, 2, 3}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	lbl := idx(labelsMagic, []uint32{3}, []byte{1, 2, 9})
	for _, seed := range [][]byte{img, lbl, gz(img), gz(lbl), img[:10], gz(img)[:15], nil,
		idx(imagesMagic, []uint32{1 << 30, 1, 1}, nil)} {
		f.Add(seed)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "in")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if im, err := ReadImages(p); err == nil && len(im.Pixels) != im.N*im.Rows*im.Cols {
			t.Fatalf("images %dx%dx%d with %d pixels", im.N, im.Rows, im.Cols, len(im.Pixels))
		}
		if labels, err := ReadLabels(p, Classes); err == nil {
			for _, l := range labels {
				if l < 0 || l >= Classes {
					t.Fatalf("label %d accepted", l)
				}
			}
		}
	})
}
