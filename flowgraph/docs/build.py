"""Build the documentation site: stage docs/, generate the API and op-catalog pages, run Sphinx.

Nothing is written into the repository: docs/ is copied into ``<out>/source`` together with the
notebooks and the generated pages, and the HTML goes to ``<out>/html``. Sphinx runs with warnings
as errors, then every internal link of the HTML is checked (no network is used).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from flowgraph.docs import apipages, catalogpages, links

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
NOTEBOOKS = REPO / "notebooks"
DEFAULT_OUT = REPO / "build" / "docs"


class DocsBuildError(RuntimeError):
    """The site did not build cleanly: a Sphinx warning, a failed cell, a broken link."""


@dataclass
class BuildResult:
    """Where the site is and what the build took."""

    html: Path
    pages: int
    seconds: float

    @property
    def index(self) -> Path:
        return self.html / "index.html"


def stage(out: Path) -> Path:
    """Copy docs/ and notebooks/ under ``out/source`` and generate the reference pages there."""
    if not DOCS.is_dir():
        raise DocsBuildError(
            f"no docs/ folder at {DOCS}: build the site from a source checkout of flowgraph"
        )
    source = out / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "__pycache__"))
    shutil.copytree(NOTEBOOKS, source / "notebooks", ignore=shutil.ignore_patterns(".*"))
    _ipython_lexer(source / "notebooks")
    _notebook_index(source / "notebooks")
    apipages.write(source / "api")
    catalogpages.write(source / "ops", REPO)
    return source


def _ipython_lexer(folder: Path) -> None:
    """Name the IPython lexer in notebooks that do not: cells with ``%magics`` are highlighted
    with it even when a notebook is rendered without running (which would record it)."""
    for path in folder.glob("*.ipynb"):
        notebook = json.loads(path.read_text())
        info = notebook.setdefault("metadata", {}).setdefault("language_info", {})
        if "pygments_lexer" not in info:
            info.update({"name": "python", "pygments_lexer": "ipython3"})
            path.write_text(json.dumps(notebook, indent=1))


def _notebook_index(folder: Path) -> None:
    """notebooks/index.md: the README's introduction and a table of contents of the notebooks."""
    names = sorted(p.stem for p in folder.glob("*.ipynb"))
    text = [
        "# Notebooks",
        "",
        "The teaching notebooks of the repository's `notebooks/` folder, in reading order,",
        "executed when this site was built (`tests/test_notebooks.py` runs them in the suite).",
        'Open them in Jupyter with `.venv/bin/pip install -e ".[notebooks]"` and',
        "`.venv/bin/jupyter lab notebooks/`.",
        "",
        "```{toctree}",
        ":maxdepth: 1",
        ":titlesonly:",
        "",
        *names,
        "```",
    ]
    (folder / "index.md").write_text("\n".join(text) + "\n")


def build(out: Path = DEFAULT_OUT, *, execute_notebooks: bool = True) -> BuildResult:
    """Build the site into ``out/html`` with warnings as errors; check its internal links.

    ``execute_notebooks=False`` renders notebooks/ without running them (tests/test_notebooks.py
    runs them already); the guides' code always runs.
    """
    from sphinx.cmd.build import build_main

    started = time.perf_counter()
    out = Path(out).resolve()
    source = stage(out)
    html = out / "html"
    os.environ["FLOWGRAPH_DOCS_EXECUTE_NOTEBOOKS"] = "1" if execute_notebooks else "0"
    # Kernels the guides start run one BLAS thread, as the tests and benchmarks do.
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("JUPYTER_PREFER_ENV_PATH", "1")
    # A built page is static: the TensorBoard notebook skips launching TensorBoard inline.
    os.environ.setdefault("FLOWGRAPH_HEADLESS", "1")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    args = ["-b", "html", "-E", "-W", "--keep-going", "-q", "-d", str(out / "doctrees")]
    status = build_main([*args, str(source), str(html)])
    if status != 0:
        raise DocsBuildError(f"Sphinx reported warnings or errors (exit status {status})")
    broken = links.broken_links(html)
    if broken:
        raise DocsBuildError("broken internal links:\n  " + "\n  ".join(broken))
    pages = sum(1 for p in html.rglob("*.html") if "_modules" not in p.parts)
    return BuildResult(html, pages, time.perf_counter() - started)
