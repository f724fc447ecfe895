"""Compatibility spellings of other libraries' APIs, as thin aliases of flowgraph's own.

``flowgraph.compat.v1`` is TensorFlow 1's API: ``import flowgraph.compat.v1 as tf`` runs TF1
graph-mode programs unchanged (see ``examples/mnist_tf1.py``).
"""

from flowgraph.compat import v1

__all__ = ["v1"]
