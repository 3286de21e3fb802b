package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"image/color"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lanesml/lanes/bench"
	"github.com/lanesml/lanes/datasets/mnist"
	"github.com/lanesml/lanes/nn"
)

func TestCPU(t *testing.T) {
	var out bytes.Buffer
	if err := runCPU(&out, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cpu ", "AVX2", "AVX512_BF16", "tiers", "generic", "using", "cores "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("lanes cpu output lacks %q:\n%s", want, out.String())
		}
	}
	if err := runCPU(&out, []string{"x"}); err == nil {
		t.Error("lanes cpu x: no error")
	}
}

// TestCoreRoundTrip: between two CPUs this process may use, a round trip takes some time,
// under 50 us (tens to hundreds of nanoseconds on an idle machine; other tests running at
// once can make it longer, and make it give up, which skips the check); a CPU that does not
// exist is an error naming it, not a hang.
func TestCoreRoundTrip(t *testing.T) {
	a, b, ok := firstTwoCPUs()
	if !ok {
		t.Skip("fewer than two CPUs")
	}
	d, err := coreRoundTrip(a, b)
	if runtime.GOOS != "linux" {
		if err == nil {
			t.Errorf("coreRoundTrip on %s: no error", runtime.GOOS)
		}
		return
	}
	if errors.Is(err, errNoAnswer) {
		t.Skip(err)
	}
	if err != nil || d <= 0 || d > 50*time.Microsecond {
		t.Fatalf("coreRoundTrip(%d, %d) = %v, %v", a, b, d, err)
	}
	if _, err := coreRoundTrip(a, 1<<20); err == nil || !strings.Contains(err.Error(), "CPU 1048576") {
		t.Errorf("round trip to CPU 1<<20: error %v, want one naming it", err)
	}
}

// TestTrainAndEval trains one epoch on the real MNIST with the built command, then
// evaluates the saved model. (In a subprocess: training in this process would grow it, and a
// child's reported peak memory includes its parent's at the moment of the fork.)
func TestTrainAndEval(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	bin := buildLanes(t)
	model := filepath.Join(t.TempDir(), "m.safetensors")
	cmd := exec.Command(bin, "train", "--epochs", "1", "--json", "--out", model)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var res trainResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	if res.TestAccuracy < 0.95 || len(res.Epochs) != 1 || res.Model != model || res.Batch != 32 {
		t.Errorf("one epoch: %+v", res)
	}
	if !res.ThreadsAuto || res.Threads < 1 || res.Threads > runtime.GOMAXPROCS(0) {
		t.Errorf("without --threads: threads %d, threads_auto %v; want a count chosen from 1 to GOMAXPROCS", res.Threads, res.ThreadsAuto)
	}
	if !strings.Contains(errOut.String(), "epoch 1/1") {
		t.Errorf("progress on a non-terminal should be one line per epoch, got %q", errOut.String())
	}
	ev, err := exec.Command(bin, "eval", "--model", model, "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		TestAccuracy float64 `json:"test_accuracy"`
	}
	json.Unmarshal(ev, &got)
	if got.TestAccuracy != res.TestAccuracy {
		t.Errorf("eval of the saved model: accuracy %v, train reported %v", got.TestAccuracy, res.TestAccuracy)
	}
}

// buildLanes builds the command once per test binary.
var builtLanes string

func buildLanes(t *testing.T) string {
	t.Helper()
	if builtLanes == "" {
		dir, err := os.MkdirTemp("", "lanes-test")
		if err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(dir, "lanes")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("build: %v\n%s", err, out)
		}
		builtLanes = bin
	}
	return builtLanes
}

