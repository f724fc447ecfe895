"""flowgraph.dynamic (define-by-run) against plain NumPy: per-op dispatch and the seed step.

1. **Dispatch**: the 1,000-op chain of ``chain_overhead.py`` (``y = tanh(y)``, ``y = y + x`` on
   float64[4]) written with dynamic tensors, against the same NumPy calls in a Python loop. The
   figure is microseconds per op (target <= 2.5, PyTorch eager's on the reference machine).
2. **Seed step**: the seed MLP (784-256-10, batch 100) trained PyTorch style -- ``nn.Linear``,
   ``relu``, ``nn.CrossEntropyLoss``, ``zero_grad``/``backward``/``optim.Adam.step`` -- against
   the expert NumPy step of ``seed_step.py`` (flat parameter buffer, one ufunc per Adam stage),
   both with flush-to-zero (as ``backward()`` and ``step()`` set it). Target <= 1.5x.

Both run in one process, taking turns round by round (medians), BLAS limited to one thread;
both figures count this process's CPU time, so time spent waiting for a core on a shared
machine is left out (it moved the seed-step ratio by +-0.15 between runs at load 2.7).

Run:  python benchmarks/dynamic_mode.py     Options: --repeat, --ops
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import blas_threads, median_seconds, target_line
from seed_step import D_HID, D_IN, D_OUT, N, NumpyStep

import flowgraph.dynamic as torch
from flowgraph.dynamic import nn, optim
from flowgraph.runtime import fpenv


def dispatch(n_ops: int, repeat: int) -> None:
    x = torch.tensor(np.random.default_rng(0).standard_normal(4))
    xv = x.value

    def dynamic_chain():
        y = x
        for _ in range(n_ops // 2):
            y = torch.tanh(y)
            y = y + x
        return y

    def numpy_chain():
        y = xv
        for _ in range(n_ops // 2):
            y = np.tanh(y)
            y = y + xv
        return y

    np.testing.assert_allclose(dynamic_chain().value, numpy_chain(), rtol=1e-12)
    t = median_seconds({"dyn": dynamic_chain, "np": numpy_chain}, repeat, 5, time.process_time)
    print(f"{n_ops}-op chain (tanh, add on float64[4]), median of {repeat} rounds x 5 runs")
    print("(CPU time of this process: an absolute figure, so time waiting for a core is left out)")
    print(f"{'flowgraph.dynamic':<40}{t['dyn'] / n_ops * 1e6:>9.3f} us/op")
    print(f"{'NumPy loop':<40}{t['np'] / n_ops * 1e6:>9.3f} us/op")
    print(f"{'ratio flowgraph.dynamic / NumPy loop':<40}{t['dyn'] / t['np']:>9.2f}")
    print(target_line("dynamic dispatch, us per op", t["dyn"] / n_ops * 1e6, 2.5))


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(D_IN, D_HID)
        self.fc2 = nn.Linear(D_HID, D_OUT)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def seed_step(repeat: int) -> None:
    rng = np.random.default_rng(0)
    x_value = rng.random((N, D_IN), dtype=np.float32)
    labels = rng.integers(0, D_OUT, N)
    torch.manual_seed(0)
    model = Model()
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=0.001)
    x, target = torch.tensor(x_value), torch.tensor(labels)
    hand = NumpyStep(
        [model.fc1.weight.value.T, model.fc1.bias.value, model.fc2.weight.value.T,
         model.fc2.bias.value]
    )  # fmt: skip
    y_value = np.eye(D_OUT, dtype=np.float32)[labels]

    def dynamic_step():
        optimizer.zero_grad()
        loss = criterion(model(x), target)
        loss.backward()
        optimizer.step()

    def numpy_step():
        with fpenv.flushing():
            hand.step(x_value, y_value)

    for _ in range(5):
        dynamic_step()
        numpy_step()
    t = median_seconds({"dyn": dynamic_step, "np": numpy_step}, repeat, 10, time.process_time)
    print(f"seed MLP step {D_IN}-{D_HID}-{D_OUT}, batch {N}, Adam; median of {repeat} x 10 steps")
    print("(CPU time of this process, as above: both steps run on one BLAS thread)")
    print(f"{'flowgraph.dynamic step':<40}{t['dyn'] * 1e3:>9.3f} ms")
    print(f"{'expert NumPy step':<40}{t['np'] * 1e3:>9.3f} ms")
    print(target_line("dynamic seed step / NumPy", t["dyn"] / t["np"], 1.5))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="timed rounds (median is kept)")
    parser.add_argument("--ops", type=int, default=1000, help="ops in the chain")
    args = parser.parse_args(argv)
    with blas_threads(1):
        dispatch(args.ops, args.repeat)
        print()
        seed_step(args.repeat)


if __name__ == "__main__":
    main()
