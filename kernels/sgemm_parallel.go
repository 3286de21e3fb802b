package kernels

import (
	"sync"
	"sync/atomic"
)

// minParallelWork is the smallest product, in multiply-adds, that is split across workers:
// below it, handing a block to another goroutine costs more than it saves. Measured on the
// development machine (2 threads against 1 << 20, which kept these on one goroutine; best of
// six interleaved runs, us): 32x128x32 5.5 vs 6.5, 64^3 7.4 vs 9.7, 128x128x16 7.3 vs 8.8,
// 256x64x16 7.6 vs 11.0, 96^3 15.8 vs 23.6, and the MLP's batch-128 layer-2 products (about
// 164K each) 6.0-7.0 vs 6.2-7.1 at best but 6.5-7.2 vs 8.7-9.3 at the median; 32^3 (33K) is
// faster on one goroutine (1.3 vs 1.7 split), so products under 1 << 17 stay there.
const minParallelWork = 1 << 17

// runGemm computes p: by the sparse path when op(A) is mostly zeros (sgemm_sparse.go),
// otherwise by the dense one.
func runGemm(g *gemmConfig, p *gemmProblem) {
	if ok, density := sparseWorth(p); ok && runSparse(g, p, density) {
		return
	}
	runDense(g, p)
}

// workersFor is how many workers a product of work multiply-adds is worth.
func workersFor(work float64) int {
	return min(workers(), int(min(work/minParallelWork, 1<<20))+1)
}

// runDense splits p into a fixed grid of blocks of C, one per worker, and computes them; the
// calling goroutine takes block 0. Each block is a whole sub-product of C with its own pack
// buffers, and every element of C is summed in the same order whatever the split, so the
// result does not depend on the number of workers. A narrow C goes to g's narrow recipe, a
// C narrower than a sliver (and tall enough) to its transpose.
func runDense(g *gemmConfig, p *gemmProblem) {
	g = g.recipeFor(p)
	if transposeWorth(g, p) {
		runTransposed(g, p)
		return
	}
	work := float64(p.m) * float64(p.n) * float64(p.k) // float64 cannot overflow
	rowParts, colParts := gemmGrid(g, p, workersFor(work))
	if rowParts*colParts <= 1 {
		buf := packPool.Get().(*packBuffers)
		gemmSerial(g, p, buf)
		packPool.Put(buf)
		return
	}
	job := jobPool.Get().(*gemmJob)
	job.cfg, job.whole, job.rowParts, job.colParts = g, *p, rowParts, colParts
	job.sparse, job.checkB, job.splitK = false, false, false
	runParallel(job, rowParts*colParts)
	job.whole = gemmProblem{} // drop references to the caller's slices
	jobPool.Put(job)
}

// recipeFor is the recipe runDense computes p with: g, or g.narrow for a C at most half a
// sliver wide.
func (g *gemmConfig) recipeFor(p *gemmProblem) *gemmConfig {
	if g.narrow != nil && p.n <= g.nr/2 {
		return g.narrow
	}
	return g
}

// transposeWorth reports whether p's transpose fills the register tiles better: a C narrower
// than one nr-column sliver (the MLP's 10 classes) leaves most of each tile's columns empty,
// where its transpose puts those few columns down the tile's rows, and C's many rows along
// them. It asks for a quarter fewer padded multiply-adds.
func transposeWorth(g *gemmConfig, p *gemmProblem) bool {
	if p.n >= g.nr || p.m < g.nr {
		return false
	}
	fill := func(size, tile int) float64 { return float64(size) / float64(roundUp(size, tile)) }
	return fill(p.m, g.nr)*fill(p.n, g.mr) >= 1.25*fill(p.n, g.nr)*fill(p.m, g.mr)
}

// runTransposed computes p as C^T = op(B)^T * op(A)^T into a scratch matrix, then copies it
// into C. Each element is the same products (x*y is y*x, to the bit) summed in the same
// order, with the same write-back, so C is the same as runDense would make it directly.
func runTransposed(g *gemmConfig, p *gemmProblem) {
	buf := packPool.Get().(*packBuffers)
	ct := grow(buf.ct, p.m*p.n)
	buf.ct = ct
	if p.beta != 0 { // beta == 0: C is not read, nor is the scratch
		g.transpose(ct, p.m, p.c, p.ldc, p.m, p.n)
	}
	t := gemmProblem{transA: !p.transB, transB: !p.transA, m: p.n, n: p.m, k: p.k, alpha: p.alpha,
		a: p.b, lda: p.ldb, b: p.a, ldb: p.lda, beta: p.beta, c: ct, ldc: p.m}
	runDense(g, &t) // t.n = p.m >= nr: not transposed again
	g.transpose(p.c, p.ldc, ct, p.m, p.n, p.m)
	packPool.Put(buf)
}

