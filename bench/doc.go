// Package bench holds lanes' benchmark suites and the code behind `lanes bench`: every
// kernel on every tier this machine can run, side by side in one run, with the figure that
// matters as a metric: GFLOPS for Sgemm (gonum's beside it), GB/s for the vector kernels,
// samples/s for a training step of the MNIST MLP.
//
// Names are <kernel>/<tier>/<case>, with /threads=<n> where the thread count varies:
//
//	BenchmarkSgemm/avx2/32x784x128/threads=1
//	BenchmarkSoftmax/generic/256x1000
//	BenchmarkTrainStep/avx2/batch32
//
// Compare two commits with benchstat (golang.org/x/perf/cmd/benchstat), several runs each:
//
//	go test -run '^$' -bench 'Sgemm/avx2' -count 10 ./bench/ > old.txt
//	(change, rebuild)
//	go test -run '^$' -bench 'Sgemm/avx2' -count 10 ./bench/ > new.txt
//	benchstat old.txt new.txt
//
// Select one tier's rows from a file with a filter on the full name, for example
// `benchstat -filter '.fullname:/\/avx2\//' new.txt`; `lanes bench` prints the tiers as
// columns of one table.
package bench
