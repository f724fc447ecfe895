"""``flowgraph export-onnx``: a graph file and its checkpoint become an ONNX model that
onnxruntime runs with the trained values; problems are one-line errors."""

from __future__ import annotations

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

import flowgraph as fg  # noqa: E402
from flowgraph import cli  # noqa: E402
from flowgraph.io import export_graph  # noqa: E402


@pytest.fixture
def trained(tmp_path, graph):
    """A graph file and a checkpoint of a model trained a few steps (values differ from init)."""
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    labels = fg.placeholder(fg.float32, [None, 2], name="labels")
    w = fg.Variable(np.ones((3, 2), np.float32), name="w")
    b = fg.Variable(np.zeros(2, np.float32), name="b")
    logits = fg.add(fg.matmul(x, w), b, name="logits")
    probs = fg.nn.softmax(logits, name="probs")
    loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits))
    step = fg.train.GradientDescentOptimizer(0.5).minimize(loss)
    data = np.random.default_rng(0).random((4, 3)).astype(np.float32)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for _ in range(5):
            sess.run(step, {x: data, labels: np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]})
        expected = sess.run(probs, {x: data})
        prefix = fg.train.Saver().save(sess, str(tmp_path / "ckpt"))
    export_graph(graph, tmp_path / "model.json")
    return tmp_path, prefix, data, expected


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_export_onnx_with_a_checkpoint_runs_in_onnxruntime(capsys, trained):
    folder, prefix, data, expected = trained
    out_path = folder / "model.onnx"
    code, out, err = run_cli(
        capsys, "export-onnx", folder / "model.json", "--fetch", "probs",
        "--checkpoint", prefix, "-o", out_path,
    )  # fmt: skip
    assert code == 0, err
    assert "inputs [x]" in out and "2 initializers" in out
    sess = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"x": data})
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_export_onnx_errors_are_one_line(capsys, trained):
    folder, prefix, _, _ = trained
    graph = folder / "model.json"
    code, _, err = run_cli(
        capsys, "export-onnx", graph, "--fetch", "probs", "-o", folder / "m.onnx"
    )
    assert code == 2 and "--checkpoint PREFIX" in err and "(w, b)" in err
    code, _, err = run_cli(capsys, "export-onnx", graph, "--fetch", "nope", "-o", folder / "m.onnx")
    assert code == 2 and "--fetch 'nope'" in err
    code, _, err = run_cli(
        capsys, "export-onnx", graph, "--fetch", "probs", "--checkpoint", folder / "missing",
        "-o", folder / "m.onnx",
    )  # fmt: skip
    assert code == 2 and "--checkpoint" in err
    assert len(err.strip().splitlines()) == 1
    from flowgraph.io import write_checkpoint

    write_checkpoint(str(folder / "bad"), {"w": np.ones((5, 5), np.float32), "b": np.zeros(2)})
    code, _, err = run_cli(
        capsys, "export-onnx", graph, "--fetch", "probs", "--checkpoint", folder / "bad",
        "-o", folder / "m.onnx",
    )  # fmt: skip
    assert code == 2 and "--checkpoint" in err and "[5,5]" in err.replace(" ", "")
    assert len(err.strip().splitlines()) == 1
    # the untrained model, on request
    code, out, err = run_cli(
        capsys, "export-onnx", graph, "--fetch", "logits:0", "--initial-values",
        "-o", folder / "init.onnx",
    )  # fmt: skip
    assert code == 0, err
    (got,) = ort.InferenceSession(str(folder / "init.onnx")).run(
        None, {"x": np.ones((1, 3), np.float32)}
    )
    np.testing.assert_array_equal(got, [[3.0, 3.0]])  # w = ones, b = zeros


def test_demo_then_export_onnx(capsys, tmp_path, monkeypatch):
    """The README's path: train with `flowgraph demo`, keep its graph and checkpoint, export."""
    monkeypatch.chdir(tmp_path)  # the demo draws its graph into the working directory
    code, out, err = run_cli(
        capsys, "demo", "--steps", "20", "--graph-out", "mnist.json", "--checkpoint-out", "ckpt"
    )
    assert code == 0, err
    assert "Checkpoint written to ckpt" in out
    code, out, err = run_cli(
        capsys, "export-onnx", "mnist.json", "--fetch", "ArgMax", "--checkpoint", "ckpt",
        "-o", "mnist.onnx",
    )  # fmt: skip
    assert code == 0, err
    from flowgraph.datasets.mnist import read_data_sets

    images = read_data_sets(None).test.images[:50]
    (classes,) = ort.InferenceSession("mnist.onnx").run(None, {"Placeholder": images})
    assert classes.shape == (50,) and classes.dtype == np.int64


def test_export_onnx_without_the_extra_says_how_to_install(capsys, trained, monkeypatch):
    import sys

    folder = trained[0]
    monkeypatch.setitem(sys.modules, "flowgraph.onnx", None)  # as if onnx were missing
    code, _, err = run_cli(
        capsys, "export-onnx", folder / "model.json", "--fetch", "probs", "-o", folder / "m.onnx"
    )
    assert code == 2 and "pip install 'flowgraph[onnx]'" in err
