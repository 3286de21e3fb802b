package nn

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/lanesml/lanes/tensor"
)

// Checkpoints are safetensors files: an 8-byte little-endian header length, a JSON header
// naming each tensor's dtype, shape and byte range, then the raw little-endian data. Python
// tools read them as they are. The network is stored as tensors layers.<i>.weight [in, out]
// and layers.<i>.bias; the optimizer's moments as optimizer.<param>.<moment>; and the
// architecture and training state as strings in the header's __metadata__.

// maxHeader bounds the JSON header a checkpoint may claim (a model's header is a few KB).
const maxHeader = 16 << 20

type tensorEntry struct {
	Dtype       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// Save writes the model, its optimizer state and its epoch count to path atomically: into a
// temporary file in the same folder, synced, then renamed over path, so a crash leaves
// either the old file or the new one. It is MarshalBinary then WriteFileAtomic.
func (m *Model) Save(path string) error {
	data, err := m.MarshalBinary()
	if err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	return WriteFileAtomic(path, data)
}

// MarshalBinary returns the checkpoint Save writes, as bytes. It copies every tensor, so the
// model may train on while another goroutine writes the bytes out (see WriteFileAtomic):
// the disk's sync then costs training nothing.
func (m *Model) MarshalBinary() ([]byte, error) {
	arch, err := json.Marshal(m.specs())
	if err != nil {
		return nil, err
	}
	meta := map[string]string{}
	for k, v := range m.Meta {
		meta["user."+k] = v
	}
	for k, v := range map[string]string{
		"format":       "lanes",
		"architecture": string(arch),
		"epoch":        strconv.Itoa(m.Epoch),
	} {
		meta[k] = v
	}
	if m.Loss != nil {
		meta["loss"] = m.Loss.Name()
	}
	named := map[string]*tensor.Tensor{}
	for _, p := range m.params() {
		named[p.Name] = p.Value
	}
	if m.Optimizer != nil {
		kind, config, err := optimizerConfig(m.Optimizer)
		if err != nil {
			return nil, err
		}
		state, step := m.Optimizer.State()
		meta["optimizer"], meta["optimizer_config"], meta["optimizer_step"] = kind, config, strconv.Itoa(step)
		for name, t := range state {
			named["optimizer."+name] = t
		}
	}
	return encodeSafetensors(named, meta)
}

func (m *Model) specs() []LayerSpec {
	specs := make([]LayerSpec, len(m.Net.Layers))
	for i, l := range m.Net.Layers {
		specs[i] = l.Spec()
	}
	return specs
}

func optimizerConfig(o Optimizer) (kind, config string, err error) {
	var b []byte
	switch o := o.(type) {
	case *Adam:
		kind = "adam"
		b, err = json.Marshal(map[string]float32{"lr": o.LR, "beta1": o.Beta1, "beta2": o.Beta2, "eps": o.Eps, "weight_decay": o.WeightDecay})
	case *SGD:
		kind = "sgd"
		b, err = json.Marshal(map[string]any{"lr": o.LR, "momentum": o.Momentum, "nesterov": o.Nesterov})
	default:
		return "", "", fmt.Errorf("nn: cannot save optimizer %T", o)
	}
	return kind, string(b), err
}

// encodeSafetensors lays tensors out as a safetensors file, in the order of their names.
func encodeSafetensors(tensors map[string]*tensor.Tensor, meta map[string]string) ([]byte, error) {
	names := make([]string, 0, len(tensors))
	for name := range tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	header := map[string]any{"__metadata__": meta}
	var offset int64
	for _, name := range names {
		t := tensors[name]
		size := int64(4 * t.Len())
		header[name] = tensorEntry{Dtype: "F32", Shape: t.Shape(), DataOffsets: [2]int64{offset, offset + size}}
		offset += size
	}
	hdr, err := json.Marshal(header)
	if err != nil {
		return nil, err
	}
	for len(hdr)%8 != 0 { // keep the data 8-byte aligned, as the format recommends
		hdr = append(hdr, ' ')
	}
	out := make([]byte, 0, 8+int64(len(hdr))+offset)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(hdr)))
	out = append(out, hdr...)
	for _, name := range names {
		for _, v := range tensors[name].Data() {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	}
	return out, nil
}

