"""Warnings for TF1's classic silent surprises, raised once per session.

``GraphGrowthWarning``: a graph that keeps gaining ops between runs usually means ops are
being created inside the training loop (``sess.run(tf.assign(...))`` in a loop, or a notebook
cell re-run against the same default graph). Each run then compiles a new plan and the graph
grows without bound. The warning names the line that keeps adding ops.
"""

from __future__ import annotations

import warnings


class GraphGrowthWarning(UserWarning):
    """The graph a Session runs keeps growing between runs."""


class GrowthWatch:
    """Counts consecutive runs that found new ops in the graph; warns once at ``limit``."""

    def __init__(self, graph, limit: int = 10) -> None:
        self.graph = graph
        self.limit = limit
        self._version = None
        self._growing_runs = 0
        self._warned = False

    def check(self) -> None:
        """Called at the start of each run: cheap unless the graph changed since the last."""
        version = self.graph.version
        if version == self._version:
            self._growing_runs = 0
            return
        first = self._version is None
        self._version = version
        if first or self._warned:
            return
        self._growing_runs += 1
        if self._growing_runs >= self.limit:
            self._warned = True
            newest = self.graph.get_operations()[-1]
            warnings.warn(
                f"The graph has grown between {self._growing_runs} consecutive Session.run calls "
                f"(now {len(self.graph.get_operations())} ops; the newest, {newest.type} op "
                f"{newest.name!r}, was added at {newest.site}). Creating ops inside a training "
                "loop makes the graph grow forever and recompiles every run: build them once "
                "before the loop. In a notebook, build each model in a fresh "
                "`with flowgraph.Graph().as_default():` block or call "
                "flowgraph.reset_default_graph() first; graph.finalize() turns this into an error.",
                GraphGrowthWarning,
                stacklevel=4,
            )
