"""Common-subexpression elimination: compute each distinct expression once.

>>> import flowgraph as fg
>>> from flowgraph.compiler.passes import optimized
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2], name="x")
...     y = fg.exp(x, name="a") + fg.exp(x, name="b")
>>> ir, results = optimized([y], [x], passes=[eliminate_common_subexpressions])
>>> [n.name for n in ir.nodes], results[0].changes
(['a', 'Add'], ["merged Exp 'b' into Exp 'a'"])
"""

from __future__ import annotations

import numpy as np

from flowgraph.compiler.ir import is_volatile
from flowgraph.compiler.passes.rewrite import rewrite

# Operand order does not change the result, bit for bit: ``add(a, b)`` merges with ``add(b, a)``.
COMMUTATIVE = frozenset({"Add", "Mul", "Equal", "NotEqual", "LogicalAnd", "LogicalOr"})
_MAX_HASHED_BYTES = 1 << 20  # a bigger constant is compared by identity only


def eliminate_common_subexpressions(ir) -> list[str]:
    """``f(x, y)`` computed twice -> once: an op with the same type, the same inputs and equal
    attributes as an earlier one is replaced by it (constants with equal dtype, shape and bytes
    merge too).

    Never merged: stateful ops (two random draws differ, two prints both print), ops that need
    the session's context, ops ordering side effects, and ops reading a variable directly (each
    read happens where its consumer runs, possibly after an assignment).
    """
    return rewrite(ir, _RULES, _report)


def _same_as_before(node, seen):
    """Rule: the outputs of an earlier node computing the same expression, or None."""
    key = _key(node)
    if key is None:
        return None
    first = seen.setdefault(key, node)
    if first is node:
        return None
    return [(first, i) for i in range(len(node.specs))], first


def _report(node, refs, first) -> str:
    return f"merged {node.describe()} into {first.describe()}"


_RULES = {None: [_same_as_before]}


def _key(node):
    op_def = node.op_def
    if op_def is None or op_def.stateful or op_def.needs_context or not node.specs:
        return None
    inputs = tuple(node.inputs)  # (node, index) pairs: nodes hash and compare by identity
    for r in inputs:
        if is_volatile(r):
            return None
    if node.type in COMMUTATIVE:
        if len(inputs) == 2:  # (the usual case, without sorted's overhead)
            a, b = inputs
            if _identity(a) > _identity(b):
                inputs = (b, a)
        else:
            inputs = tuple(sorted(inputs, key=_identity))
    attrs = node.attrs
    frozen = tuple((k, freeze(attrs[k])) for k in sorted(attrs)) if attrs else ()
    return node.type, inputs, frozen, id(node.backend)  # one copy per device


def _identity(ref):
    return id(ref[0]), ref[1]


def freeze(value):
    """A hashable stand-in for an attribute value; equal only when the values surely are.

    >>> freeze(0.0) == freeze(-0.0), freeze(1) == freeze(True), freeze([1, 2]) == freeze((1, 2))
    (False, False, False)
    >>> freeze(np.array([1.0, 2.0])) == freeze(np.array([1.0, 2.0]))
    True
    >>> freeze(np.array([b"ab"], object)) == freeze(np.array([b"a" + b"b"], object))
    True
    """
    if isinstance(value, np.ndarray):
        if value.nbytes > _MAX_HASHED_BYTES:
            return ("id", id(value))
        if value.dtype == object:  # string tensors: compare the byte strings, not pointers
            return ("objects", value.shape, tuple(freeze(v) for v in value.flat))
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, np.generic):
        return ("scalar", value.dtype.str, value.tobytes())
    if isinstance(value, float):
        return ("float", value.hex())
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return (type(value).__name__, value)
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(freeze(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, freeze(value[k])) for k in sorted(value, key=repr)))
    from flowgraph.graph.dtypes import DType
    from flowgraph.graph.shape import TensorShape

    if isinstance(value, (DType, TensorShape)):
        return (type(value).__name__, value)
    return ("id", id(value))  # anything else: equal only to itself
