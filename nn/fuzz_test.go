package nn

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the checkpoint loader: it must return an error or a
// model whose parameters have the shapes its layers declare, never panic.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	good := filepath.Join(dir, "good")
	if err := smallModel(1).Save(good); err != nil {
		f.Fatal(err)
	}
	raw, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add(raw[:len(raw)/2])
	f.Add(raw[:8])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, l := range m.Net.Layers {
			if d, ok := l.(*Dense); ok && (d.W.Value.Len() != d.In*d.Out || d.B.Value.Len() != d.Out) {
				t.Fatalf("loaded a dense %dx%d layer with %d weights and %d biases", d.In, d.Out, d.W.Value.Len(), d.B.Value.Len())
			}
		}
	})
}
