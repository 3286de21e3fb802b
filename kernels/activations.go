package kernels

import (
	"fmt"
	"math"
	"sync"
)

func checkLen(fn, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("kernels: %s: len(%s) = %d, want %d", fn, name, got, want))
	}
}

// unary runs an element-wise kernel over dst and src in bounded chunks.
func unary(fn string, kernel func(dst, src []float32), dst, src []float32) {
	checkLen(fn, "dst", len(dst), len(src))
	raceRead(src)
	raceWrite(dst)
	for len(src) > maxChunk {
		kernel(dst[:maxChunk], src[:maxChunk])
		dst, src = dst[maxChunk:], src[maxChunk:]
	}
	kernel(dst, src)
}

// backwardOp runs a backward kernel dst = f(grad, x) in bounded chunks.
func backwardOp(fn string, kernel func(dst, grad, x []float32), dst, grad, x []float32) {
	checkLen(fn, "dst", len(dst), len(x))
	checkLen(fn, "grad", len(grad), len(x))
	raceRead(grad)
	raceRead(x)
	raceWrite(dst)
	for len(x) > maxChunk {
		kernel(dst[:maxChunk], grad[:maxChunk], x[:maxChunk])
		dst, grad, x = dst[maxChunk:], grad[maxChunk:], x[maxChunk:]
	}
	kernel(dst, grad, x)
}

// Exp sets dst[i] = exp(src[i]). The assembly tiers are within 3e-7 relative error on
// [-87, 88]; +Inf above 88.73, 0 for -Inf, NaN for NaN. dst may be src.
func Exp(dst, src []float32) { unary("Exp", impl().exp, dst, src) }

// ReLU sets dst[i] = max(src[i], 0); NaN stays NaN, as in PyTorch. dst may be src.
func ReLU(dst, src []float32) { unary("ReLU", impl().relu, dst, src) }

// ReLUBackward sets dst[i] = grad[i] where x[i] > 0, else 0. dst may alias grad or x.
func ReLUBackward(dst, grad, x []float32) {
	backwardOp("ReLUBackward", impl().reluBackward, dst, grad, x)
}

// Sigmoid sets dst[i] = 1 / (1 + exp(-src[i])). dst may be src.
func Sigmoid(dst, src []float32) { unary("Sigmoid", impl().sigmoid, dst, src) }

// SigmoidBackward sets dst[i] = grad[i] * y[i] * (1 - y[i]), where y is Sigmoid's output.
func SigmoidBackward(dst, grad, y []float32) {
	backwardOp("SigmoidBackward", impl().sigmoidBackward, dst, grad, y)
}

// Tanh sets dst[i] = tanh(src[i]). dst may be src.
func Tanh(dst, src []float32) { unary("Tanh", impl().tanh, dst, src) }

// TanhBackward sets dst[i] = grad[i] * (1 - y[i]^2), where y is Tanh's output.
func TanhBackward(dst, grad, y []float32) {
	backwardOp("TanhBackward", impl().tanhBackward, dst, grad, y)
}

// GELU sets dst[i] to the tanh approximation of GELU:
// x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715x^3))). dst may be src.
func GELU(dst, src []float32) { unary("GELU", impl().gelu, dst, src) }

// GELUBackward sets dst[i] = grad[i] * GELU'(x[i]).
func GELUBackward(dst, grad, x []float32) {
	backwardOp("GELUBackward", impl().geluBackward, dst, grad, x)
}

// checkMatrix panics unless rows, cols >= 0 and len(x) == rows*cols.
func checkMatrix(fn, name string, x []float32, rows, cols int) {
	if rows < 0 || cols < 0 {
		panic(fmt.Sprintf("kernels: %s: rows = %d, cols = %d: negative size", fn, rows, cols))
	}
	checkLen(fn, name, len(x), rows*cols)
}

// AddBias adds bias[j] to x[i][j] for every row i of the rows x cols matrix x.
func AddBias(x, bias []float32, rows, cols int) {
	checkMatrix("AddBias", "x", x, rows, cols)
	checkLen("AddBias", "bias", len(bias), cols)
	raceRead(bias)
	raceWrite(x)
	addBias := impl().addBias
	for i, n := 0, chunkRows(cols); i < rows; i += n {
		addBias(x[i*cols:], bias, min(n, rows-i))
	}
}

