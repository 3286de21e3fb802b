package mnist

import (
	"bytes"
	"testing"
)

// FuzzReadIDX feeds arbitrary bytes to the IDX parser as images and as labels: it must
// return an error or data that matches its dimensions, never panic or allocate past what
// the input holds. (ReadImages and ReadLabels open a file and call the same parser.)
func FuzzReadIDX(f *testing.F) {
	img := idx(imagesMagic, []uint32{2, 2, 3}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
	lbl := idx(labelsMagic, []uint32{3}, []byte{1, 2, 9})
	for _, seed := range [][]byte{img, lbl, gz(img), gz(lbl), img[:10], gz(img)[:15], nil,
		idx(imagesMagic, []uint32{1 << 30, 1, 1}, nil)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if dims, px, err := parseIDX("in", bytes.NewReader(data), imagesMagic); err == nil &&
			(len(dims) != 3 || len(px) != dims[0]*dims[1]*dims[2]) {
			t.Fatalf("images %v with %d pixels", dims, len(px))
		}
		if dims, raw, err := parseIDX("in", bytes.NewReader(data), labelsMagic); err == nil && (len(dims) != 1 || len(raw) != dims[0]) {
			t.Fatalf("labels %v with %d bytes", dims, len(raw))
		}
	})
}
