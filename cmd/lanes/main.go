// Command lanes trains and evaluates lanes models and reports what the CPU offers.
//
//	lanes cpu      the CPU model, the features lanes uses, the tiers and the one in use, and
//	               how long a cache line takes to go between two of its cores and back
//	lanes train    train the MNIST MLP (784-128-10, Adam, batch 32, 5 epochs) and save it
//	lanes eval     test loss and accuracy of a saved model
//	lanes bench    SGEMM, vector kernels and training on every tier, beside gonum
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lanesml/lanes/kernels"
)

const usage = `usage: lanes <command> [flags]

commands:
  cpu     print the CPU model, the features lanes uses, the kernel tiers, and the
          round trip of a cache line between two cores
  train   train the MNIST MLP and save it (lanes train -h for its flags)
  eval    test loss and accuracy of a saved model (--model PATH)
  bench   measure every tier, 1 thread and all, beside gonum (--quick, --json, --plot FILE)

LANES_ISA=generic|avx2|avx512 picks the kernel tier (default: the best available).
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "cpu":
		err = runCPU(os.Stdout, args)
	case "train":
		err = runTrain(args, os.Stdout, os.Stderr)
	case "eval":
		err = runEval(args, os.Stdout, os.Stderr)
	case "bench":
		err = runBench(args, os.Stdout, os.Stderr)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "lanes: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errInterrupted):
		os.Exit(130)
	case err != nil:
		fmt.Fprintf(os.Stderr, "lanes: %v\n", err)
		os.Exit(1)
	}
}

func runCPU(w io.Writer, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("cpu takes no arguments, got %q", args)
	}
	fmt.Fprintf(w, "cpu       %s\n", kernels.CPUModel())
	var feats []string
	for _, f := range kernels.Features() {
		mark := "-"
		if f.Present {
			mark = "+"
		}
		feats = append(feats, mark+f.Name)
	}
	fmt.Fprintf(w, "features  %s\n", strings.Join(feats, " "))
	fmt.Fprintf(w, "tiers     %s\n", strings.Join(kernels.Available(), ", "))
	how := "best available"
	if v := os.Getenv("LANES_ISA"); v == kernels.ISA() {
		how = "LANES_ISA=" + v
	} else if v != "" {
		how = "LANES_ISA=" + v + " ignored: not available here"
	}
	fmt.Fprintf(w, "using     %s (%s)\n", kernels.ISA(), how)
	fmt.Fprintf(w, "cores     %s\n", roundTripLine())
	return nil
}
