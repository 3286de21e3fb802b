package kernels

// The generic tier: plain Go, the reference every assembly kernel is tested against and the
// implementation on CPUs and builds without one.

// axpyGeneric: for i, v := range x { y[i] += alpha * v }
func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// addBiasGeneric: x[i][j] += bias[j] for each of rows rows of len(bias) floats.
func addBiasGeneric(x, bias []float32, rows int) {
	cols := len(bias)
	for i := 0; i < rows; i++ {
		row := x[i*cols : (i+1)*cols]
		for j, b := range bias {
			row[j] += b
		}
	}
}

// sumRowsGeneric: dst[j] += x[i][j] for each of rows rows of len(dst) floats, in order.
func sumRowsGeneric(dst, x []float32, rows int) {
	cols := len(dst)
	for i := 0; i < rows; i++ {
		for j, v := range x[i*cols : (i+1)*cols] {
			dst[j] += v
		}
	}
}

// argmaxRowsGeneric: dst[i] = the first index of the largest value of row i of x, for
// len(dst) rows of cols >= 1 floats; the first NaN of a row wins.
func argmaxRowsGeneric(dst []int32, x []float32, cols int) {
	for i := range dst {
		row := x[i*cols : (i+1)*cols]
		best := 0
		for j, v := range row {
			if v != v {
				best = j
				break
			}
			if v > row[best] {
				best = j
			}
		}
		dst[i] = int32(best)
	}
}

// scaleGeneric: for i := range x { x[i] *= alpha }
func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// bytesToFloat32Generic: for i := range dst { dst[i] = float32(src[i]) * scale }
func bytesToFloat32Generic(dst []float32, src []byte, scale float32) {
	src = src[:len(dst)]
	for i, b := range src {
		dst[i] = float32(b) * scale
	}
}

// dotGeneric: for i, v := range x { sum += v * y[i] }, with four partial sums so the
// additions do not wait on one another.
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
