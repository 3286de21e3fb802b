package nn_test

import (
	"context"
	"fmt"

	"github.com/lanesml/lanes/nn"
	"github.com/lanesml/lanes/tensor"
)

// Train a small classifier on tensors in memory: two features, the class is which one is
// larger.
func ExampleModel_Fit() {
	n := 200
	x := tensor.New(n, 2)
	y := make([]int32, n)
	for i := 0; i < n; i++ {
		a, b := float32(i%17)/17, float32(i%13)/13
		x.Data()[2*i], x.Data()[2*i+1] = a, b
		if a > b {
			y[i] = 1
		}
	}
	net := nn.NewSequential(nn.NewDense(2, 16), nn.NewReLU(), nn.NewDense(16, 2))
	model := &nn.Model{Net: net, Loss: nn.SparseCrossEntropy{}, Optimizer: &nn.Adam{LR: 0.02}}
	model.Init(1)
	data := nn.TensorData{X: x, Y: y}
	history, err := model.Fit(context.Background(), data, nn.FitConfig{Epochs: 60, BatchSize: 20, Shuffle: true, Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, acc, _ := model.Evaluate(data, 0)
	fmt.Printf("%d epochs, accuracy above 0.95: %v\n", len(history.Epochs), acc > 0.95)
	// Output: 60 epochs, accuracy above 0.95: true
}
