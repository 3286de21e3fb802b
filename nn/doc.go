// Package nn trains small neural networks on lanes' kernels: layers with explicit Forward
// and Backward, losses, optimizers, initializers, a Model with Fit, Evaluate and Predict,
// and checkpoints in the safetensors format.
//
// The reference model is the classic Keras MNIST MLP:
//
//	net := nn.NewSequential(nn.NewDense(784, 128), nn.NewReLU(), nn.NewDense(128, 10))
//	model := &nn.Model{Net: net, Loss: nn.SparseCrossEntropy{}, Optimizer: &nn.Adam{}}
//	model.Init(1)
//	history, err := model.Fit(ctx, train, nn.FitConfig{Epochs: 5, BatchSize: 32, Shuffle: true, Seed: 1})
//
// Layers own their outputs and gradients, which they reuse from step to step: a training
// step allocates nothing once the first batch has run. The same seed gives bit-identical
// weights, run after run, on any number of threads (kernels.SetThreads); so AutoThreads, a
// callback, may choose the thread count while Fit runs without changing a bit of the result:
//
//	cfg := nn.FitConfig{Epochs: 5, BatchSize: 32, Shuffle: true, Seed: 1, Callbacks: []nn.Callback{&nn.AutoThreads{}}}
//
// The library prints nothing: progress goes to the callbacks in FitConfig.
package nn
