package kernels

import "math"

// The generic tier of the element-wise and row kernels: float64 math rounded to float32,
// which makes it the accuracy reference as well as the fallback.

func expGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(math.Exp(float64(x)))
	}
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

func sigmoidGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(sigmoid64(float64(x)))
	}
}

func tanhGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(math.Tanh(float64(x)))
	}
}

// geluZ is the argument of the sigmoid in the tanh form of GELU:
// GELU(x) = x/2 * (1 + tanh(sqrt(2/pi)*(x + 0.044715x^3))) = x * sigmoid(geluZ(x)).
func geluZ(x float64) float64 {
	return 2 * math.Sqrt(2/math.Pi) * (x + 0.044715*x*x*x)
}

func gelu64(x float64) float64 {
	if x > 30 || math.IsInf(x, 1) {
		return x
	}
	if x < -30 {
		return 0
	}
	return x * sigmoid64(geluZ(x))
}

func geluGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = float32(gelu64(float64(x)))
	}
}

// geluSlope64 is d/dx GELU(x) = s + x*s*(1-s)*dz/dx, s = sigmoid(geluZ(x)).
func geluSlope64(x float64) float64 {
	if x > 30 {
		return 1
	}
	if x < -30 {
		return 0
	}
	s := sigmoid64(geluZ(x))
	dz := 2 * math.Sqrt(2/math.Pi) * (1 + 3*0.044715*x*x)
	return s + x*s*(1-s)*dz
}

func geluBackwardGeneric(dst, grad, x []float32) {
	dst, grad = dst[:len(x)], grad[:len(x)]
	for i, v := range x {
		dst[i] = float32(float64(grad[i]) * geluSlope64(float64(v)))
	}
}

// reluGeneric keeps NaN, as PyTorch does.
func reluGeneric(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		if x > 0 || x != x {
			dst[i] = x
		} else {
			dst[i] = 0
		}
	}
}

func reluBackwardGeneric(dst, grad, x []float32) {
	dst, grad = dst[:len(x)], grad[:len(x)]
	for i, v := range x {
		if v > 0 {
			dst[i] = grad[i]
		} else {
			dst[i] = 0
		}
	}
}

func sigmoidBackwardGeneric(dst, grad, y []float32) {
	dst, grad = dst[:len(y)], grad[:len(y)]
	for i, v := range y {
		dst[i] = grad[i] * v * (1 - v)
	}
}

func tanhBackwardGeneric(dst, grad, y []float32) {
	dst, grad = dst[:len(y)], grad[:len(y)]
	for i, v := range y {
		dst[i] = grad[i] * (1 - v*v)
	}
}

// softmaxStatsGeneric: for each row, stats = {max, sum of exp(x - max)}, and dst = exp(x - max)
// when dst is not empty. The sum is kept in float64.
func softmaxStatsGeneric(stats, dst, src []float32, cols int) {
	for i := 0; i*cols < len(src); i++ {
		row := src[i*cols : (i+1)*cols]
		m := float32(math.Inf(-1))
		for _, x := range row {
			if x > m {
				m = x
			}
		}
		var sum float64
		for j, x := range row {
			e := math.Exp(float64(x) - float64(m))
			if x != x {
				e = math.NaN()
			}
			sum += e
			if len(dst) > 0 {
				dst[i*cols+j] = float32(e)
			}
		}
		if m != m || math.IsInf(float64(m), -1) {
			sum = math.NaN() // a row of -Inf, like a NaN, has no softmax
		}
		stats[2*i], stats[2*i+1] = m, float32(sum)
	}
}

func rowsAffineGeneric(dst, src, coef []float32, cols int) {
	for i := 0; i*cols < len(src); i++ {
		sub, mul, add := coef[3*i], coef[3*i+1], coef[3*i+2]
		for j := i * cols; j < (i+1)*cols; j++ {
			dst[j] = (src[j]-sub)*mul + add
		}
	}
}

func adamGeneric(p, g, m, v []float32, h *[9]float32) {
	lr, b1, oneMinusB1, b2, oneMinusB2, c1, c2, eps, wd := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for i := range p {
		m[i] = b1*m[i] + oneMinusB1*g[i]
		v[i] = b2*v[i] + oneMinusB2*g[i]*g[i]
		upd := m[i]*c1/(float32(math.Sqrt(float64(v[i]*c2)))+eps) + wd*p[i]
		p[i] -= lr * upd
	}
}
