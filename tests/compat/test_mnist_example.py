"""examples/mnist_tf1.py — the seed TF1 program — trains on the bundled MNIST sample.

300 Adam steps of batch 100 reach 72-76% test accuracy on the bundled 1,000 test digits
(chance is 10%; 20 steps reach ~17%), so the bound below fails if the gradients, the optimizer
or the data are wrong. The program runs in a temporary directory and draws its graph there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mnist_tf1.py"


def test_mnist_tf1_example_learns_the_bundled_digits(tmp_path):
    picture = tmp_path / "graph.svg"
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--steps", "300", "--graph-picture", str(picture)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Step 0, training accuracy: " in result.stdout
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert accuracy >= 0.6, result.stdout
    if shutil.which("dot"):
        assert f"Graph picture written to {picture}" in result.stdout
        assert "<svg" in picture.read_text()
    else:
        assert "No graph picture" in result.stdout and not picture.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == (["graph.svg"] if picture.exists() else [])
