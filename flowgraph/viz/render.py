"""Rendering a drawing, with a clear message when Graphviz's ``dot`` program is missing.

The ``graphviz`` Python package only writes DOT source; turning it into SVG / PNG / PDF runs
Graphviz's ``dot`` program, which is installed separately. :class:`FlowDigraph` is a
``graphviz.Digraph`` whose ``render``, ``pipe`` and Jupyter display say how to install it when
it is missing, and still show the DOT source in a notebook.

>>> dot = FlowDigraph()
>>> dot.node("a")
>>> isinstance(dot, graphviz.Digraph), "a" in dot.source
(True, True)
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import graphviz

INSTALL_HINT = (
    "Graphviz's `dot` program was not found on PATH; flowgraph.viz needs it to render SVG, "
    "PNG or PDF (the DOT source is available without it as `.source`). Install Graphviz: "
    "`sudo apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install -c conda-forge graphviz`, or https://graphviz.org/download/ (Windows); "
    "then restart Python so the new PATH is seen."
)


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Graphviz's ``dot`` is not installed: a RuntimeError saying how to install it."""

    def __init__(self, message: str = INSTALL_HINT) -> None:
        RuntimeError.__init__(self, message)


@contextlib.contextmanager
def explain_missing_dot():
    """Turn graphviz's ExecutableNotFound into :class:`GraphvizNotFoundError`."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as e:
        raise GraphvizNotFoundError() from e


class FlowDigraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` that explains a missing Graphviz installation.

    In Jupyter it displays inline as SVG; without ``dot`` the cell shows the install hint and
    the DOT source instead of a traceback.
    """

    def pipe(self, *args, **kwargs):
        with explain_missing_dot():
            return super().pipe(*args, **kwargs)

    def render(self, *args, **kwargs):
        with explain_missing_dot():
            return super().render(*args, **kwargs)

    def render_to(self, path: str | os.PathLike, format: str | None = None) -> str:
        """Render to ``path`` (format from its suffix: ``.svg``, ``.png``, ``.pdf``)."""
        return render_to(self, path, format)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except graphviz.ExecutableNotFound:
            return {"text/plain": f"{INSTALL_HINT}\n\n{self.source}"}

    def _repr_svg_(self) -> str | None:
        """The SVG drawing, for front ends that ask for ``_repr_svg_`` only; None without
        ``dot`` (IPython then falls back to the mimebundle, which shows the install hint)."""
        try:
            return self.pipe(format="svg", encoding="utf-8")
        except graphviz.ExecutableNotFound:
            return None

    def show(self):
        """Display inline in Jupyter (IPython.display); elsewhere return self (the DOT source
        is its ``.source``)."""
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return self
        if get_ipython() is None:  # IPython installed, but this is no notebook or shell
            return self
        display(self)
        return None


def render_to(dot: graphviz.Digraph, path: str | os.PathLike, format: str | None = None) -> str:
    """Render ``dot`` to the file ``path`` and return the path (no ``.gv`` file is left).

    The format defaults to the file's suffix. Raises :class:`GraphvizNotFoundError` (a
    RuntimeError) with installation instructions when Graphviz's ``dot`` is missing.

    >>> dot = FlowDigraph()
    >>> render_to(dot, "graph.unknownformat")
    Traceback (most recent call last):
    ...
    ValueError: Cannot tell the output format of 'graph.unknownformat': ...
    """
    path = Path(path)
    fmt = format or path.suffix.lstrip(".").lower()
    if fmt not in graphviz.FORMATS:
        raise ValueError(
            f"Cannot tell the output format of {str(path)!r}: give a suffix or format= "
            "such as 'svg', 'png' or 'pdf'."
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with explain_missing_dot():
        data = dot.pipe(format=fmt)
    path.write_bytes(data)
    return str(path)
