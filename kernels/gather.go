package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// GatherBytesToFloat32 converts rows of a byte matrix to floats: row i of dst (len(idx) rows
// of width floats) is scale * float32 of row idx[i] of src (rows of width bytes), the way a
// shuffled mini-batch of 8-bit images is drawn from a dataset. An index outside src, or dst
// not len(idx)*width long, panics with a message naming it.
//
// Rows drawn at random from a large dataset are mostly cache misses: each part first touches
// every cache line of its rows, so that the misses overlap, and a batch of enough rows is
// split over Threads() workers, whose misses overlap too.
func GatherBytesToFloat32(dst []float32, src []byte, idx []int, width int, scale float32) {
	if width < 1 {
		panic(fmt.Sprintf("kernels: GatherBytesToFloat32: width = %d, want >= 1", width))
	}
	checkLen("GatherBytesToFloat32", "dst", len(dst), len(idx)*width)
	rows := len(src) / width
	for i, r := range idx {
		if r < 0 || r >= rows {
			panic(fmt.Sprintf("kernels: GatherBytesToFloat32: idx[%d] = %d outside the %d rows of src", i, r, rows))
		}
	}
	raceWrite(dst)
	job := gatherPool.Get().(*gatherJob)
	*job = gatherJob{dst: dst, src: src, idx: idx, width: width, scale: scale}
	job.parts = min(Threads(), len(dst)/minParallelGather+1, len(idx))
	if job.parts > 1 {
		runParallel(job, job.parts)
	} else if len(idx) > 0 {
		job.runPart(0)
	}
	*job = gatherJob{}
	gatherPool.Put(job)
}

// minParallelGather is the fewest floats per worker for which GatherBytesToFloat32 splits its
// work: one MNIST batch of 32 images (25,088) is split in two.
const minParallelGather = 1 << 13

// gatherJob is one GatherBytesToFloat32 call, split into parts of whole rows.
type gatherJob struct {
	dst   []float32
	src   []byte
	idx   []int
	width int
	scale float32
	parts int
}

var gatherPool = sync.Pool{New: func() any { return new(gatherJob) }}

func (j *gatherJob) runPart(part int) {
	lo, hi := part*len(j.idx)/j.parts, (part+1)*len(j.idx)/j.parts
	w := j.width
	var touched byte
	for _, r := range j.idx[lo:hi] {
		row := j.src[r*w : (r+1)*w]
		for k := 0; k < len(row); k += 64 {
			touched |= row[k]
		}
	}
	gatherSink.Store(uint32(touched))
	convert := impl().bytesToFloat32
	for i, r := range j.idx[lo:hi] {
		row := j.src[r*w : (r+1)*w]
		raceRead(row)
		convertBytes(convert, j.dst[(lo+i)*w:(lo+i+1)*w], row, j.scale)
	}
}

// gatherSink keeps the touching loads of runPart from being optimized away: nothing reads
// it, but the compiler cannot drop the store. Atomic, because parts store at once.
var gatherSink atomic.Uint32
