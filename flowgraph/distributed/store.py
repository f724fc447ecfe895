"""What ``flowgraph.train.Saver`` sees of a distributed session: ``sess._context.variables``
as a mapping over the workers' variable stores (reads gather them, writes load them)."""

from __future__ import annotations

import numpy as np


class Placed:
    """What ``_wait`` needs of a segment: the index of the worker its task runs on."""

    def __init__(self, worker: int) -> None:
        self.worker = worker


class ContextView:
    """``.variables``: a mapping over the workers' variable stores (for ``Saver``)."""

    def __init__(self, sess) -> None:
        self.variables = VariableStore(sess)


class VariableStore:
    def __init__(self, sess) -> None:
        self._sess = sess
        self._cache = None

    def _all(self) -> dict:
        if self._cache is None:
            self._cache = self._sess.gather_variables()
        return self._cache

    def __contains__(self, name) -> bool:
        return name in self._all()

    def __getitem__(self, name):
        return self._all()[name]

    def __setitem__(self, name, value) -> None:
        self._sess.load_variables({name: value})
        if self._cache is not None:
            self._cache[name] = np.asarray(value)

    def keys(self):
        return self._all().keys()
