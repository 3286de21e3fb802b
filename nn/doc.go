// Package nn holds neural-network layers with explicit Forward and Backward, losses,
// optimizers, initializers, metrics, a Model with Fit, Evaluate and Predict, and
// safetensors checkpoints. It is being built; see the repository's issues.
package nn
