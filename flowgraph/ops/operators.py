"""Python operators on Tensors and Variables (``x + y``, ``a @ b``, ``-x``, ``x[1:, None]``).

TF1 semantics: ``==`` stays identity (tensors are dict keys); ``<``, ``<=``, ``>``, ``>=``
build comparison ops; ``&``, ``|``, ``~``, ``^`` are logical ops on bool tensors.
"""

from __future__ import annotations

from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, linalg, math
from flowgraph.ops.state import Variable


def _logical_xor(x, y):
    return math.logical_and(math.logical_or(x, y), math.logical_not(math.logical_and(x, y)))


# Python's operator names -> the op functions they build, TF1's way. flowgraph.dynamic's
# tensors start from the same tables (dynamic/methods.py), changing only where PyTorch differs.
BINARY_OPERATORS = {
    "add": math.add,
    "sub": math.subtract,
    "mul": math.multiply,
    "truediv": math.divide,
    "floordiv": math.floordiv,
    "mod": math.floormod,
    "pow": math.pow,
    "matmul": linalg.matmul,
    "and": math.logical_and,
    "or": math.logical_or,
    "xor": _logical_xor,
}
COMPARISON_OPERATORS = {
    "lt": math.less,
    "le": math.less_equal,
    "gt": math.greater,
    "ge": math.greater_equal,
}
UNARY_OPERATORS = {"neg": math.negative, "abs": math.abs, "invert": math.logical_not}


def _install(cls) -> None:
    for name, fn in BINARY_OPERATORS.items():
        setattr(cls, f"__{name}__", lambda self, other, fn=fn: fn(self, other))
        setattr(cls, f"__r{name}__", lambda self, other, fn=fn: fn(other, self))
    for name, fn in COMPARISON_OPERATORS.items():
        setattr(cls, f"__{name}__", lambda self, other, fn=fn: fn(self, other))
    for name, fn in UNARY_OPERATORS.items():
        setattr(cls, f"__{name}__", lambda self, fn=fn: fn(self))
    cls.__pos__ = lambda self: self if isinstance(self, Tensor) else self._as_graph_tensor()
    cls.__getitem__ = lambda self, key: array.getitem(self, key)


_install(Tensor)
_install(Variable)
