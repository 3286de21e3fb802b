package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCPU(t *testing.T) {
	var out bytes.Buffer
	if err := runCPU(&out, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"cpu ", "AVX2", "AVX512_BF16", "tiers", "generic", "using"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("lanes cpu output lacks %q:\n%s", want, out.String())
		}
	}
	if err := runCPU(&out, []string{"x"}); err == nil {
		t.Error("lanes cpu x: no error")
	}
}

// TestTrainAndEval trains one epoch on the real MNIST, then evaluates the saved model.
func TestTrainAndEval(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST")
	}
	model := filepath.Join(t.TempDir(), "m.safetensors")
	var out, errOut bytes.Buffer
	if err := runTrain([]string{"--epochs", "1", "--json", "--out", model}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var res trainResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	if res.TestAccuracy < 0.95 || len(res.Epochs) != 1 || res.Model != model || res.Batch != 32 {
		t.Errorf("one epoch: %+v", res)
	}
	if !strings.Contains(errOut.String(), "epoch 1/1") {
		t.Errorf("progress on a non-terminal should be one line per epoch, got %q", errOut.String())
	}
	out.Reset()
	if err := runEval([]string{"--model", model, "--json"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		TestAccuracy float64 `json:"test_accuracy"`
	}
	json.Unmarshal(out.Bytes(), &ev)
	if ev.TestAccuracy != res.TestAccuracy {
		t.Errorf("eval of the saved model: accuracy %v, train reported %v", ev.TestAccuracy, res.TestAccuracy)
	}
}

// TestBadInputsExitCleanly runs the built command on broken inputs: each must fail fast,
// with a one-line error naming the file, and no panic.
func TestBadInputsExitCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "lanes")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	badData := filepath.Join(dir, "data")
	os.Mkdir(badData, 0o755)
	os.WriteFile(filepath.Join(badData, "train-images-idx3-ubyte"), []byte{0, 0, 8, 3, 0x80, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2}, 0o644)
	badModel := filepath.Join(dir, "bad.safetensors")
	os.WriteFile(badModel, []byte("not a checkpoint at all"), 0o644)
	for _, args := range [][]string{
		{"train", "--data", badData},
		{"eval", "--model", badModel},
		{"eval", "--model", filepath.Join(dir, "missing.safetensors")},
		{"train", "--isa", "bogus"},
		{"train", "--epochs", "0"},
	} {
		start := time.Now()
		cmd := exec.Command(bin, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		msg := strings.TrimSpace(stderr.String())
		if err == nil || strings.Contains(msg, "panic") || strings.Count(msg, "\n") > 0 || !strings.HasPrefix(msg, "lanes: ") {
			t.Errorf("lanes %v: err %v, stderr %q: want a non-zero exit and one line starting 'lanes: '", args, err, msg)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("lanes %v took %v", args, d)
		}
	}
}
