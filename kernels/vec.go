package kernels

// maxChunk bounds the elements one assembly call handles, so that no call runs long enough
// to hold up a garbage-collector stop-the-world (assembly cannot be preempted).
const maxChunk = 1 << 16

// vectorFloats is the widest tier's vector (AVX-512: 16 floats), a multiple of every other's:
// kernels that leave tails to Go get lengths rounded down to it.
const vectorFloats = 16

// Axpy computes y += alpha*x. x and y must have the same length; they may be the same slice.
func Axpy(alpha float32, x, y []float32) {
	checkLen("Axpy", "y", len(y), len(x))
	raceRead(x)
	raceWrite(y)
	axpy := impl().axpy
	for len(x) > maxChunk {
		axpy(alpha, x[:maxChunk], y[:maxChunk])
		x, y = x[maxChunk:], y[maxChunk:]
	}
	axpy(alpha, x, y)
}

// element is what kernels read and write: floats, the bytes of images, class indices.
type element interface{ float32 | byte | int32 }

// BytesToFloat32 computes dst[i] = float32(src[i]) * scale, the conversion of 8-bit pixels
// to floats (scale 1.0/255 maps them to [0, 1]). dst and src must have the same length.
func BytesToFloat32(dst []float32, src []byte, scale float32) {
	checkLen("BytesToFloat32", "src", len(src), len(dst))
	raceRead(src)
	raceWrite(dst)
	convertBytes(impl().bytesToFloat32, dst, src, scale)
}

// convertBytes runs a tier's byte converter over whole vectors in bounded chunks and does
// the tail in Go; the caller has checked the lengths and told the race detector.
func convertBytes(convert func(dst []float32, src []byte, scale float32), dst []float32, src []byte, scale float32) {
	for len(dst) >= vectorFloats {
		n := min(len(dst), maxChunk) &^ (vectorFloats - 1)
		convert(dst[:n], src[:n], scale)
		dst, src = dst[n:], src[n:]
	}
	bytesToFloat32Generic(dst, src, scale)
}

// Scale computes x *= alpha.
func Scale(alpha float32, x []float32) {
	raceWrite(x)
	scale := impl().scale
	for len(x) > maxChunk {
		scale(alpha, x[:maxChunk])
		x = x[maxChunk:]
	}
	scale(alpha, x)
}

// Dot returns the sum of x[i]*y[i]. x and y must have the same length. The order of the
// additions differs between tiers, so results agree to rounding, not bit for bit.
func Dot(x, y []float32) float32 {
	checkLen("Dot", "y", len(y), len(x))
	raceRead(x)
	raceRead(y)
	dot := impl().dot
	var sum float32
	for len(x) > maxChunk {
		sum += dot(x[:maxChunk], y[:maxChunk])
		x, y = x[maxChunk:], y[maxChunk:]
	}
	return sum + dot(x, y)
}
