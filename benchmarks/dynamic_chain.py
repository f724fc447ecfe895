"""Per-op overhead of flowgraph.dynamic (define-by-run) on a 1,000-op chain of tiny ops.

The same chain as ``chain_overhead.py`` (``y = tanh(y)``, ``y = y + x`` on float64[4]), run
eagerly, twice: without recording (``x`` does not require grad) and with the tape recording
(``x`` requires grad, so every op is a tape node). On arrays this small the kernels cost little,
so the time per op is mostly the eager dispatch: the op's shape rule, kernel call and tensor
wrapping. The baseline is the same NumPy calls in a Python loop, in the same process, with BLAS
limited to one thread for both.

Run:  python benchmarks/dynamic_chain.py   (needs threadpoolctl: pip install -e ".[bench]")
"""

from __future__ import annotations

import argparse

import numpy as np
from common import blas_threads, median_seconds

import flowgraph.dynamic as fd


def dynamic_chain(x, n_ops: int):
    """The chain on eager tensors: ``tanh`` and ``+`` alternating."""
    y = x
    for i in range(n_ops):
        y = fd.tanh(y) if i % 2 == 0 else y + x
    return y


def numpy_chain(x: np.ndarray, n_ops: int) -> np.ndarray:
    y = x
    for i in range(n_ops):
        y = np.tanh(y) if i % 2 == 0 else y + x
    return y


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="ops in the chain (default 1000)")
    parser.add_argument("--repeat", type=int, default=11, help="timed rounds (median is kept)")
    parser.add_argument("--number", type=int, default=5, help="runs per round")
    args = parser.parse_args(argv)
    n = args.ops
    with blas_threads(1):
        x_value = np.random.default_rng(0).standard_normal(4)
        x = fd.tensor(x_value)
        x_grad = fd.tensor(x_value, requires_grad=True)
        expected = numpy_chain(x_value, n)
        np.testing.assert_allclose(dynamic_chain(x, n).numpy(), expected, rtol=1e-12)
        np.testing.assert_allclose(dynamic_chain(x_grad, n).detach().numpy(), expected, rtol=1e-12)
        medians = median_seconds(
            {
                "plain": lambda: dynamic_chain(x, n),
                "taped": lambda: dynamic_chain(x_grad, n),
                "numpy": lambda: numpy_chain(x_value, n),
            },
            args.repeat,
            args.number,
        )

    def row(label: str, seconds: float) -> str:
        return f"{label:<34}{seconds * 1e3:>9.2f} ms{seconds / n * 1e6:>9.2f} us"

    print(f"{n} chained ops (tanh, add on float64[4]); median of {args.repeat} x {args.number}")
    print("results agree (assert_allclose, rtol=1e-12)")
    print(f"{'':<34}{'per run':>12}{'per op':>12}")
    print(row("dynamic, no tape", medians["plain"]))
    print(row("dynamic, recording the tape", medians["taped"]))
    print(row("NumPy loop", medians["numpy"]))
    print(f"{'ratio dynamic (no tape) / NumPy':<34}{medians['plain'] / medians['numpy']:>12.2f}")


if __name__ == "__main__":
    main()
