"""The documentation site builds offline with warnings as errors, every guide's code runs, and
no internal link is broken (python -m flowgraph.docs build, into tmp_path).

The notebooks are rendered without executing them here: tests/test_notebooks.py runs them.
"""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("sphinx", reason="the docs extra (in the test extra) provides Sphinx")

from flowgraph.docs import links  # noqa: E402
from flowgraph.docs.__main__ import main  # noqa: E402
from flowgraph.docs.build import build  # noqa: E402
from flowgraph.ops import registry  # noqa: E402

pytestmark = [
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot draws the graphs"),
    # myst-parser's own use of an API that Sphinx 9 deprecates; nothing of ours
    pytest.mark.filterwarnings("ignore:.*is deprecated. Check CHANGES for Sphinx API"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return build(tmp_path_factory.mktemp("docs"), execute_notebooks=False)


def test_the_site_builds_with_every_page(site):
    html = site.html
    assert site.index.exists()
    guides = {p.stem for p in (html / "guides").glob("*.html")}
    assert {
        "getting_started",
        "session_run",
        "autodiff",
        "security",
        "performance",
        "tensorboard",
        "onnx",
    } <= guides
    ops = {p.stem for p in (html / "ops").glob("*.html")} - {"index"}
    assert ops == set(registry.registered_op_types())
    assert (html / "api" / "flowgraph.compat.v1.html").exists()
    assert site.pages == sum(1 for p in html.rglob("*.html") if "_modules" not in p.parts)


def test_guide_code_ran_at_build_time(site):
    session_run = (site.html / "guides" / "session_run.html").read_text()
    assert "generated code:" in session_run  # sess.explain's output, printed by the cell
    getting_started = (site.html / "guides" / "getting_started.html").read_text()
    assert "<svg" in getting_started  # the graph drawn by Graphviz at build time
    tf1 = (site.html / "guides" / "tf1_programs.html").read_text()
    assert "loss after 300 steps" in tf1
    # the step-time plot measured and drawn by matplotlib at build time
    static_vs_dynamic = (site.html / "guides" / "static_vs_dynamic.html").read_text()
    assert "dynamic/static" in static_vs_dynamic and "<img" in static_vs_dynamic


def test_aliases_link_to_their_target(site):
    page = (site.html / "api" / "flowgraph.compat.v1.html").read_text()
    assert 'href="flowgraph.html#flowgraph.matmul"' in page


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "a.html").write_text('<a href="missing.html">x</a>')
    assert links.broken_links(tmp_path) == ["a.html: missing.html (no such file)"]


def test_a_failing_guide_cell_fails_the_build(tmp_path, monkeypatch, capsys):
    from flowgraph.docs import build as build_module

    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    shutil.copy(build_module.DOCS / "conf.py", docs)
    shutil.copytree(build_module.DOCS / "_static", docs / "_static")
    header = (build_module.DOCS / "guides" / "autodiff.md").read_text().split("# ")[0]
    (docs / "index.md").write_text(
        header + "# Broken\n\n```{code-cell} python\nraise ValueError('boom')\n```\n"
    )
    monkeypatch.setattr(build_module, "DOCS", docs)
    monkeypatch.setattr(build_module.apipages, "write", lambda folder: [])
    monkeypatch.setattr(build_module.catalogpages, "write", lambda folder, repo: [])
    assert main(["build", "-o", str(tmp_path / "out"), "--no-notebooks"]) == 1
    err = capsys.readouterr().err
    assert "Sphinx reported warnings or errors" in err
    assert "boom" in err, err[-2000:]
