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
func (l SparseCrossEntropy) Compute(grad, pred *tensor.Tensor, labels []int32) (float32, error) {
	if err := l.check(grad, pred, labels); err != nil {
		return 0, err
	}
	return kernels.SoftmaxCrossEntropy(grad.Data(), pred.Data(), labels, pred.Dim(0), pred.Dim(1)), nil
}

func (SparseCrossEntropy) check(grad, pred *tensor.Tensor, labels []int32) error {
	_, cols, err := checkLoss(grad, pred, labels)
	if err != nil {
		return err
	}
	for i, l := range labels {
		if l < 0 || int(l) >= cols {
			return fmt.Errorf("cross-entropy: label %d of row %d is not a class of %d", l, i, cols)
		}
	}
	return nil
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
	return float32(mseRows(grad.Data(), pred.Data(), labels, 0, rows, rows, cols) / float64(rows*cols)), nil
}

func (MeanSquaredError) check(grad, pred *tensor.Tensor, labels []int32) error {
	_, _, err := checkLoss(grad, pred, labels)
	return err
}

// mseRows writes rows [lo, hi) of the gradient of the mean squared error over a batch of
// rows x cols predictions, and returns the sum of those rows' squared errors.
func mseRows(g, p []float32, labels []int32, lo, hi, rows, cols int) float64 {
	var sum float64
	scale := 2 / float32(rows*cols)
	for i := lo; i < hi; i++ {
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
	return sum
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

func (SparseCrossEntropy) computeRows(grad, pred *tensor.Tensor, labels []int32, lo, hi int) float64 {
	rows, cols := pred.Dim(0), pred.Dim(1)
	sum := kernels.SoftmaxCrossEntropyPart(rowsOf(grad, lo, hi), rowsOf(pred, lo, hi), labels[lo:hi], hi-lo, cols, rows)
	return sum / float64(rows)
}

func (MeanSquaredError) computeRows(grad, pred *tensor.Tensor, labels []int32, lo, hi int) float64 {
	rows, cols := pred.Dim(0), pred.Dim(1)
	return mseRows(grad.Data(), pred.Data(), labels, lo, hi, rows, cols) / float64(rows*cols)
}
