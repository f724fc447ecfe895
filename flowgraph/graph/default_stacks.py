"""The default-graph and default-session stacks (per thread, as in TensorFlow 1).

The session stack lives here, below the runtime, so that ``Tensor.eval()`` can find the default
session without the graph layer importing the runtime: a Session pushes itself here.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager


class _Stacks(threading.local):
    def __init__(self) -> None:
        self.graphs: list = []
        self.sessions: list = []


_stacks = _Stacks()
_global_default_graph = None
_global_lock = threading.Lock()


def get_default_graph():
    """The innermost graph of ``with g.as_default():``, else the process-wide default graph.

    >>> from flowgraph.graph import Graph, get_default_graph
    >>> g = Graph()
    >>> with g.as_default():
    ...     get_default_graph() is g
    True
    """
    global _global_default_graph
    if _stacks.graphs:
        return _stacks.graphs[-1]
    if _global_default_graph is None:
        from flowgraph.graph.graph import Graph

        with _global_lock:
            if _global_default_graph is None:
                _global_default_graph = Graph()
    return _global_default_graph


def reset_default_graph() -> None:
    """Replace the process-wide default graph by a new, empty one (TF1's notebook idiom).

    Raises AssertionError inside a ``with graph.as_default()`` block, as TF1 does, because the
    graph in use there would not be the one reset.
    """
    global _global_default_graph
    if _stacks.graphs:
        raise AssertionError(
            "Do not use reset_default_graph() inside a `with graph.as_default():` block; "
            "leave the block first, or build in a fresh `with Graph().as_default():`."
        )
    _global_default_graph = None


def default_graph(graph):
    """Context manager making ``graph`` the default graph of this thread for its block."""
    return _pushed(_stacks.graphs, graph)


def get_default_session():
    """The innermost session of ``with sess.as_default():`` (or ``with Session() as sess``)."""
    return _stacks.sessions[-1] if _stacks.sessions else None


def default_session(session):
    """Context manager making ``session`` the default session of this thread for its block."""
    return _pushed(_stacks.sessions, session)


@contextmanager
def _pushed(stack: list, item):
    """``item`` on top of ``stack`` for the block (taken off again even if the block raises)."""
    stack.append(item)
    try:
        yield item
    finally:
        _pop_last(stack, item)


def push_session(session) -> None:
    """Make ``session`` the default until :func:`pop_session` (InteractiveSession)."""
    _stacks.sessions.append(session)


def pop_session(session) -> None:
    if session in _stacks.sessions:
        _pop_last(_stacks.sessions, session)


def _pop_last(stack: list, item) -> None:
    """Remove the innermost ``item`` (a graph entered twice is left in its outer place)."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is item:
            del stack[i]
            return
