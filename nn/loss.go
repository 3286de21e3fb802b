package nn

import (
	"fmt"

	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/tensor"
)

// Loss measures predictions against a batch's labels and gives the gradient.
type Loss interface {
	// Compute returns the mean loss over the rows of pred and writes its gradient with
	// respect to pred into grad (same shape as pred).
	Compute(grad, pred *tensor.Tensor, labels []int32) (float32, error)
	Name() string
}

// SparseCrossEntropy is categorical cross-entropy from logits with integer class labels
// (Keras' SparseCategoricalCrossentropy(from_logits=True)); softmax and the loss are one
// fused kernel.
type SparseCrossEntropy struct{}

// Name is the loss as Keras names it.
func (SparseCrossEntropy) Name() string { return "sparse_categorical_crossentropy" }

// Compute returns the mean cross-entropy and writes its gradient into grad.
func (SparseCrossEntropy) Compute(grad, pred *tensor.Tensor, labels []int32) (float32, error) {
	rows, cols, err := checkLoss(grad, pred, labels)
	if err != nil {
		return 0, err
	}
	for i, l := range labels {
		if l < 0 || int(l) >= cols {
			return 0, fmt.Errorf("cross-entropy: label %d of row %d is not a class of %d", l, i, cols)
		}
	}
	return kernels.SoftmaxCrossEntropy(grad.Data(), pred.Data(), labels, rows, cols), nil
}

// MeanSquaredError is the mean over rows of the squared distance to the one-hot encoding of
// the label, summed over columns and divided by the number of columns (Keras' MSE).
type MeanSquaredError struct{}

// Name is the loss as Keras names it.
func (MeanSquaredError) Name() string { return "mean_squared_error" }

// Compute returns the mean squared error against one-hot labels and writes its gradient.
func (MeanSquaredError) Compute(grad, pred *tensor.Tensor, labels []int32) (float32, error) {
	rows, cols, err := checkLoss(grad, pred, labels)
	if err != nil {
		return 0, err
	}
	p, g := pred.Data(), grad.Data()
	var sum float64
	scale := 2 / float32(rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			var target float32
			if int(labels[i]) == j {
				target = 1
			}
			d := p[i*cols+j] - target
			sum += float64(d * d)
			g[i*cols+j] = scale * d
		}
	}
	return float32(sum / float64(rows*cols)), nil
}

func checkLoss(grad, pred *tensor.Tensor, labels []int32) (rows, cols int, err error) {
	if pred.Rank() != 2 || !grad.SameShape(pred) {
		return 0, 0, fmt.Errorf("loss: predictions %v, gradient %v: %w", pred.Shape(), grad.Shape(), tensor.ErrShape)
	}
	rows, cols = pred.Dim(0), pred.Dim(1)
	if len(labels) != rows {
		return 0, 0, fmt.Errorf("loss: %d labels for %d rows: %w", len(labels), rows, tensor.ErrShape)
	}
	return rows, cols, nil
}
