package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// IDX magic numbers: two zero bytes, the element type (0x08: unsigned byte), the number of
// dimensions.
const (
	imagesMagic = 0x00000803
	labelsMagic = 0x00000801
)

// maxElements bounds what a header may claim, far above MNIST's 47 million pixels.
const maxElements = 1 << 30

// Images is a set of grey-scale images, one byte a pixel, row-major, image after image.
type Images struct {
	N, Rows, Cols int
	Pixels        []byte
}

// ReadImages reads an IDX image file (magic 2051), gzip-compressed or raw.
func ReadImages(path string) (*Images, error) {
	dims, data, err := readIDX(path, imagesMagic)
	if err != nil {
		return nil, err
	}
	return &Images{N: dims[0], Rows: dims[1], Cols: dims[2], Pixels: data}, nil
}

// ReadLabels reads an IDX label file (magic 2049) and checks every label is below classes.
func ReadLabels(path string, classes int) ([]int32, error) {
	_, data, err := readIDX(path, labelsMagic)
	if err != nil {
		return nil, err
	}
	labels := make([]int32, len(data))
	for i, b := range data {
		if int(b) >= classes {
			return nil, fmt.Errorf("mnist: %s: label %d at index %d is not below %d classes", path, b, i, classes)
		}
		labels[i] = int32(b)
	}
	return labels, nil
}

// readIDX returns the dimensions and the bytes of an IDX file of unsigned bytes. The data
// is read as it arrives, never allocated from the header's claim, and must match that
// claim exactly.
func readIDX(path string, magic uint32) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	return parseIDX(path, f, magic)
}

// parseIDX is readIDX on an open stream; name is what errors call it.
func parseIDX(name string, in io.Reader, magic uint32) ([]int, []byte, error) {
	fail := func(format string, a ...any) ([]int, []byte, error) {
		return nil, nil, fmt.Errorf("mnist: %s: %s", name, fmt.Sprintf(format, a...))
	}
	br := bufio.NewReader(in)
	var r io.Reader = br
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return fail("bad gzip header: %v", err)
		}
		defer gz.Close()
		r = gz
	}
	var got uint32
	if err := binary.Read(r, binary.BigEndian, &got); err != nil {
		return fail("cannot read the IDX header: %v", describe(err))
	}
	if got != magic {
		return fail("magic number %#08x, want %#08x (%s)", got, magic, kind(magic))
	}
	dims := make([]int, magic&0xff)
	total := 1
	for i := range dims {
		var d uint32
		if err := binary.Read(r, binary.BigEndian, &d); err != nil {
			return fail("cannot read dimension %d of the header: %v", i, describe(err))
		}
		if d == 0 {
			return fail("dimension %d is zero", i)
		}
		if uint64(total)*uint64(d) > maxElements {
			return fail("header claims more than %d elements", maxElements)
		}
		dims[i] = int(d)
		total *= int(d)
	}
	data, err := readData(r, total)
	if err != nil {
		return fail("reading data: %v", describe(err))
	}
	if len(data) < total {
		return fail("truncated: header claims %d bytes of data (%v), file has %d", total, dims, len(data))
	}
	if len(data) > total {
		return fail("more data than the header's %v claims", dims)
	}
	return dims, data, nil
}

// readData reads what r holds, up to limit+1 bytes (one more than the header claims, to
// catch a file longer than it says). The buffer grows with what arrives, so a header that
// lies costs only what the file holds; each new buffer is offered huge pages before anything
// is written to it (see adviseHugePages).
func readData(r io.Reader, limit int) ([]byte, error) {
	buf := make([]byte, 0, min(limit+1, 1<<16))
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return buf, nil
			}
			next := make([]byte, len(buf), min(limit+1, 2*cap(buf)))
			adviseHugePages(next[:cap(next)])
			copy(next, buf)
			buf = next
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func kind(magic uint32) string {
	if magic == imagesMagic {
		return "IDX images"
	}
	return "IDX labels"
}

// describe makes an early end of file read as what it is.
func describe(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file ends early")
	}
	return err
}
