package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/lanesml/lanes/nn"
)

// The cases and data the go test benchmarks and lanes bench share.

func randomVec(n int) []float32 {
	r := rand.New(rand.NewPCG(uint64(n), 1))
	v := make([]float32, n)
	for i := range v {
		v[i] = r.Float32()*2 - 1
	}
	return v
}

// mlpParams is the MNIST MLP's parameter count: 784*128 + 128 + 128*10 + 10.
const mlpParams = 101770

// gemmShape is C (m x n) = op(A) (m x k) * op(B) (k x n), named M x K x N as the baselines
// name them, with a suffix for a transposed operand.
type gemmShape struct {
	m, k, n        int
	transA, transB bool
}

func (s gemmShape) String() string {
	name := fmt.Sprintf("%dx%dx%d", s.m, s.k, s.n)
	if s.transA {
		name += "-At"
	}
	if s.transB {
		name += "-Bt"
	}
	return name
}

// gemmOperands returns A, B, C and their row strides for s.
func gemmOperands(s gemmShape) (a []float32, lda int, b []float32, ldb int, c []float32) {
	a, b, c = randomVec(s.m*s.k), randomVec(s.k*s.n), make([]float32, s.m*s.n)
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return a, lda, b, ldb, c
}

// threadCounts is 1 and, when it differs, GOMAXPROCS.
func threadCounts() []int {
	if p := runtime.GOMAXPROCS(0); p > 1 {
		return []int{1, p}
	}
	return []int{1}
}

// mlp is the Keras MNIST MLP with Adam, initialized from seed 1.
func mlp() *nn.Model {
	net := nn.NewSequential(nn.NewDense(784, 128), nn.NewReLU(), nn.NewDense(128, 10))
	m := &nn.Model{Net: net, Loss: nn.SparseCrossEntropy{}, Optimizer: &nn.Adam{}}
	m.Init(1)
	return m
}