// idxFile builds an IDX file.
func idxFile(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gzipped(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// TestHostileInputs runs the built command on malformed MNIST folders and checkpoints: each
// must exit non-zero within a second, with one line naming the file and the problem, no
// panic, and under 100 MB of memory.
func TestHostileInputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := buildLanes(t)
	dir := t.TempDir()
	good, err := os.ReadFile(filepath.Join(mnistDir(t), "t10k-labels-idx1-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	// A folder whose training-images file is the given bytes (other files valid).
	dataDir := func(name string, images []byte, labels []byte) string {
		d := filepath.Join(dir, name)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "train-images-idx3-ubyte"), images, 0o644)
		if labels == nil {
			labels = idxFile(0x801, []uint32{2}, []byte{1, 2})
		}
		os.WriteFile(filepath.Join(d, "train-labels-idx1-ubyte"), labels, 0o644)
		os.WriteFile(filepath.Join(d, "t10k-images-idx3-ubyte"), idxFile(0x803, []uint32{2, 1, 1}, []byte{1, 2}), 0o644)
		os.WriteFile(filepath.Join(d, "t10k-labels-idx1-ubyte.gz"), good, 0o644)
		return d
	}
	img := idxFile(0x803, []uint32{2, 28, 28}, make([]byte, 2*784))
	modelPath := filepath.Join(dir, "good.safetensors")
	if out, err := exec.Command(bin, "train", "--epochs", "1", "--quiet", "--out", modelPath).CombinedOutput(); err != nil {
		t.Fatalf("training a model to damage: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(modelPath)
	hlen := binary.LittleEndian.Uint64(raw)
	header := string(raw[8 : 8+hlen])
	ckpt := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o644)
		return p
	}
	withHeader := func(h string) []byte {
		for len(h)%8 != 0 {
			h += " "
		}
		return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...), raw[8+hlen:]...)
	}
	cases := []struct {
		name string
		args []string
		want string // in the one-line error
	}{
		{"empty", []string{"train", "--data", dataDir("empty", []byte{}, nil)}, "file ends early"},
		{"wrong-magic", []string{"train", "--data", dataDir("magic", idxFile(0x804, []uint32{2, 28, 28}, nil), nil)}, "magic number"},
		{"truncated-gzip", []string{"train", "--data", dataDir("gzip", gzipped(img)[:40], nil)}, "train-images"},
		{"claims-2^31-images", []string{"train", "--data", dataDir("huge", idxFile(0x803, []uint32{1 << 31, 28, 28}, []byte{1, 2, 3}), nil)}, "more than"},
		{"label-count", []string{"train", "--data", dataDir("count", img, idxFile(0x801, []uint32{3}, []byte{1, 2, 3}))}, "3 labels for the 2 images"},
		{"zero-dimension", []string{"train", "--data", dataDir("zero", idxFile(0x803, []uint32{2, 0, 28}, nil), nil)}, "dimension 1 is zero"},
		{"ckpt-truncated", []string{"eval", "--model", ckpt("trunc", raw[:len(raw)/2])}, "outside"},
		{"ckpt-header-length", []string{"eval", "--model", ckpt("hlen", binary.LittleEndian.AppendUint64(nil, 1<<40))}, "does not fit"},
		{"ckpt-offsets", []string{"eval", "--model", ckpt("offs", withHeader(strings.Replace(header, `"data_offsets":[0,`, `"data_offsets":[999999999,`, 1)))}, "outside"},
		{"ckpt-dtype", []string{"eval", "--model", ckpt("dtype", withHeader(strings.Replace(header, `"F32"`, `"BF16"`, 1)))}, "dtype"},
		{"ckpt-shape", []string{"eval", "--model", ckpt("shape", withHeader(strings.Replace(header, `[784,128]`, `[128,784]`, 1)))}, "architecture says"},
		{"ckpt-not-object", []string{"eval", "--model", ckpt("json", withHeader(`["layers"]`))}, "not a JSON object"},
		{"resume-bad", []string{"train", "--resume", ckpt("resume", []byte("xx"))}, "too short"},
	}
	for _, c := range cases {
		start := time.Now()
		cmd := exec.Command(bin, c.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		took := time.Since(start)
		msg := strings.TrimSpace(stderr.String())
		rss := int64(0) // KiB on Linux; it counts this test process's size at the fork too
		if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = u.Maxrss
		}
		t.Logf("%-20s %4d ms %6d KiB  %s", c.name, took.Milliseconds(), rss, msg)
		if err == nil || strings.Contains(msg, "panic") || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "lanes: ") {
			t.Errorf("%s: exit %v, stderr %q: want a non-zero exit and one line starting 'lanes: '", c.name, err, msg)
		}
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, dir) {
			t.Errorf("%s: %q should name the file and say %q", c.name, msg, c.want)
		}
		// A guard against a hang or a read driven by the header's sizes, not a speed
		// check: each case fails in milliseconds, and a shared CI machine (or qemu) may
		// stall a process for a second or two.
		if took > 10*time.Second {
			t.Errorf("%s took %v", c.name, took)
		}
		if rss > 100<<10 {
			t.Errorf("%s used %d KiB", c.name, rss)
		}
	}
}

