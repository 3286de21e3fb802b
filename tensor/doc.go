// Package tensor is a small float32 tensor: a shape and contiguous row-major data, with
// operations that check shapes, return errors that wrap ErrShape, and call package kernels.
// Its operations are being built; see the repository's issues.
package tensor
