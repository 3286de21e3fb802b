// Package tensor is a small float32 tensor for lanes: a shape and contiguous row-major data,
// with operations that check shapes, return errors, and run on package kernels.
//
// Every operation comes in two forms: one that allocates its result (MatMul, Add, ...) and
// an Into form that writes into a tensor the caller owns (MatMulInto, AddInto, ...), so a
// training loop can run without allocating. A shape mistake is returned as an error that
// wraps ErrShape and names the operation and the shapes involved; it never reaches a
// kernel's panic.
//
// Views (Reshape, Rows) share data with the tensor they come from; Clone copies.
package tensor