func mnistDir(t *testing.T) string {
	t.Helper()
	dir, err := mnist.Locate()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestKillAndResume kills a training run with SIGKILL in the middle of its second epoch,
// resumes it from the last checkpoint, and checks that the final weights are bit-identical
// to those of a run that was never interrupted.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST three times")
	}
	bin := buildLanes(t)
	dir := t.TempDir()
	straight, killed, resumed := filepath.Join(dir, "straight"), filepath.Join(dir, "killed"), filepath.Join(dir, "resumed")
	args := []string{"train", "--epochs", "3", "--threads", "2", "--quiet"}
	if out, err := exec.Command(bin, append(args, "--out", straight)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	run := exec.Command(bin, append(args, "--out", killed, "--checkpoint-every", "1")...)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	deadline := time.After(2 * time.Minute)
	for waiting := true; waiting; { // the first checkpoint appears at the end of epoch 1
		select {
		case err := <-exited:
			t.Fatalf("the run ended (%v) before its first checkpoint", err)
		case <-deadline:
			run.Process.Kill()
			t.Fatal("no checkpoint after 2 minutes")
		case <-time.After(2 * time.Millisecond):
			_, err := os.Stat(killed)
			waiting = err != nil
		}
	}
	time.Sleep(100 * time.Millisecond) // into epoch 2
	run.Process.Signal(syscall.SIGKILL)
	if err := <-exited; err == nil {
		t.Fatal("the run finished before it could be killed")
	}
	m, err := nn.Load(killed)
	if err != nil {
		t.Fatalf("checkpoint left by the killed run: %v", err)
	}
	t.Logf("killed during epoch %d; checkpoint at epoch %d", m.Epoch+1, m.Epoch)
	if out, err := exec.Command(bin, append(args, "--resume", killed, "--out", resumed)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	a, err := nn.Load(straight)
	if err != nil {
		t.Fatal(err)
	}
	b, err := nn.Load(resumed)
	if err != nil {
		t.Fatal(err)
	}
	pa, pb := a.Net.Params(), b.Net.Params()
	for i := range pa {
		wa, wb := pa[i].Value.Data(), pb[i].Value.Data()
		for j := range wa {
			if math.Float32bits(wa[j]) != math.Float32bits(wb[j]) {
				t.Fatalf("%s[%d]: uninterrupted %v, killed and resumed %v", pa[i].Name, j, wa[j], wb[j])
			}
		}
	}
}

func TestBenchTableAndPlot(t *testing.T) {
	results := []bench.Result{
		{Group: "peak", Case: "fma", Tier: "avx2", Threads: 1, Value: 95, Unit: "GFLOPS"},
		{Group: "sgemm", Case: "128x128x128", Tier: "avx2", Threads: 1, Value: 80, Unit: "GFLOPS", Size: 128, OfPeak: 0.84},
		{Group: "sgemm", Case: "256x256x256", Tier: "avx2", Threads: 1, Value: 85, Unit: "GFLOPS", Size: 256, OfPeak: 0.89},
		{Group: "sgemm", Case: "128x128x128", Tier: "gonum", Threads: 1, Value: 9, Unit: "GFLOPS", Size: 128},
		{Group: "vector", Case: "exp 65536", Tier: "avx2", Threads: 1, Value: 15.3, Unit: "GB/s"},
		{Group: "train", Case: "mlp batch32", Tier: "avx2", Threads: 2, Value: 150000, Unit: "samples/s"},
	}
	var out bytes.Buffer
	printTable(&out, results, time.Second)
	for _, want := range []string{"avx2 95.0 GFLOPS", "avx2 t1", "gonum t1", "80.0 (84%)", "256x256x256", "-", "exp 65536", "15.3", "150000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	for _, ext := range []string{".svg", ".png"} {
		path := filepath.Join(t.TempDir(), "plot"+ext)
		if err := drawPlot(path, results); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) < 1000 {
			t.Fatalf("%s: %d bytes, %v", path, len(data), err)
		}
		if ext == ".svg" && (!bytes.Contains(data, []byte("GFLOPS")) || !bytes.Contains(data, []byte("gonum, 1 thread"))) {
			t.Errorf("the SVG lacks its axis label or legend")
		}
	}
	if err := runBench([]string{"--plot", "x.pdf"}, &out, &out); err == nil {
		t.Error("--plot x.pdf accepted")
	}
}

