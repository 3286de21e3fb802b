package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lanesml/lanes/datasets/mnist"
	"github.com/lanesml/lanes/kernels"
	"github.com/lanesml/lanes/nn"
)

// trainResult is what `lanes train --json` prints.
type trainResult struct {
	ISA              string        `json:"isa"`
	Threads          int           `json:"threads"`      // in use at the end
	ThreadsAuto      bool          `json:"threads_auto"` // chosen by timing steps (no --threads)
	Batch            int           `json:"batch"`
	Epochs           []epochResult `json:"epochs"`
	TrainSeconds     float64       `json:"train_seconds"`
	SamplesPerSecond float64       `json:"samples_per_second"`
	TestLoss         float64       `json:"test_loss"`
	TestAccuracy     float64       `json:"test_accuracy"`
	Model            string        `json:"model"`
}

type epochResult struct {
	Epoch    int     `json:"epoch"`
	Loss     float64 `json:"loss"`
	Accuracy float64 `json:"accuracy"`
	Seconds  float64 `json:"seconds"`
}

// commonFlags are the flags train and eval share.
type commonFlags struct {
	isa, data string
	threads   int
	json      bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.isa, "isa", "", "kernel tier: avx512, avx2 or generic (default: the best available)")
	fs.StringVar(&c.data, "data", "", "folder with the MNIST IDX files (default: $LANES_MNIST_DIR, else the Go module cache)")
	fs.IntVar(&c.threads, "threads", 0, "worker threads for the kernels (default: train chooses as it goes, timing 1, 2, 4 ... GOMAXPROCS; eval takes GOMAXPROCS)")
	fs.BoolVar(&c.json, "json", false, "print one JSON object with the results on stdout")
}

