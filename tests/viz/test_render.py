"""Rendering drawings: SVG / PNG / PDF with Graphviz's `dot`, a clear error without it."""

from __future__ import annotations

import shutil

import graphviz
import pytest

import flowgraph as fg
from flowgraph import viz

HAVE_DOT = shutil.which("dot") is not None


@pytest.fixture
def small():
    g = fg.Graph()
    with g.as_default():
        x = fg.placeholder(fg.float32, [None, 3], name="x")
        with fg.name_scope("layer"):
            fg.tanh(x * 2.0, name="y")
    return viz.draw(g)


def test_a_drawing_is_a_graphviz_digraph(small):
    assert isinstance(small, graphviz.Digraph)
    assert small.source.startswith("digraph flowgraph {")
    assert isinstance(small.copy(), viz.FlowDigraph)


def test_renders_svg_png_and_pdf_when_dot_is_installed(small, tmp_path):
    if not HAVE_DOT:
        with pytest.raises(viz.GraphvizNotFoundError, match="apt-get install graphviz"):
            viz.render_to(small, tmp_path / "g.svg")
        return
    svg = viz.render_to(small, tmp_path / "g.svg")
    text = (tmp_path / "g.svg").read_text()
    assert svg == str(tmp_path / "g.svg") and "<svg" in text and "layer" in text
    assert small.render_to(tmp_path / "g.png") == str(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    viz.render_to(small, tmp_path / "sub" / "drawing", format="pdf")
    assert (tmp_path / "sub" / "drawing").read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.png", "g.svg", "sub"]  # no .gv
    assert small.pipe(format="svg").startswith(b"<?xml")


def test_jupyter_displays_svg_inline(small):
    if not HAVE_DOT:
        bundle = small._repr_mimebundle_()
        assert "apt-get install graphviz" in bundle["text/plain"]
        return
    bundle = small._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "<svg" in small._repr_svg_()
    assert small.show() is small  # outside IPython: returned for the REPL to display


def test_a_big_collapsed_graph_renders():
    g = fg.Graph()
    with g.as_default():
        h = fg.placeholder(fg.float32, [None, 4], name="x")
        for i in range(40):
            with fg.name_scope(f"block{i}"):
                for j in range(5):
                    with fg.name_scope(f"layer{j}"):
                        for _ in range(17):
                            h = fg.tanh(h * 1.01 + 0.5)
    assert len(g.get_operations()) > 10_000
    dot = viz.draw(g)
    if HAVE_DOT:
        assert b"block39" in dot.pipe(format="svg")


def test_without_dot_the_source_is_there_and_rendering_says_how_to_install(
    small, tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert "cluster_layer" in small.source  # DOT source needs no Graphviz
    with pytest.raises(RuntimeError) as info:
        viz.render_to(small, tmp_path / "g.png")
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install"):
        assert hint in message
    assert isinstance(info.value, graphviz.ExecutableNotFound)
    assert isinstance(info.value.__cause__, graphviz.ExecutableNotFound)
    with pytest.raises(viz.GraphvizNotFoundError):
        small.pipe(format="svg")
    with pytest.raises(viz.GraphvizNotFoundError):
        small.render(directory=tmp_path)
    bundle = small._repr_mimebundle_()  # a notebook cell shows the hint, not a traceback
    assert set(bundle) == {"text/plain"}
    assert "brew install graphviz" in bundle["text/plain"]
    assert "cluster_layer" in bundle["text/plain"]


def test_an_unknown_format_is_refused(small, tmp_path):
    with pytest.raises(ValueError, match="output format"):
        viz.render_to(small, tmp_path / "g")


def test_a_deep_net_with_its_backward_pass_renders():
    # Activations feed the backward pass across the whole depth: long edges dot must route.
    g = fg.Graph()
    with g.as_default():
        h = fg.placeholder(fg.float32, [None, 8], name="x")
        for i in range(60):
            with fg.name_scope(f"layer{i}"):
                h = fg.tanh(fg.matmul(h, fg.Variable(fg.random_normal([8, 8]), name="w")))
        fg.train.AdamOptimizer().minimize(fg.reduce_mean(h))
    dot = viz.draw(g)
    if HAVE_DOT:
        assert b"layer59" in dot.pipe(format="svg")
