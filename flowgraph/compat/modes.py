"""TF2's switches back to TF1 behaviour, which programs ported to ``tensorflow.compat.v1``
call first (``tf.disable_v2_behavior()``). flowgraph's ``compat.v1`` always builds graphs, so
turning TF2 behaviour off changes nothing; turning eager execution on is
:mod:`flowgraph.dynamic`'s job.

>>> import flowgraph.compat.v1 as tf
>>> tf.disable_v2_behavior(); tf.executing_eagerly()
False
"""

from __future__ import annotations

from flowgraph.ops.registry import executing_eagerly

__all__ = [
    "disable_eager_execution",
    "disable_v2_behavior",
    "enable_eager_execution",
    "executing_eagerly",
]


def disable_v2_behavior() -> None:
    """Nothing to do: ``flowgraph.compat.v1`` is TF1's graph mode already."""


def disable_eager_execution() -> None:
    """Nothing to do: ops build graph nodes unless flowgraph.dynamic runs them."""


def enable_eager_execution(*args, **kwargs) -> None:
    """Not here: define-by-run lives in :mod:`flowgraph.dynamic` (PyTorch style)."""
    raise NotImplementedError(
        "flowgraph.compat.v1 builds graphs; for eager (define-by-run) execution use "
        "flowgraph.dynamic, e.g. `import flowgraph.dynamic as torch`"
    )