// WriteFileAtomic writes data to path so that a crash at any moment leaves either the old
// file or the new one whole: into a temporary file in the same folder, synced, renamed over
// path, and the folder synced so that the rename lasts too.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("nn: save %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("nn: save: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}

// Load reads a checkpoint written by Save and rebuilds the model: its layers, weights, loss,
// optimizer (with its moments) and epoch count. Every part of the file is checked before it
// is used: the header length against the file, the JSON, each tensor's dtype and byte range,
// and each shape against the architecture. The error names the file and the first problem.
func Load(path string) (*Model, error) {
	m, err := load(path)
	if err != nil {
		return nil, fmt.Errorf("nn: load %s: %w", path, err)
	}
	return m, nil
}

func load(path string) (*Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Read(f, st.Size())
}

// Read is Load from any source: size bytes of a checkpoint readable at r (an open file,
// or a bytes.Reader over one held in memory). Errors do not name a file.
func Read(f io.ReaderAt, size int64) (*Model, error) {
	var head [8]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return nil, errors.New("file too short for a safetensors header")
	}
	n := binary.LittleEndian.Uint64(head[:])
	if n > maxHeader || int64(n) > size-8 {
		return nil, fmt.Errorf("header length %d does not fit in a file of %d bytes", n, size)
	}
	hdr := make([]byte, n)
	if _, err := f.ReadAt(hdr, 8); err != nil {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("header is not a JSON object: %w", err)
	}
	dataStart, dataLen := 8+int64(n), size-8-int64(n)
	var meta map[string]string
	entries := map[string]tensorEntry{}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &meta); err != nil {
				return nil, fmt.Errorf("__metadata__ is not an object of strings: %w", err)
			}
			continue
		}
		var e tensorEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if e.Dtype != "F32" {
			return nil, fmt.Errorf("tensor %q has dtype %q; lanes reads F32", name, e.Dtype)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 || d > 1<<31 {
				return nil, fmt.Errorf("tensor %q has shape %v", name, e.Shape)
			}
			count *= int64(d)
			if count > dataLen {
				break
			}
		}
		lo, hi := e.DataOffsets[0], e.DataOffsets[1]
		if lo < 0 || hi < lo || hi > dataLen {
			return nil, fmt.Errorf("tensor %q: bytes [%d, %d) outside the %d bytes of data", name, lo, hi, dataLen)
		}
		if hi-lo != 4*count {
			return nil, fmt.Errorf("tensor %q: %d bytes for shape %v (want %d)", name, hi-lo, e.Shape, 4*count)
		}
		entries[name] = e
	}
	if meta["format"] != "lanes" || meta["architecture"] == "" {
		return nil, errors.New("no lanes architecture in __metadata__ (not written by lanes?)")
	}
	var specs []LayerSpec
	if err := json.Unmarshal([]byte(meta["architecture"]), &specs); err != nil {
		return nil, fmt.Errorf("architecture: %w", err)
	}
	// Check each Dense layer's tensors before allocating anything the architecture asks for.
	for i, s := range specs {
		if s.Type != "dense" {
			continue
		}
		if s.In < 1 || s.Out < 1 {
			return nil, fmt.Errorf("layer %d is a dense layer of %d x %d features", i, s.In, s.Out)
		}
		for _, w := range []struct {
			suffix string
			shape  []int
		}{{"weight", []int{s.In, s.Out}}, {"bias", []int{s.Out}}} {
			name := fmt.Sprintf("layers.%d.%s", i, w.suffix)
			e, ok := entries[name]
			if !ok {
				return nil, fmt.Errorf("tensor %s is missing", name)
			}
			if fmt.Sprint(e.Shape) != fmt.Sprint(w.shape) {
				return nil, fmt.Errorf("tensor %s has shape %v; the architecture says %v", name, e.Shape, w.shape)
			}
		}
	}
	layers := make([]Layer, len(specs))
	for i, s := range specs {
		switch s.Type {
		case "dense":
			layers[i] = NewDense(s.In, s.Out)
		case "relu":
			layers[i] = NewReLU()
		case "sigmoid":
			layers[i] = NewSigmoid()
		case "tanh":
			layers[i] = NewTanh()
		case "gelu":
			layers[i] = NewGELU()
		case "softmax":
			layers[i] = NewSoftmax()
		default:
			return nil, fmt.Errorf("layer %d has unknown type %q", i, s.Type)
		}
	}
	m := &Model{Net: NewSequential(layers...)}
	read := func(name string, dst []float32) error {
		e := entries[name]
		buf := make([]byte, e.DataOffsets[1]-e.DataOffsets[0])
		if _, err := f.ReadAt(buf, dataStart+e.DataOffsets[0]); err != nil {
			return fmt.Errorf("tensor %s: %w", name, err)
		}
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
		}
		return nil
	}
	for _, p := range m.params() {
		if err := read(p.Name, p.Value.Data()); err != nil {
			return nil, err
		}
	}
	var err error
	if m.Epoch, err = metaInt(meta, "epoch"); err != nil {
		return nil, err
	}
	for k, v := range meta {
		if user, ok := strings.CutPrefix(k, "user."); ok {
			if m.Meta == nil {
				m.Meta = map[string]string{}
			}
			m.Meta[user] = v
		}
	}
	switch meta["loss"] {
	case "", SparseCrossEntropy{}.Name():
		m.Loss = SparseCrossEntropy{}
	case MeanSquaredError{}.Name():
		m.Loss = MeanSquaredError{}
	default:
		return nil, fmt.Errorf("unknown loss %q", meta["loss"])
	}
	return m, loadOptimizer(m, meta, entries, read)
}

