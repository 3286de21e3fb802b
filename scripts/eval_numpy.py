"""Reads a lanes checkpoint with numpy alone (header parsed by hand) and evaluates it on the
MNIST test set. usage: python3 eval_numpy.py MODEL.safetensors MNIST_DIR"""
import gzip, json, struct, sys
import numpy as np

raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def tensor(name):
    e = header[name]; lo, hi = e["data_offsets"]
    return np.frombuffer(data[lo:hi], dtype="<f4").reshape(e["shape"])
def idx(path):
    b = gzip.open(path).read(); dims = b[3]
    shape = struct.unpack(">" + "I" * dims, b[4:4 + 4 * dims])
    return np.frombuffer(b[4 + 4 * dims:], dtype=np.uint8).reshape(shape)
x = idx(sys.argv[2] + "/t10k-images-idx3-ubyte.gz").reshape(-1, 784).astype(np.float32) / 255
y = idx(sys.argv[2] + "/t10k-labels-idx1-ubyte.gz")
h = np.maximum(x @ tensor("layers.0.weight") + tensor("layers.0.bias"), 0)
logits = h @ tensor("layers.2.weight") + tensor("layers.2.bias")
print(f"test accuracy {(logits.argmax(1) == y).mean():.4f}")