// transposeGeneric is gemmConfig.transpose in plain Go.
func transposeGeneric(dst []float32, ldd int, src []float32, lds, rows, cols int) {
	for i := 0; i < rows; i++ {
		for j, v := range src[i*lds : i*lds+cols] {
			dst[j*ldd+i] = v
		}
	}
}

// runSparse computes p by the sparse path and reports true; or, when B holds Inf or NaN,
// reports false, leaving C as it was or, when beta == 0, anything. Its workers split C's rows
// (each marks the nonzeros of its own), or, for two workers and a k of two blocks (splitK),
// the two blocks.
//
// When beta == 0, C is not an input, so each worker checks B block by block as it uses it
// (while the block is in cache anyway) and a bad B sends the product back to the dense path,
// which overwrites C. Otherwise the caller checks all of B before C is touched.
func runSparse(g *gemmConfig, p *gemmProblem, density float64) bool {
	// A multiply-add of the sparse path reads its row of B from L1 or L2 in place, where
	// the dense kernel reuses registers: count each as sparseCost dense ones.
	work := float64(p.m) * float64(p.n) * float64(p.k) * density * sparseCost
	parts := min(workersFor(work), p.m)
	checkAsUsed := p.beta == 0
	if !checkAsUsed && !g.sparse.finite(p.k, p.n, p.b, p.ldb) {
		return false
	}
	if parts <= 1 {
		var check checkShare
		if checkAsUsed {
			check.parts = 1
		}
		buf := packPool.Get().(*packBuffers)
		ok := gemmSparseSerial(g, p, buf, check)
		packPool.Put(buf)
		return ok
	}
	job := jobPool.Get().(*gemmJob)
	job.cfg, job.whole, job.rowParts, job.colParts, job.sparse = g, *p, parts, 1, true
	job.checkB = checkAsUsed
	job.nonFinite.Store(false)
	job.splitK = parts == 2 && splitK(g, p)
	if job.splitK {
		job.second = grow(job.second, p.m*p.n)
	}
	runParallel(job, parts)
	ok := !job.nonFinite.Load()
	if ok && job.splitK { // C += the second block's sums, as the serial write-back adds them
		if p.ldc == p.n {
			Axpy(1, job.second, p.c[:p.m*p.n])
		} else {
			for i := range p.m {
				Axpy(1, job.second[i*p.n:(i+1)*p.n], p.c[i*p.ldc:i*p.ldc+p.n])
			}
		}
	}
	job.whole = gemmProblem{}
	jobPool.Put(job)
	return ok
}

// splitK reports whether two workers of the sparse path should each take one of op(A)'s
// two blocks of kc columns (and B's rows) for all of C's rows, rather than half of the rows
// for all of k: when k is two blocks of nearly equal size, C's write-back is C = alpha*sums
// (beta == 0) with alpha == 1, and B is at least twice the size of C. The first worker
// writes its block's sums into C, the second into a scratch matrix that the caller then adds
// to C: exactly the addition the serial path's write-back of the second block makes (C =
// 1*sums + 1*C), so C is the same to the bit.
//
// Each worker then reads only its half of B, where cut along M both read all of it; so
// B (the MLP's W1) stays in the cache of one core from the step's forward product to its
// update, whose halves are cut at nearly the same row: writing a line no longer takes it
// back from the other core's cache. Measured in the throwaway A/B harness (batch 128, 2
// threads, the two cuts alternating every 16 steps of a 2-epoch run), us a step: in busy
// minutes (a neighbour slowing this machine's loads) 478 -> 428 and 535 -> 445, Adam in it
// 104 -> 50 and 120 -> 53; in calm ones +14, +2.5, +3 and +4 (the add, and the halves'
// different nonzero counts, against Adam's gain). Batch 32: 146.5 -> 146.3, 155.3 -> 152.3,
// 149.0 -> 146.6. Batch 256 (k = 3.1m): 575.6 -> 572.5 and 676.0 -> 623.2; batch 512
// (k = 1.5m), where the add is four times longer: 1588 -> 1574 and 1644 -> 1732.
func splitK(g *gemmConfig, p *gemmProblem) bool {
	second := p.k - g.kc
	return p.alpha == 1 && p.beta == 0 && second > 0 && second <= g.kc && 4*second >= 3*g.kc &&
		p.k >= 2*p.m
}