// apply sets the tier and threads and loads MNIST.
func (c *commonFlags) apply() (train, test *mnist.Set, err error) {
	if c.isa != "" {
		if err := kernels.SetISA(c.isa); err != nil {
			return nil, nil, err
		}
	}
	kernels.SetThreads(c.threads)
	dir := c.data
	if dir == "" {
		if dir, err = mnist.Locate(); err != nil {
			return nil, nil, err
		}
	}
	return mnist.Load(dir)
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lanes train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	epochs := fs.Int("epochs", 5, "passes over the 60,000 training images")
	batch := fs.Int("batch", 32, "examples per step")
	lr := fs.Float64("lr", 0.001, "Adam learning rate")
	seed := fs.Uint64("seed", 1, "seed of the initial weights and of the shuffling")
	out := fs.String("out", "mnist.safetensors", "where to save the trained model")
	quiet := fs.Bool("quiet", false, "no progress output")
	every := fs.Int("checkpoint-every", 1, "save the model and optimizer state to --out every N epochs (0: only at the end)")
	resume := fs.String("resume", "", "continue training from this checkpoint, up to --epochs in all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("train: unexpected argument %q", fs.Arg(0))
	}
	switch {
	case *epochs < 1:
		return fmt.Errorf("train: --epochs must be at least 1, not %d", *epochs)
	case *batch < 1:
		return fmt.Errorf("train: --batch must be at least 1, not %d", *batch)
	case !(*lr > 0) || math.IsInf(*lr, 1): // also NaN
		return fmt.Errorf("train: --lr must be a positive number, not %g", *lr)
	case *every < 0:
		return fmt.Errorf("train: --checkpoint-every must not be negative, not %d", *every)
	}
	if err := checkWritable(*out); err != nil { // before the training it would lose
		return fmt.Errorf("train: --out: %w", err)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var model *nn.Model
	var err error
	if *resume != "" { // before the data: a bad checkpoint fails fast
		if model, err = resumeModel(*resume, set, seed, batch); err != nil {
			return err
		}
	} else {
		net := nn.NewSequential(nn.NewDense(784, 128), nn.NewReLU(), nn.NewDense(128, 10))
		model = &nn.Model{Net: net, Loss: nn.SparseCrossEntropy{}, Optimizer: &nn.Adam{LR: float32(*lr)}}
		model.Init(*seed)
	}
	model.Meta = map[string]string{"seed": strconv.FormatUint(*seed, 10), "batch": strconv.Itoa(*batch)}
	train, test, err := c.apply()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var callbacks []nn.Callback
	autoThreads := c.threads <= 0
	if autoThreads {
		callbacks = append(callbacks, &nn.AutoThreads{})
	}
	if !*quiet {
		callbacks = append(callbacks, newProgress(stderr, *epochs))
	}
	saver := &checkpointer{path: *out, every: *every}
	if *every > 0 {
		callbacks = append(callbacks, saver)
	}
	start := time.Now()
	remaining := *epochs - model.Epoch
	hist := &nn.History{}
	if remaining > 0 {
		hist, err = model.Fit(ctx, train, nn.FitConfig{Epochs: remaining, BatchSize: *batch, Shuffle: true, Seed: *seed, Callbacks: callbacks})
	}
	elapsed := time.Since(start).Seconds() // the weights are final; the last checkpoint may still be on its way to disk
	if werr := saver.wait(); err == nil {
		err = werr
	}
	if errors.Is(err, context.Canceled) {
		kept := "nothing was written"
		if saver.saved > 0 {
			kept = fmt.Sprintf("%s holds the checkpoint of epoch %d (resume with --resume %s)", *out, saver.saved, *out)
		}
		fmt.Fprintf(stderr, "\ninterrupted: stopped after the current step of epoch %d; %s\n", model.Epoch+1, kept)
		return errInterrupted
	}
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	testLoss, testAcc, err := model.Evaluate(test, 1000)
	if err != nil {
		return err
	}
	if saver.saved != model.Epoch { // the last epoch's checkpoint is this very file
		if err := model.Save(*out); err != nil {
			return err
		}
	}
	res := trainResult{ISA: kernels.ISA(), Threads: kernels.Threads(), ThreadsAuto: autoThreads, Batch: *batch, TrainSeconds: elapsed,
		SamplesPerSecond: float64(train.Len()*len(hist.Epochs)) / elapsed, TestLoss: testLoss, TestAccuracy: testAcc, Model: *out}
	for _, e := range hist.Epochs {
		res.Epochs = append(res.Epochs, epochResult{e.Epoch, e.Loss, e.Accuracy, e.Seconds})
	}
	if c.json {
		return json.NewEncoder(stdout).Encode(res)
	}
	chosen := ""
	if res.ThreadsAuto {
		chosen = " at the end, chosen by timing steps"
	}
	fmt.Fprintf(stdout, "test loss %.4f, test accuracy %.4f (%d images)\ntrained %s (to epoch %d) in %.2f s (%.0f samples/s, %s, %s%s); saved %s\n",
		testLoss, testAcc, test.Len(), counted(len(hist.Epochs), "epoch"), model.Epoch, elapsed, res.SamplesPerSecond, res.ISA, counted(res.Threads, "thread"), chosen, *out)
	return nil
}

var errInterrupted = errors.New("interrupted")

// checkWritable reports, before any work is done, why a model could not be saved at path:
// its folder is missing or not writable, or path is a folder.
func checkWritable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder, not a file name", path)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".check*")
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err // the temp file's name says nothing to the user
		}
		return fmt.Errorf("cannot write a file in %s: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// resumeModel loads a checkpoint to train on. Its recorded seed and batch size win (they fix
// the order of the examples); setting either flag to something else is an error.
func resumeModel(path string, set map[string]bool, seed *uint64, batch *int) (*nn.Model, error) {
	model, err := nn.Load(path)
	if err != nil {
		return nil, err
	}
	if model.Optimizer == nil {
		return nil, fmt.Errorf("train: %s has no optimizer state to resume from", path)
	}
	if v, ok := model.Meta["seed"]; ok {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("train: %s: recorded seed %q is not a number", path, v)
		}
		if set["seed"] && s != *seed {
			return nil, fmt.Errorf("train: %s was trained with --seed %d, not %d", path, s, *seed)
		}
		*seed = s
	}
	if v, ok := model.Meta["batch"]; ok {
		b, err := strconv.Atoi(v)
		if err != nil || b < 1 {
			return nil, fmt.Errorf("train: %s: recorded batch size %q is not a count", path, v)
		}
		if set["batch"] && b != *batch {
			return nil, fmt.Errorf("train: %s was trained with --batch %d, not %d", path, b, *batch)
		}
		*batch = b
	}
	return model, nil
}

