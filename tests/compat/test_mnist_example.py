"""examples/mnist_tf1.py — the seed TF1 program — runs end to end (a few steps)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mnist_tf1.py"


def test_mnist_tf1_example_runs():
    result = subprocess.run(
        [sys.executable, str(EXAMPLE), "--steps", "20"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Step 0, training accuracy: " in result.stdout
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", result.stdout).group(1))
    assert 0.0 <= accuracy <= 1.0
