package tensor_test

import (
	"fmt"

	"github.com/lanesml/lanes/tensor"
)

// Multiply a 2 x 3 matrix by a 3 x 2 matrix.
func Example() {
	a, _ := tensor.FromSlice([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	b, _ := tensor.FromSlice([]float32{1, 0, 0, 1, 1, 1}, 3, 2)
	c, err := tensor.MatMul(a, b, false, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c)

	_, err = tensor.MatMul(a, a, false, false)
	fmt.Println(err)
	// Output:
	// [[4 5]
	//  [10 11]]
	// matmul: [2 3] x [2 3]: inner dimensions differ
}