// checkpointer saves the model atomically after every few epochs. It encodes the model on
// the training goroutine (a copy: training goes on changing it) and writes the bytes on
// another, so that training does not wait for the disk to sync (about 7 ms a checkpoint,
// 2-6% of a 5-epoch run at batch 128). One write is in flight at most: the next checkpoint
// waits for it, so files land in epoch order; call wait before the program ends.
type checkpointer struct {
	path  string
	every int
	saved int // the epoch of the last checkpoint written, 0 for none

	writing      chan error // the write in flight, nil when none
	writingEpoch int        // its epoch
}

func (c *checkpointer) OnBatchEnd(nn.BatchInfo) {}

func (c *checkpointer) OnEpochEnd(m *nn.Model, e nn.EpochInfo) (bool, error) {
	if e.Epoch%c.every != 0 {
		return false, nil
	}
	data, err := m.MarshalBinary()
	if err != nil {
		return false, err
	}
	if err := c.wait(); err != nil {
		return false, err
	}
	done := make(chan error, 1)
	go func() { done <- nn.WriteFileAtomic(c.path, data) }()
	c.writing, c.writingEpoch = done, e.Epoch
	return false, nil
}

// wait blocks until the write in flight, if any, is on disk, and returns its error.
func (c *checkpointer) wait() error {
	if c.writing == nil {
		return nil
	}
	err := <-c.writing
	c.writing = nil
	if err != nil {
		return err
	}
	c.saved = c.writingEpoch
	return nil
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lanes eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c commonFlags
	c.register(fs)
	path := fs.String("model", "", "the saved model (a .safetensors file from lanes train)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("eval: --model is required")
	}
	model, err := nn.Load(*path)
	if err != nil {
		return err
	}
	_, test, err := c.apply()
	if err != nil {
		return err
	}
	loss, acc, err := model.Evaluate(test, 1000)
	if err != nil {
		return err
	}
	if c.json {
		return json.NewEncoder(stdout).Encode(map[string]any{"model": *path, "test_loss": loss, "test_accuracy": acc, "isa": kernels.ISA()})
	}
	fmt.Fprintf(stdout, "%s: test loss %.4f, test accuracy %.4f (%d images)\n", *path, loss, acc, test.Len())
	return nil
}

// progress draws a Keras-like bar per epoch on a terminal, or one line per epoch otherwise.
type progress struct {
	w        io.Writer
	epochs   int
	terminal bool
	last     time.Time
}

func newProgress(w io.Writer, epochs int) *progress {
	p := &progress{w: w, epochs: epochs}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			p.terminal = st.Mode()&os.ModeCharDevice != 0
		}
	}
	return p
}

func (p *progress) OnBatchEnd(b nn.BatchInfo) {
	if !p.terminal {
		return
	}
	if b.Step == 1 {
		fmt.Fprintf(p.w, "Epoch %d/%d\n", b.Epoch, p.epochs)
	} else if b.Step != b.Steps && time.Since(p.last) < 100*time.Millisecond {
		return // redraw at most ten times a second
	}
	p.last = time.Now()
	const width = 30
	done := width * b.Step / b.Steps
	bar := strings.Repeat("=", done) + strings.Repeat(".", width-done)
	if done < width {
		bar = bar[:done] + ">" + bar[done+1:]
	}
	rate := float64(b.Samples) / b.Elapsed.Seconds()
	timing := fmt.Sprintf("ETA %.1fs", b.Elapsed.Seconds()*float64(b.Steps-b.Step)/float64(b.Step))
	if b.Step == b.Steps {
		timing = fmt.Sprintf("%.2fs", b.Elapsed.Seconds())
	}
	fmt.Fprintf(p.w, "\r\033[K%5d/%d [%s] - %s - loss: %.4f - accuracy: %.4f - %.0f samples/s - %s",
		b.Step, b.Steps, bar, timing, b.Loss, b.Accuracy, rate, counted(kernels.Threads(), "thread"))
}

func (p *progress) OnEpochEnd(_ *nn.Model, e nn.EpochInfo) (bool, error) {
	if p.terminal {
		fmt.Fprintf(p.w, "\n")
	} else {
		fmt.Fprintf(p.w, "epoch %d/%d: loss %.4f, accuracy %.4f, %.2f s, %s\n", e.Epoch, p.epochs, e.Loss, e.Accuracy, e.Seconds, counted(kernels.Threads(), "thread"))
	}
	return false, nil
}

// counted says n of noun: "1 thread", "2 threads".
func counted(n int, noun string) string {
	if n != 1 {
		noun += "s"
	}
	return fmt.Sprintf("%d %s", n, noun)
}