// chunkRows is how many rows of cols floats one assembly call of a row kernel takes: up to
// maxChunk floats, and at least one row.
func chunkRows(cols int) int { return max(1, maxChunk/max(1, cols)) }

// SumRows sets dst[j] to the sum over rows i of x[i][j]: the rows added to zero one at a
// time, in order, in float32, so every tier gives the same bits.
func SumRows(dst, x []float32, rows, cols int) {
	checkMatrix("SumRows", "x", x, rows, cols)
	checkLen("SumRows", "dst", len(dst), cols)
	raceRead(x)
	raceWrite(dst)
	clear(dst)
	sumRows := impl().sumRows
	for i, n := 0, chunkRows(cols); i < rows; i += n {
		sumRows(dst, x[i*cols:], min(n, rows-i))
	}
}

// ArgmaxRows sets dst[i] to the first index of the largest value in row i. A NaN counts as
// larger than any number (the first NaN wins), as in PyTorch.
func ArgmaxRows(dst []int32, x []float32, rows, cols int) {
	checkMatrix("ArgmaxRows", "x", x, rows, cols)
	if len(dst) != rows {
		panic(fmt.Sprintf("kernels: ArgmaxRows: len(dst) = %d, want rows = %d", len(dst), rows))
	}
	if rows > 0 && cols == 0 {
		panic("kernels: ArgmaxRows: cols = 0: an empty row has no maximum")
	}
	raceRead(x)
	raceWrite(dst)
	argmax := impl().argmaxRows
	for i, n := 0, chunkRows(cols); i < rows; i += n {
		argmax(dst[i:i+min(n, rows-i)], x[i*cols:], cols)
	}
}

// logProduct is how many rows' softmax sums SoftmaxCrossEntropy multiplies before it takes
// a log: a sum is at most cols (far below 2^64), so a product of 16 stays below float64's
// 2^1024.
const logProduct = 16

// rowBlock is how many rows the softmax kernels take per assembly call: their per-row
// statistics live in arrays of this size on the stack.
const rowBlock = 64

// rowScratch holds per-row statistics for one block of rows. Anything passed to a kernel
// through the dispatch table escapes to the heap, so these come from a pool rather than
// the stack, to keep the kernels free of allocations.
type rowScratch struct {
	stats  [2 * rowBlock]float32
	coef   [3 * rowBlock]float32
	picked [rowBlock]float32 // SoftmaxCrossEntropy: each row's logit at its label
}

var scratchPool = sync.Pool{New: func() any { return new(rowScratch) }}

// forRowBlocks calls f on consecutive blocks of at most rowBlock rows (and, for wide rows,
// few enough rows to keep one call bounded): lo and hi are row numbers.
func forRowBlocks(rows, cols int, f func(sc *rowScratch, lo, hi int)) {
	sc := scratchPool.Get().(*rowScratch)
	step := max(1, min(rowBlock, maxChunk/max(cols, 1)))
	for lo := 0; lo < rows; lo += step {
		f(sc, lo, min(rows, lo+step))
	}
	scratchPool.Put(sc)
}

// Softmax writes the softmax of each row of the rows x cols matrix src to dst:
// exp(x - max) / sum(exp(x - max)). -Inf entries get 0; a row that is all -Inf, or has a
// NaN, becomes NaN, as in PyTorch. dst may be src.
func Softmax(dst, src []float32, rows, cols int) {
	checkMatrix("Softmax", "src", src, rows, cols)
	checkLen("Softmax", "dst", len(dst), rows*cols)
	if k := impl(); cols > 0 && cols <= k.smallCols {
		// Rows of one or two vectors (the MLP's 10 classes): one kernel does all of it. All
		// rows but the last may spill whole vectors into the next row of a distinct dst.
		raceRead(src)
		raceWrite(dst)
		spill := cols >= k.smallCols/2 && rows > 1 && &dst[0] != &src[0] // first vector whole
		last := (rows - 1) * cols
		if !spill {
			last = len(src)
		}
		step := maxChunk / cols * cols
		for lo := 0; lo < last; lo += step {
			hi := min(last, lo+step)
			k.softmaxSmall(dst[lo:], src[lo:hi], cols, spill) // dst runs on: spills land there
		}
		if spill {
			k.softmaxSmall(dst[last:], src[last:], cols, false)
		}
		return
	}
	mapRowsByStats(dst, src, rows, cols, true, func(_, sum float32) (sub, mul, add float32) {
		return 0, 1 / sum, 0 // dst holds exp(x - max) already
	})
}

