"""The `flowgraph` command: --version, demo, info and show, and its one-line errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import cli
from flowgraph.io import export_graph

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot program is not installed")


@pytest.fixture
def graph_file(tmp_path, graph) -> Path:
    """A small trained model saved as a graph file: placeholders, variables, Adam."""
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    labels = fg.placeholder(fg.float32, [None, 2], name="labels")
    with fg.name_scope("dense"):
        w = fg.Variable(np.ones((3, 2), np.float32), name="w")
        b = fg.Variable(np.zeros(2, np.float32), name="b")
        logits = fg.matmul(x, w) + b
    loss = fg.reduce_mean(
        fg.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits), name="loss"
    )
    fg.train.AdamOptimizer(0.01).minimize(loss)
    path = tmp_path / "model.json"
    export_graph(graph, path)
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys):
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0
    assert out.strip() == f"flowgraph {fg.__version__}" == "flowgraph 0.1.0"


def test_python_m_flowgraph_version(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flowgraph", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # the installed package, not the checkout's working directory
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "flowgraph 0.1.0"


def test_console_script_version():
    script = Path(sys.executable).with_name("flowgraph")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable} (pip install -e . makes it)")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "flowgraph 0.1.0"


def test_no_command_prints_usage(capsys):
    code, _, err = run_cli(capsys)
    assert code == 2
    assert "usage: flowgraph" in err


def test_info_summarises_the_file(capsys, graph_file):
    code, out, err = run_cli(capsys, "info", graph_file)
    assert code == 0, err
    assert str(graph_file) in out
    assert "format version 1" in out
    assert "MatMul" in out and "ApplyAdam" in out
    placeholders = out[out.index("placeholders (2):") :]
    assert "x" in placeholders and "float32" in placeholders and "[?,3]" in placeholders
    assert "labels" in placeholders and "[?,2]" in placeholders
    variables = out[out.index("variables (") :]
    assert "dense/w" in variables and "[3,2]" in variables and "trainable" in variables
    assert "2 trainable" in variables


@needs_dot
@pytest.mark.parametrize("collapse", [None, "0", "1"])
def test_show_writes_svg(capsys, graph_file, tmp_path, collapse):
    svg = tmp_path / "drawing" / "model.svg"
    argv = ["show", graph_file, "-o", svg] + ([] if collapse is None else ["--collapse", collapse])
    code, out, err = run_cli(capsys, *argv)
    assert code == 0, err
    assert str(svg) in out
    text = svg.read_text()
    assert "<svg" in text
    assert "MatMul" in text or "dense" in text


@needs_dot
def test_show_defaults_to_svg_next_to_the_graph(capsys, graph_file):
    code, out, err = run_cli(capsys, "show", graph_file)
    assert code == 0, err
    assert "<svg" in graph_file.with_suffix(".svg").read_text()


def test_show_unknown_suffix_is_an_error(capsys, graph_file, tmp_path):
    code, _, err = run_cli(capsys, "show", graph_file, "-o", tmp_path / "drawing.xyz")
    assert code == 2
    assert "drawing.xyz" in err and "Traceback" not in err
    assert not (tmp_path / "drawing.xyz").exists()


def test_show_without_dot_is_a_one_line_error(capsys, graph_file, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # graphviz looks `dot` up on PATH
    code, _, err = run_cli(capsys, "show", graph_file, "-o", tmp_path / "g.svg")
    assert code == 2
    assert "dot" in err and "Graphviz" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g.svg").exists()


def _malformed(tmp_path: Path) -> Path:
    path = tmp_path / "broken.json"
    path.write_text('{"format": "flowgraph-graph", "version": 1, "ops": [')
    return path


def _not_a_graph(tmp_path: Path) -> Path:
    path = tmp_path / "other.json"
    path.write_text('{"hello": "world"}')
    return path


@pytest.mark.parametrize("command", ["info", "show"])
@pytest.mark.parametrize(
    "make_path",
    [lambda tmp: tmp / "missing.json", _malformed, _not_a_graph, lambda tmp: tmp],
    ids=["missing", "malformed-json", "not-a-graph", "directory"],
)
def test_bad_graph_file_is_a_one_line_error(capsys, tmp_path, command, make_path):
    path = make_path(tmp_path)
    argv = [command, path] + (["-o", tmp_path / "out.svg"] if command == "show" else [])
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert str(path) in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err


def test_errors_exit_2_from_a_subprocess(tmp_path):
    path = _malformed(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "flowgraph", "info", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert str(path) in result.stderr and "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    """The demo draws its graph into the working directory: keep that out of the repo."""
    monkeypatch.chdir(tmp_path)


def test_demo_trains_and_saves_its_graph(capsys, tmp_path):
    graph_out = tmp_path / "mnist.json"
    code, out, err = run_cli(capsys, "demo", "--steps", "50", "--graph-out", graph_out)
    assert code == 0, err
    assert "Step 0, training accuracy" in out
    assert "Test accuracy" in out
    assert sys.argv[0] != str(cli.DEMO_SCRIPT)  # restored after the run
    code, out, err = run_cli(capsys, "info", graph_out)
    assert code == 0, err
    assert "ApplyAdam" in out and "[?,784]" in out


def test_demo_leaves_the_default_graph_alone(capsys):
    before = len(fg.get_default_graph().get_operations())
    assert run_cli(capsys, "demo", "--steps", "1")[0] == 0
    assert len(fg.get_default_graph().get_operations()) == before


def test_demo_without_a_source_checkout(capsys, tmp_path, monkeypatch):
    missing = tmp_path / "examples" / "mnist_tf1.py"
    monkeypatch.setattr(cli, "DEMO_SCRIPT", missing)
    code, _, err = run_cli(capsys, "demo", "--steps", "1")
    assert code == 2
    assert "source checkout" in err and str(missing) in err


def test_demo_bad_data_dir(capsys, tmp_path):
    code, _, err = run_cli(capsys, "demo", "--data-dir", tmp_path / "nowhere")
    assert code == 2
    assert "nowhere" in err


@pytest.mark.parametrize("steps", ["0", "-3", "many"])
def test_demo_rejects_bad_steps(capsys, steps):
    code, _, err = run_cli(capsys, "demo", "--steps", steps)
    assert code == 2
    assert "--steps" in err


def test_demo_script_is_the_seed_example():
    repo = Path(__file__).resolve().parents[1]
    assert cli.DEMO_SCRIPT == repo / "examples" / "mnist_tf1.py"
    assert os.path.isfile(cli.DEMO_SCRIPT)