// gemmGrid chooses how many parts C is cut into along M (rowParts, in whole mr-row tiles)
// and along N (colParts, in whole nr-column tiles), using at most workers parts. Every
// worker reads, and packs, all of op(B) for its columns and all of op(A) for its rows: a
// grid reads B rowParts times over and A colParts times, where cutting one dimension only
// would have each of many workers read all of one operand.
//
// Of the grids with the most parts, it takes the one whose largest part has the fewest
// tiles (the critical path; within 3%, a tie), then the one that reads the fewest floats,
// then the one with more row parts.
func gemmGrid(g *gemmConfig, p *gemmProblem, workers int) (rowParts, colParts int) {
	tilesM, tilesN := ceilDiv(p.m, g.mr), ceilDiv(p.n, g.nr)
	workers = min(workers, tilesM*tilesN)
	sizeA, sizeB := float64(p.m)*float64(p.k), float64(p.k)*float64(p.n)
	rowParts, colParts = 1, 1
	bestParts, bestTiles, bestReads := 0, 0, 0.0
	for rp := 1; rp <= min(workers, tilesM); rp++ {
		cp := min(workers/rp, tilesN)
		parts := rp * cp
		tiles := ceilDiv(tilesM, rp) * ceilDiv(tilesN, cp)
		reads := float64(rp)*sizeB + float64(cp)*sizeA
		better := parts > bestParts
		if parts == bestParts {
			switch {
			case float64(tiles) < 0.97*float64(bestTiles):
				better = true
			case float64(tiles) <= 1.03*float64(bestTiles):
				better = reads <= bestReads
			}
		}
		if better {
			rowParts, colParts = rp, cp
			bestParts, bestTiles, bestReads = parts, tiles, reads
		}
	}
	return rowParts, colParts
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// gemmJob is one parallel Sgemm call, shared by the workers computing its blocks.
type gemmJob struct {
	cfg                *gemmConfig
	whole              gemmProblem
	rowParts, colParts int
	sparse             bool // each part takes the sparse path

	// checkB asks the sparse parts to check B for Inf and NaN, each its share of the
	// blocks (checkShare); nonFinite is set when one finds any.
	checkB    bool
	nonFinite atomic.Bool

	// splitK: part 0 computes the first kc steps of k into C, part 1 the rest into second
	// (rows of n floats), which the caller adds to C (see splitK).
	splitK bool
	second []float32
}

var jobPool = sync.Pool{New: func() any { return new(gemmJob) }}

// block returns part's share of the problem: one cell of the rowParts x colParts grid, each
// side a contiguous run of whole register tiles (on the sparse path, of rows: it has no
// tiles).
func (j *gemmJob) block(part int) gemmProblem {
	p := j.whole
	rowTile := j.cfg.mr
	if j.sparse {
		rowTile = 1
	}
	lo, hi := span(part/j.colParts, j.rowParts, p.m, rowTile)
	p.m = hi - lo
	p.c = p.c[lo*p.ldc:]
	p.moveA(lo, 0)
	lo, hi = span(part%j.colParts, j.colParts, p.n, j.cfg.nr)
	p.n = hi - lo
	p.c = p.c[lo:]
	if p.transB {
		p.b = p.b[lo*p.ldb:]
	} else {
		p.b = p.b[lo:]
	}
	return p
}

// moveA makes op(A), bytes or floats, start at its row i and column q.
func (p *gemmProblem) moveA(i, q int) {
	at := i*p.lda + q // op(A)[i][q] is A[i*lda+q], or A[q*lda+i] when transposed
	if p.transA {
		at = q*p.lda + i
	}
	if p.a8 != nil {
		p.a8 = p.a8[at:]
	} else {
		p.a = p.a[at:]
	}
}

// span returns the range of indices below size that part i of parts covers, cut at whole
// tiles of the given size.
func span(i, parts, size, tile int) (lo, hi int) {
	tiles := ceilDiv(size, tile)
	return min(size, i*tiles/parts*tile), min(size, (i+1)*tiles/parts*tile)
}

// kBlock returns part's share of a splitK problem: op(A)'s first kc columns and B's first
// kc rows into C, or the rest into j.second.
func (j *gemmJob) kBlock(part int) gemmProblem {
	p := j.whole
	if part == 0 {
		p.k = j.cfg.kc
		return p
	}
	kc := j.cfg.kc
	p.k -= kc
	p.moveA(0, kc)
	p.b = p.b[kc*p.ldb:] // splitK: B not transposed
	p.c, p.ldc = j.second, p.n
	return p
}

func (j *gemmJob) runPart(part int) {
	var p gemmProblem
	if j.splitK {
		p = j.kBlock(part)
	} else {
		p = j.block(part)
	}
	if p.m == 0 || p.n == 0 {
		return
	}
	buf := packPool.Get().(*packBuffers)
	if j.sparse {
		var check checkShare
		switch {
		case j.checkB && j.splitK: // each part uses its own blocks of B
			check = checkShare{0, 1}
		case j.checkB:
			check = checkShare{part, j.rowParts * j.colParts}
		}
		if !gemmSparseSerial(j.cfg, &p, buf, check) {
			j.nonFinite.Store(true)
		}
	} else {
		gemmSerial(j.cfg, &p, buf)
	}
	packPool.Put(buf)
}