// LogSoftmax writes log(softmax(row)) = x - max - log(sum(exp(x - max))) for each row.
// dst may be src.
func LogSoftmax(dst, src []float32, rows, cols int) {
	checkMatrix("LogSoftmax", "src", src, rows, cols)
	checkLen("LogSoftmax", "dst", len(dst), rows*cols)
	mapRowsByStats(dst, src, rows, cols, false, func(rowMax, sum float32) (sub, mul, add float32) {
		return rowMax, 1, -float32(math.Log(float64(sum))) // the log in float64: it is once a row
	})
}

// mapRowsByStats computes each row's max and sum of exp(x - max), then writes
// dst = (x - sub) * mul + add with the coefficients coef derives from them, where x is the
// row of src, or, with expFirst, the row's exp(x - max) already written to dst.
func mapRowsByStats(dst, src []float32, rows, cols int, expFirst bool, coef func(rowMax, sum float32) (sub, mul, add float32)) {
	raceRead(src)
	raceWrite(dst)
	if cols == 0 {
		return
	}
	k := impl()
	forRowBlocks(rows, cols, func(sc *rowScratch, lo, hi int) {
		d, s := dst[lo*cols:hi*cols], src[lo*cols:hi*cols]
		in, expOut := s, []float32(nil)
		if expFirst {
			in, expOut = d, d
		}
		k.softmaxStats(sc.stats[:], expOut, s, cols)
		for i := 0; i < hi-lo; i++ {
			sc.coef[3*i], sc.coef[3*i+1], sc.coef[3*i+2] = coef(sc.stats[2*i], sc.stats[2*i+1])
		}
		k.rowsAffine(d, in, sc.coef[:], cols)
	})
}

// SoftmaxCrossEntropy returns the mean over rows of -log(softmax(logits row)[label]) and,
// when grad is not nil, writes grad = (softmax(logits) - onehot(labels)) / rows, the
// gradient of that mean with respect to the logits. labels are class ids in [0, cols).
func SoftmaxCrossEntropy(grad, logits []float32, labels []int32, rows, cols int) float32 {
	checkXent("SoftmaxCrossEntropy", grad, logits, labels, rows, cols)
	if rows == 0 {
		return 0
	}
	return float32(softmaxCrossEntropy(grad, logits, labels, rows, cols, rows) / float64(rows))
}

// SoftmaxCrossEntropyPart is SoftmaxCrossEntropy on rows rows of a batch of batchRows rows,
// for a batch computed in parts: it returns the sum of the rows' losses, not their mean,
// and writes grad = (softmax(logits) - onehot(labels)) / batchRows, each row exactly as
// SoftmaxCrossEntropy on the whole batch writes it.
func SoftmaxCrossEntropyPart(grad, logits []float32, labels []int32, rows, cols, batchRows int) float64 {
	checkXent("SoftmaxCrossEntropyPart", grad, logits, labels, rows, cols)
	if batchRows < rows {
		panic(fmt.Sprintf("kernels: SoftmaxCrossEntropyPart: batchRows = %d, fewer than rows = %d", batchRows, rows))
	}
	if rows == 0 {
		return 0
	}
	return softmaxCrossEntropy(grad, logits, labels, rows, cols, batchRows)
}

