"""The two errors of flowgraph.onnx: a graph that cannot be exported, a model that cannot be
imported. Both are ValueErrors, so code that checks for bad input in general catches them.

>>> raise ONNXImportError("node 'n0' (op Foo): no flowgraph mapping")
Traceback (most recent call last):
...
flowgraph.onnx.errors.ONNXImportError: node 'n0' (op Foo): no flowgraph mapping
"""

from __future__ import annotations


class ONNXExportError(ValueError):
    """A graph that has no faithful ONNX form: the message names the op, its type and the
    user's line that created it."""


class ONNXImportError(ValueError):
    """An ONNX model that flowgraph cannot (or will not) build: the message names the node,
    its op type or the part of the file at fault."""