func metaInt(meta map[string]string, key string) (int, error) {
	v, ok := meta[key]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("__metadata__ %s = %q is not a count", key, v)
	}
	return n, nil
}

// loadOptimizer rebuilds the optimizer and its moments; each moment must match its
// parameter's shape.
func loadOptimizer(m *Model, meta map[string]string, entries map[string]tensorEntry, read func(string, []float32) error) error {
	kind := meta["optimizer"]
	if kind == "" {
		m.Optimizer = &Adam{}
		return nil
	}
	step, err := metaInt(meta, "optimizer_step")
	if err != nil {
		return err
	}
	var moments []string
	switch kind {
	case "adam":
		var c struct {
			LR, Beta1, Beta2, Eps, WeightDecay float32
		}
		if err := json.Unmarshal([]byte(meta["optimizer_config"]), &c); err != nil {
			return fmt.Errorf("optimizer_config: %w", err)
		}
		m.Optimizer = &Adam{LR: c.LR, Beta1: c.Beta1, Beta2: c.Beta2, Eps: c.Eps, WeightDecay: c.WeightDecay}
		moments = []string{"m", "v"}
	case "sgd":
		var c struct {
			LR, Momentum float32
			Nesterov     bool
		}
		if err := json.Unmarshal([]byte(meta["optimizer_config"]), &c); err != nil {
			return fmt.Errorf("optimizer_config: %w", err)
		}
		m.Optimizer = &SGD{LR: c.LR, Momentum: c.Momentum, Nesterov: c.Nesterov}
		moments = []string{"velocity"}
	default:
		return fmt.Errorf("unknown optimizer %q", kind)
	}
	state := map[string]*tensor.Tensor{}
	for _, p := range m.params() {
		for _, mo := range moments {
			name := "optimizer." + p.Name + "." + mo
			e, ok := entries[name]
			if !ok {
				continue // a moment not created yet (no step taken)
			}
			if fmt.Sprint(e.Shape) != fmt.Sprint(p.Value.Shape()) {
				return fmt.Errorf("tensor %s has shape %v; its parameter is %v", name, e.Shape, p.Value.Shape())
			}
			t := tensor.New(e.Shape...)
			if err := read(name, t.Data()); err != nil {
				return err
			}
			state[p.Name+"."+mo] = t
		}
	}
	return m.Optimizer.SetState(state, step)
}