// checkXent panics, naming fn, unless the arguments describe rows x cols logits, as many
// labels in [0, cols), and a gradient of the logits' size or none.
func checkXent(fn string, grad, logits []float32, labels []int32, rows, cols int) {
	checkMatrix(fn, "logits", logits, rows, cols)
	if grad != nil {
		checkLen(fn, "grad", len(grad), rows*cols)
	}
	if len(labels) != rows {
		panic(fmt.Sprintf("kernels: %s: len(labels) = %d, want rows = %d", fn, len(labels), rows))
	}
	for i, l := range labels {
		if l < 0 || int(l) >= cols {
			panic(fmt.Sprintf("kernels: %s: labels[%d] = %d, outside [0, %d)", fn, i, l, cols))
		}
	}
}

// softmaxCrossEntropy returns the sum of the rows' losses and writes their gradient divided
// by batchRows; rows > 0.
func softmaxCrossEntropy(grad, logits []float32, labels []int32, rows, cols, batchRows int) float64 {
	raceRead(logits)
	raceWrite(grad)
	k := impl()
	// Rows of one or two vectors (the MLP's 10 classes): one kernel writes the gradient and
	// each row's statistics. With grad distinct from logits, all rows but the last may spill
	// whole vectors into the next row of grad, which a later call overwrites.
	small := grad != nil && cols <= k.smallCols && k.softmaxXentSmall != nil
	spill := small && cols >= k.smallCols/2 && &grad[0] != &logits[0]
	var loss float64
	forRowBlocks(rows, cols, func(sc *rowScratch, lo, hi int) {
		stats, coef, picked := sc.stats[:], sc.coef[:], sc.picked[:]
		s := logits[lo*cols : hi*cols]
		for i := range hi - lo { // before grad, which may be logits, is written
			picked[i] = s[i*cols+int(labels[lo+i])]
		}
		var g []float32
		if grad != nil {
			g = grad[lo*cols : hi*cols]
		}
		switch {
		case small && spill && hi == rows && hi-lo > 1:
			last := (hi - lo - 1) * cols // the very last row must not spill past grad
			k.softmaxXentSmall(g, s[:last], stats, cols, true, float64(batchRows))
			k.softmaxXentSmall(g[last:], s[last:], stats[2*(hi-lo-1):], cols, false, float64(batchRows))
		case small:
			k.softmaxXentSmall(g, s, stats, cols, spill && hi < rows, float64(batchRows))
		default:
			k.softmaxStats(stats, g, s, cols)
		}
		scale := g != nil && !small // softmaxXentSmall has scaled the rows already
		// Row i's loss is log(sum) + max - picked. The logs are taken of products of
		// logProduct sums, each in [1, cols] (the maximum's term is 1): one log for many rows,
		// where a log costs about as much as a row's softmax at 10 classes.
		product := 1.0
		for i := range hi - lo {
			m, sum := float64(stats[2*i]), float64(stats[2*i+1])
			loss += m - float64(picked[i])
			if product *= sum; i%logProduct == logProduct-1 {
				loss += math.Log(product)
				product = 1
			}
			if scale {
				coef[3*i], coef[3*i+1], coef[3*i+2] = 0, float32(1/(sum*float64(batchRows))), 0
			}
		}
		loss += math.Log(product)
		if scale {
			k.rowsAffine(g, g, coef, cols)
		}
		if g != nil {
			for i := range hi - lo {
				g[i*cols+int(labels[lo+i])] -= 1 / float32(batchRows)
			}
		}
	})
	return loss
}

// AdamUpdate applies one Adam step (Kingma & Ba, Algorithm 1; step counts from 1) to p in
// place, with decoupled weight decay:
//
//	m = beta1*m + (1-beta1)*g;  v = beta2*v + (1-beta2)*g*g
//	p -= lr * ((m/(1-beta1^step)) / (sqrt(v/(1-beta2^step)) + eps) + weightDecay*p)
//
// p, g, m and v must have the same length.
func AdamUpdate(p, g, m, v []float32, lr, beta1, beta2, eps, weightDecay float32, step int) {
	job := adamPool.Get().(*adamJob)
	job.one = [4][1][]float32{{p}, {g}, {m}, {v}}
	job.p, job.g, job.m, job.v = job.one[0][:], job.one[1][:], job.one[2][:], job.one[3][:]
	job.run("AdamUpdate", lr, beta1, beta2, eps, weightDecay, step)
	*job = adamJob{}
	adamPool.Put(job)
}

