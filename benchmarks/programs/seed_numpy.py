"""The seed program (TF1 MNIST MLP, 10,000 Adam steps of batch 100) as bare NumPy: the
baseline process of ``whole_program.py``. Same data (the MNIST sample bundled with flowgraph,
read with gzip and NumPy), same model, TF1's Adam, the expert step of ``seed_step.py`` inlined
(nothing from flowgraph is imported), flush-to-zero set as flowgraph's runs set it.

Run:  python benchmarks/programs/seed_numpy.py [--steps N]
"""

import argparse
import ctypes
import gzip
import platform
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "flowgraph" / "datasets" / "data"
B1, B2, LR, EPS = np.float32(0.9), np.float32(0.999), 0.001, np.float32(1e-8)


def flush_denormals() -> None:
    """FTZ/DAZ on this thread (x86-64 glibc only; as flowgraph/runtime/fpenv.py explains)."""
    if platform.machine() in ("x86_64", "AMD64"):
        libm, env = ctypes.CDLL("libm.so.6"), (ctypes.c_uint32 * 8)()
        libm.fegetenv(env)
        env[7] |= 0x8040
        libm.fesetenv(env)


def idx(name: str, header: int) -> np.ndarray:
    with gzip.open(DATA / name) as f:
        return np.frombuffer(f.read(), np.uint8, offset=header)


def load(prefix: str):
    images = idx(f"{prefix}-images-idx3-ubyte.gz", 16).reshape(-1, 784).astype(np.float32) / 255
    labels = np.eye(10, dtype=np.float32)[idx(f"{prefix}-labels-idx1-ubyte.gz", 8)]
    return images, labels


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=10000)
    steps = parser.parse_args().steps
    flush_denormals()
    (train_x, train_y), (test_x, test_y) = load("train"), load("t10k")
    rng = np.random.default_rng()
    shapes = [(784, 256), (256,), (256, 10), (10,)]
    sizes = [int(np.prod(s)) for s in shapes]
    parts = [rng.standard_normal(sizes[0]), np.zeros(256), rng.standard_normal(sizes[2])]
    flat = np.concatenate([*parts, np.zeros(10)]).astype(np.float32)
    grad, m, v, s = (np.zeros_like(flat) for _ in range(4))
    offsets = np.cumsum([0, *sizes])
    W1, b1, W2, b2 = (flat[a:b].reshape(sh) for a, b, sh in zip(offsets, offsets[1:], shapes))
    dW1, db1, dW2, db2 = (grad[a:b].reshape(sh) for a, b, sh in zip(offsets, offsets[1:], shapes))
    h, dh, mask = np.empty((100, 256), np.float32), np.empty((100, 256), np.float32), None
    mask = np.empty((100, 256), bool)
    z, row = np.empty((100, 10), np.float32), np.empty((100, 1), np.float32)
    order, at = rng.permutation(len(train_x)), 0
    p1, p2 = np.float32(1), np.float32(1)
    for i in range(steps):
        if at + 100 > len(order):
            order, at = rng.permutation(len(train_x)), 0
        index, at = order[at : at + 100], at + 100
        x, y = train_x[index], train_y[index]
        np.matmul(x, W1, out=h)
        h += b1
        np.maximum(h, 0, out=h)  # noqa: E702
        np.matmul(h, W2, out=z)
        z += b2  # noqa: E702
        if i % 1000 == 0:
            print(f"Step {i}, training accuracy: {np.mean(z.argmax(1) == y.argmax(1)):g}")
        np.max(z, axis=1, keepdims=True, out=row)
        z -= row
        np.exp(z, out=z)  # noqa: E702
        np.sum(z, axis=1, keepdims=True, out=row)
        z /= row
        z -= y
        z *= np.float32(0.01)  # noqa: E702
        np.matmul(h.T, z, out=dW2)
        np.sum(z, axis=0, out=db2)
        np.matmul(z, W2.T, out=dh)  # noqa: E702
        np.greater(h, 0, out=mask)
        dh *= mask  # noqa: E702
        np.matmul(x.T, dh, out=dW1)
        np.sum(dh, axis=0, out=db1)  # noqa: E702
        p1, p2 = p1 * B1, p2 * B2
        lr_t = np.float32(LR * np.sqrt(1 - p2) / (1 - p1))
        m *= B1
        np.multiply(grad, 1 - B1, out=s)
        m += s  # noqa: E702
        v *= B2
        np.multiply(grad, grad, out=s)
        s *= 1 - B2
        v += s  # noqa: E702
        np.sqrt(v, out=s)
        s += EPS
        np.divide(m, s, out=s)
        s *= lr_t
        flat -= s  # noqa: E702
    logits = np.maximum(test_x @ W1 + b1, 0) @ W2 + b2
    print(f"Test accuracy: {np.mean(logits.argmax(1) == test_y.argmax(1)):g}")


if __name__ == "__main__":
    main()
