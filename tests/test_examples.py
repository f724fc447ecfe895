"""The seed programs in examples/ train to a useful accuracy on the bundled MNIST sample.

The thresholds sit below what the programs reach (the TF1 MLP: 0.82-0.85 test accuracy after
2,000 steps over repeated runs), so the tests do not flake on an unlucky initialisation, yet
still catch a model that no longer learns (chance is 0.10).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The TF1 program draws its graph into the working directory; the tests don't need it.
_NO_PICTURE = {"mnist_tf1.py": ("--graph-picture", "")}


# One BLAS thread: on a shared 2-core machine a second OpenBLAS thread next to a busy
# neighbour made each MNIST step 50x slower; one thread is unaffected.
_ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_example(name: str, *args: str, timeout: int = 120) -> str:
    """Run examples/<name> with ``args`` in a fresh interpreter; its stdout."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args, *_NO_PICTURE.get(name, ())],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **_ONE_BLAS_THREAD},
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def reported_accuracy(stdout: str) -> float:
    """X from the program's ``Test accuracy: X`` line."""
    match = re.search(r"Test accuracy: ([0-9.eE+-]+)", stdout)
    assert match, f"no 'Test accuracy: X' line in:\n{stdout}"
    return float(match.group(1))


def test_mnist_tf1_trains():
    out = run_example("mnist_tf1.py", "--steps", "2000")
    assert "Step 0, training accuracy" in out
    assert "Step 1000, training accuracy" in out
    assert reported_accuracy(out) >= 0.75, out


def test_mnist_dynamic_trains():
    out = run_example("mnist_dynamic.py", "--epochs", "1")
    assert reported_accuracy(out) >= 0.8, out


def test_mnist_tf1_logs_for_tensorboard(tmp_path):
    ea = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    logdir = tmp_path / "runs" / "mnist"
    out = run_example("mnist_tf1.py", "--steps", "101", "--logdir", str(logdir))
    assert f"TensorBoard logs in {logdir}" in out
    acc = ea.EventAccumulator(str(logdir), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0})
    acc.Reload()
    tags = acc.Tags()
    assert sorted(tags["scalars"]) == ["accuracy", "loss"]
    assert sorted(tags["histograms"]) == ["W1", "W2", "b1", "b2"]
    assert [e.step for e in acc.Scalars("loss")] == [0, 50, 100]
    assert tags["graph"] and tags["run_metadata"] == ["step0"]
    assert any(n.name.startswith("gradients/") for n in acc.Graph().node)