// TestTierColors: every tier of a plot has a color of its own, shared by its thread counts,
// with four tiers on two thread counts (eight series, more than plotColors has).
func TestTierColors(t *testing.T) {
	var series []column
	for _, tier := range []string{"avx512", "avx2", "generic", "gonum"} {
		for _, threads := range []int{1, 2} {
			series = append(series, column{tier, threads})
		}
	}
	colors := tierColors(series)
	byTier := map[string]color.Color{}
	for i, c := range series {
		if want, ok := byTier[c.tier]; ok && colors[i] != want {
			t.Errorf("%s, %d threads: color %v, want its tier's %v", c.tier, c.threads, colors[i], want)
		}
		byTier[c.tier] = colors[i]
	}
	seen := map[color.Color]string{}
	for tier, c := range byTier {
		if other, ok := seen[c]; ok {
			t.Errorf("%s and %s share the color %v", tier, other, c)
		}
		seen[c] = tier
	}
}

// TestTrainRejectsBadFlags checks that each bad flag is named in the error, and that an --out
// that cannot be written fails before any data is read or any step is trained.
func TestTrainRejectsBadFlags(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--epochs", "0"}, "--epochs must be at least 1, not 0"},
		{[]string{"--batch", "-3"}, "--batch must be at least 1, not -3"},
		{[]string{"--lr", "0"}, "--lr must be a positive number, not 0"},
		{[]string{"--lr", "NaN"}, "--lr must be a positive number, not NaN"},
		{[]string{"--lr", "Inf"}, "--lr must be a positive number, not +Inf"},
		{[]string{"--checkpoint-every", "-1"}, "--checkpoint-every must not be negative"},
		{[]string{"--out", filepath.Join(dir, "missing", "m.safetensors")}, "cannot write a file in " + filepath.Join(dir, "missing")},
		{[]string{"--out", dir}, dir + " is a folder"},
	}
	for _, c := range cases {
		// A data folder that does not exist: reaching it would be a different error.
		args := append([]string{"--data", filepath.Join(dir, "no-data")}, c.args...)
		var stdout, stderr bytes.Buffer
		err := runTrain(args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("lanes train %v: error %v, want one saying %q", c.args, err, c.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("lanes train %v printed %q", c.args, stdout.String())
		}
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("the checks left %v behind", left)
	}
}

// TestCheckpointerWritesInBackground checks the checkpointer's contract: each checkpoint
// holds the model as it was at the end of its epoch, even while training goes on changing
// it; writes land in epoch order; a failed write is reported, not lost.
func TestCheckpointerWritesInBackground(t *testing.T) {
	model := &nn.Model{Net: nn.NewSequential(nn.NewDense(3, 2)), Loss: nn.SparseCrossEntropy{}, Optimizer: &nn.Adam{}}
	model.Init(1)
	path := filepath.Join(t.TempDir(), "m.safetensors")
	c := &checkpointer{path: path, every: 2}
	weights := model.Net.Params()[0].Value.Data()
	var want float32
	for epoch := 1; epoch <= 4; epoch++ {
		model.Epoch = epoch
		weights[0] = float32(epoch)
		if _, err := c.OnEpochEnd(model, nn.EpochInfo{Epoch: epoch}); err != nil {
			t.Fatalf("epoch %d: %v", epoch, err)
		}
		if epoch == 4 {
			want = weights[0]
			weights[0] = -1 // training goes on while the write is in flight
		}
	}
	if err := c.wait(); err != nil {
		t.Fatal(err)
	}
	if c.saved != 4 {
		t.Errorf("saved = %d after the checkpoint of epoch 4", c.saved)
	}
	got, err := nn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Epoch != 4 || got.Net.Params()[0].Value.Data()[0] != want {
		t.Errorf("checkpoint holds epoch %d, weight %v; want epoch 4, weight %v", got.Epoch, got.Net.Params()[0].Value.Data()[0], want)
	}

	// A write that fails (its folder is gone) is reported by wait, and saved stays put.
	gone := filepath.Join(t.TempDir(), "gone")
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := &checkpointer{path: filepath.Join(gone, "m.safetensors"), every: 1}
	os.Remove(gone)
	if _, err := bad.OnEpochEnd(model, nn.EpochInfo{Epoch: 1}); err != nil {
		t.Fatalf("the write runs in the background; OnEpochEnd reported %v", err)
	}
	if err := bad.wait(); err == nil || !strings.Contains(err.Error(), "gone") || bad.saved != 0 {
		t.Errorf("write into a removed folder: err %v, saved %d", err, bad.saved)
	}
}
