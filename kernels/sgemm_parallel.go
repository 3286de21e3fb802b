package kernels

import (
	"sync"
)

// minParallelWork is the smallest product, in multiply-adds, that is split across workers:
// below it, handing a block to another goroutine costs more than it saves.
const minParallelWork = 1 << 20

// runGemm splits p into a fixed grid of blocks, one per worker, and computes them; the
// calling goroutine takes block 0. Each block is a whole sub-product of C with its own pack
// buffers, and every element of C is summed in the same order whatever the split, so the
// result does not depend on the number of workers.
func runGemm(g *gemmConfig, p *gemmProblem) {
	work := float64(p.m) * float64(p.n) * float64(p.k) // multiply-adds; float64 cannot overflow
	workers := min(Threads(), int(min(work/minParallelWork, 1<<20))+1)
	// Split the dimension that has more register tiles, in whole tiles.
	tilesM, tilesN := (p.m+g.mr-1)/g.mr, (p.n+g.nr-1)/g.nr
	splitN := tilesN >= tilesM
	tiles := tilesM
	if splitN {
		tiles = tilesN
	}
	workers = min(workers, tiles)
	if workers <= 1 {
		buf := packPool.Get().(*packBuffers)
		gemmSerial(g, p, buf)
		packPool.Put(buf)
		return
	}
	job := jobPool.Get().(*gemmJob)
	job.cfg, job.whole, job.parts, job.splitN = g, *p, workers, splitN
	runParallel(job, workers)
	job.whole = gemmProblem{} // drop references to the caller's slices
	jobPool.Put(job)
}

// gemmJob is one parallel Sgemm call, shared by the workers computing its blocks.
type gemmJob struct {
	cfg    *gemmConfig
	whole  gemmProblem
	parts  int
	splitN bool
}

var jobPool = sync.Pool{New: func() any { return new(gemmJob) }}

// block returns part's share of the problem: a contiguous run of whole register tiles
// along the split dimension.
func (j *gemmJob) block(part int) gemmProblem {
	p := j.whole
	tile, size := j.cfg.mr, p.m
	if j.splitN {
		tile, size = j.cfg.nr, p.n
	}
	tiles := (size + tile - 1) / tile
	lo := min(size, part*tiles/j.parts*tile)
	hi := min(size, (part+1)*tiles/j.parts*tile)
	if j.splitN {
		p.n = hi - lo
		p.c = p.c[lo:]
		if p.transB {
			p.b = p.b[lo*p.ldb:]
		} else {
			p.b = p.b[lo:]
		}
	} else {
		p.m = hi - lo
		p.c = p.c[lo*p.ldc:]
		if p.transA {
			p.a = p.a[lo:]
		} else {
			p.a = p.a[lo*p.lda:]
		}
	}
	return p
}

func (j *gemmJob) runPart(part int) {
	p := j.block(part)
	if p.m == 0 || p.n == 0 {
		return
	}
	buf := packPool.Get().(*packBuffers)
	gemmSerial(j.cfg, &p, buf)
	packPool.Put(buf)
}
