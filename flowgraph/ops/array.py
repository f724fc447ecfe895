"""Array ops: reshaping, joining, slicing, gathering, and tensors of given shape.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([[1, 2, 3], [4, 5, 6]])
...     fg.Session().run(fg.identity(x))
array([[1, 2, 3],
       [4, 5, 6]], dtype=int32)
"""

from __future__ import annotations

from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op
from flowgraph.ops.rules import same_as_input

define_op("Identity", same_as_input, kernel=lambda xp, x: x)


def identity(input, name=None):
    """The same value as ``input``, as a new op (a place to hang control dependencies)."""
    return apply_op("Identity", [convert_to_tensor(input)], name=name or "Identity")


def getitem(tensor, key):
    """``tensor[key]``: placeholder until the strided-slice op lands."""
    raise NotImplementedError("indexing")
