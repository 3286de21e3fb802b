package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/lanesml/lanes/bench"
	"github.com/lanesml/lanes/kernels"
)

func runBench(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lanes bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "measure briefly and skip the largest cases (well under 20 s)")
	asJSON := fs.Bool("json", false, "print the raw figures as JSON instead of a table")
	plotFile := fs.String("plot", "", "draw SGEMM GFLOPS against matrix size into this .svg or .png file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected argument %q", fs.Arg(0))
	}
	if ext := filepath.Ext(*plotFile); *plotFile != "" && ext != ".svg" && ext != ".png" {
		return fmt.Errorf("bench: --plot %s: want a .svg or .png file", *plotFile)
	}
	start := time.Now()
	results := bench.Run(bench.Options{Quick: *quick})
	if *plotFile != "" {
		if err := drawPlot(*plotFile, results); err != nil {
			return err
		}
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(results)
	}
	printTable(stdout, results, time.Since(start))
	if *plotFile != "" {
		fmt.Fprintf(stdout, "\nplot: %s\n", *plotFile)
	}
	return nil
}

// column is one implementation at one thread count.
type column struct {
	tier    string
	threads int
}

func printTable(w io.Writer, results []bench.Result, took time.Duration) {
	fmt.Fprintf(w, "lanes bench: %s, GOMAXPROCS %d, %s (%.1f s)\n", kernels.CPUModel(), runtime.GOMAXPROCS(0),
		time.Now().Format("2006-01-02"), took.Seconds())
	var peaks []string
	for _, r := range results {
		if r.Group == "peak" {
			peaks = append(peaks, fmt.Sprintf("%s %.1f GFLOPS", r.Tier, r.Value))
		}
	}
	fmt.Fprintf(w, "FMA peak per thread, measured now: %s\n", strings.Join(peaks, ", "))
	for _, g := range []struct{ group, title string }{
		{"sgemm", "SGEMM, GFLOPS (% of the tier's peak x threads)"},
		{"vector", "vector kernels, GB/s"},
		{"train", "MNIST MLP training step, samples/s"},
	} {
		var cols []column
		var cases []string
		cell := map[string]map[column]bench.Result{}
		for _, r := range results {
			if r.Group != g.group {
				continue
			}
			c := column{r.Tier, r.Threads}
			if cell[r.Case] == nil {
				cell[r.Case] = map[column]bench.Result{}
				cases = append(cases, r.Case)
			}
			if _, seen := cellOf(cell, c); !seen {
				cols = append(cols, c)
			}
			cell[r.Case][c] = r
		}
		fmt.Fprintf(w, "\n%s\n", g.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprint(tw, "\t")
		for _, c := range cols {
			fmt.Fprintf(tw, "%s t%d\t", c.tier, c.threads)
		}
		fmt.Fprintln(tw)
		for _, name := range cases {
			fmt.Fprintf(tw, "%s\t", name)
			for _, c := range cols {
				r, ok := cell[name][c]
				switch {
				case !ok:
					fmt.Fprint(tw, "-\t")
				case r.OfPeak > 0:
					fmt.Fprintf(tw, "%s (%.0f%%)\t", figure(r.Value), 100*r.OfPeak)
				default:
					fmt.Fprintf(tw, "%s\t", figure(r.Value))
				}
			}
			fmt.Fprintln(tw)
		}
		tw.Flush()
	}
}

// cellOf reports whether any case already has column c.
func cellOf(cell map[string]map[column]bench.Result, c column) (bench.Result, bool) {
	for _, row := range cell {
		if r, ok := row[c]; ok {
			return r, true
		}
	}
	return bench.Result{}, false
}

func figure(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.0f", v)
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}

// drawPlot draws GFLOPS against n for the n x n x n products: one line per tier and thread
// count, and gonum's.
func drawPlot(path string, results []bench.Result) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("SGEMM n x n x n, %s", kernels.CPUModel())
	p.X.Label.Text = "matrix size n"
	p.Y.Label.Text = "GFLOPS"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.ConstantTicks(sizeTicks(results))
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	lines := map[column]plotter.XYs{}
	var order []column
	top := 0.0
	for _, r := range results {
		if r.Group != "sgemm" || r.Size == 0 {
			continue
		}
		top = max(top, r.Value)
		c := column{r.Tier, r.Threads}
		if _, ok := lines[c]; !ok {
			order = append(order, c)
		}
		lines[c] = append(lines[c], plotter.XY{X: float64(r.Size), Y: r.Value})
	}
	colors := tierColors(order)
	for i, c := range order {
		xy := lines[c]
		sort.Slice(xy, func(a, b int) bool { return xy[a].X < xy[b].X })
		l, pts, err := plotter.NewLinePoints(xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = colors[i], colors[i]
		if c.threads == 1 {
			l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		}
		p.Add(l, pts)
		label := fmt.Sprintf("%s, %d threads", c.tier, c.threads)
		if c.threads == 1 {
			label = c.tier + ", 1 thread"
		}
		p.Legend.Add(label, l, pts)
	}
	p.Y.Min, p.Y.Max = 0, 1.45*top // room above the lines for the legend
	if err := p.Save(7*vg.Inch, 4.5*vg.Inch, path); err != nil {
		return fmt.Errorf("bench: --plot: %w", err)
	}
	return nil
}

func sizeTicks(results []bench.Result) []plot.Tick {
	seen := map[int]bool{}
	var ticks []plot.Tick
	for _, r := range results {
		if r.Size > 0 && !seen[r.Size] {
			seen[r.Size] = true
			ticks = append(ticks, plot.Tick{Value: float64(r.Size), Label: fmt.Sprint(r.Size)})
		}
	}
	return ticks
}
