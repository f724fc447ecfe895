"""Fast end-to-end smoke tests: build a graph, run it, compare with NumPy; run the quickstart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

import flowgraph as fg

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def test_small_graph_matches_numpy(graph):
    rng = np.random.default_rng(0)
    w_init, b_init = rng.standard_normal((3, 2)), rng.standard_normal(2)
    batch = rng.standard_normal((5, 3))

    x = fg.placeholder(fg.float64, [None, 3], name="x")
    w = fg.Variable(w_init, name="w")
    b = fg.Variable(b_init, name="b")
    h = fg.tanh(fg.matmul(x, w) + b)
    total = fg.reduce_sum(h * 2.0)

    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        h_value, total_value = sess.run([h, total], feed_dict={x: batch})
        again = sess.run(total, feed_dict={x: batch})

    expected = np.tanh(batch @ w_init + b_init)
    np.testing.assert_allclose(h_value, expected, rtol=1e-12)
    np.testing.assert_allclose(total_value, 2.0 * expected.sum(), rtol=1e-12)
    assert again == total_value


def test_quickstart_example_runs():
    result = subprocess.run(
        [sys.executable, str(QUICKSTART)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "matches NumPy: True" in result.stdout
    assert "def run(ctx, x):" in result.stdout
