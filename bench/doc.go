// Package bench holds lanes' benchmark suites: every kernel on every tier this machine can
// run, side by side in one run, with the figure that matters reported as a metric (GB/s for
// vector kernels).
//
// Run them, and compare tiers or commits with benchstat (golang.org/x/perf/cmd/benchstat):
//
//	go test -run '^$' -bench . -count 10 ./bench/ > new.txt
//	benchstat old.txt new.txt
//
// Sub-benchmark names are <kernel>/<tier>/<size>, so benchstat can put tiers in columns:
//
//	benchstat -col /tier new.txt   (after naming the tier key, see benchstat's docs)
package bench