// AdamUpdates is AdamUpdate on several parameters: ps[i], gs[i], ms[i] and vs[i] are the
// slices of parameter i, each four of the same length. The parameters are updated in one
// call, their elements split over the workers as if they were one slice, so that a model's
// small parameters (biases, a narrow last layer) do not run one after another on one core
// while the others wait. The result is AdamUpdate's on each parameter, to the bit. No two
// parameters may share memory: parts of the call run at the same time.
func AdamUpdates(ps, gs, ms, vs [][]float32, lr, beta1, beta2, eps, weightDecay float32, step int) {
	checkLen("AdamUpdates", "gs", len(gs), len(ps))
	checkLen("AdamUpdates", "ms", len(ms), len(ps))
	checkLen("AdamUpdates", "vs", len(vs), len(ps))
	job := adamPool.Get().(*adamJob)
	job.p, job.g, job.m, job.v = ps, gs, ms, vs
	job.run("AdamUpdates", lr, beta1, beta2, eps, weightDecay, step)
	*job = adamJob{}
	adamPool.Put(job)
}

// minParallelAdam is the fewest parameters per worker for which AdamUpdate splits its work:
// the update is memory-bound, and a second core brings its own cache bandwidth.
const minParallelAdam = 1 << 15

// adamJob is one AdamUpdate or AdamUpdates call: parameter i is p[i], g[i], m[i] and v[i].
// Its parts cut the parameters, laid end to end, into runs of whole vectors.
type adamJob struct {
	p, g, m, v [][]float32
	one        [4][1][]float32 // AdamUpdate's single parameter
	total      int             // the parameters' elements, all together
	h          [9]float32
	parts      int
	adam       func(p, g, m, v []float32, h *[9]float32)
}

var adamPool = sync.Pool{New: func() any { return new(adamJob) }}

// run checks the job's slices and step, naming fn in a panic, then updates every parameter.
func (j *adamJob) run(fn string, lr, beta1, beta2, eps, weightDecay float32, step int) {
	j.total = 0
	for i, p := range j.p {
		if len(j.g[i]) != len(p) || len(j.m[i]) != len(p) || len(j.v[i]) != len(p) {
			panic(fmt.Sprintf("kernels: %s: parameter %d: len(p), len(g), len(m), len(v) = %d, %d, %d, %d, want all equal",
				fn, i, len(p), len(j.g[i]), len(j.m[i]), len(j.v[i])))
		}
		j.total += len(p)
	}
	if step < 1 {
		panic(fmt.Sprintf("kernels: %s: step = %d, want >= 1", fn, step))
	}
	for i := range j.p {
		raceRead(j.g[i])
		raceWrite(j.p[i])
		raceWrite(j.m[i])
		raceWrite(j.v[i])
	}
	j.h = [9]float32{lr, beta1, 1 - beta1, beta2, 1 - beta2,
		float32(1 / (1 - math.Pow(float64(beta1), float64(step)))),
		float32(1 / (1 - math.Pow(float64(beta2), float64(step)))),
		eps, weightDecay}
	j.adam = impl().adam
	j.parts = min(workers(), j.total/minParallelAdam+1)
	if j.parts > 1 {
		runParallel(j, j.parts)
	} else {
		j.runPart(0)
	}
}

// runPart updates elements [lo, hi) of the parameters laid end to end.
func (j *adamJob) runPart(part int) {
	lo := part * j.total / j.parts &^ 15
	hi := (part + 1) * j.total / j.parts &^ 15
	if part == j.parts-1 {
		hi = j.total
	}
	start := 0 // where parameter i begins
	for i, p := range j.p {
		from, to := max(lo-start, 0), min(hi-start, len(p))
		for from < to {
			end := min(to, from+maxChunk)
			j.adam(p[from:end], j.g[i][from:end], j.m[i][from:end], j.v[i][from:end], &j.h)
			from = end
		}
		start += len(p)
	}
}
