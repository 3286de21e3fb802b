package nn

import (
	"math"
	"math/rand/v2"
)

// GlorotUniform draws from U(-l, l), l = sqrt(6 / (fanIn + fanOut)) (Keras' default).
func GlorotUniform(r *rand.Rand, w []float32, fanIn, fanOut int) {
	uniformInit(r, w, math.Sqrt(6/float64(fanIn+fanOut)))
}

// GlorotNormal draws from N(0, 2 / (fanIn + fanOut)).
func GlorotNormal(r *rand.Rand, w []float32, fanIn, fanOut int) {
	normalInit(r, w, math.Sqrt(2/float64(fanIn+fanOut)))
}

// HeUniform draws from U(-l, l), l = sqrt(6 / fanIn): for ReLU networks.
func HeUniform(r *rand.Rand, w []float32, fanIn, fanOut int) {
	uniformInit(r, w, math.Sqrt(6/float64(fanIn)))
}

// HeNormal draws from N(0, 2 / fanIn).
func HeNormal(r *rand.Rand, w []float32, fanIn, fanOut int) {
	normalInit(r, w, math.Sqrt(2/float64(fanIn)))
}

// Zeros fills w with zeros.
func Zeros(r *rand.Rand, w []float32, fanIn, fanOut int) { clear(w) }

func uniformInit(r *rand.Rand, w []float32, limit float64) {
	for i := range w {
		w[i] = float32((2*r.Float64() - 1) * limit)
	}
}

func normalInit(r *rand.Rand, w []float32, std float64) {
	for i := range w {
		w[i] = float32(r.NormFloat64() * std)
	}
}
