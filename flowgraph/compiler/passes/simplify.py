"""Arithmetic simplification: rewrite ops that provably leave a value as it was.

>>> import flowgraph as fg
>>> from flowgraph.compiler.passes import optimized
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [2, 3], name="x")
...     y = fg.transpose(fg.transpose(-(-x * 1.0)), name="y")
>>> ir, results = optimized([y], [x], passes=[simplify_arithmetic])
>>> print("\\n".join(results[0].changes))
replaced Mul 'Mul' (x * 1) by its input
replaced Neg 'Neg_1' (-(-x)) by x
replaced Transpose 'y' (transpose of a transpose, composed perm [0, 1]) by x
"""

from __future__ import annotations

import numpy as np

from flowgraph.compiler.ir import broadcasts_into, is_const, spec
from flowgraph.compiler.passes.rewrite import rewrite


def simplify_arithmetic(ir) -> list[str]:
    """Replace an op by an input it provably equals, or by a simpler op:

    - ``x * 1 -> x``, ``1 * x -> x``, ``x / 1 -> x``, ``x - 0 -> x``, ``x + 0 -> x``,
      ``0 + x -> x`` (the constant all ones / zeros, and not widening ``x`` by broadcasting;
      ``x + 0`` turns a ``-0.0`` in ``x`` into ``+0.0``, which compares equal), and
      ``x // 1 -> x`` for integers;
    - ``-(-x) -> x``;
    - ``identity(x) -> x`` and ``stop_gradient(x) -> x`` (only a marker for ``gradients``);
    - ``cast(x, dtype) -> x`` when ``x`` already has that dtype;
    - ``transpose(transpose(x, p), q) -> transpose(x, p∘q)``, or ``x`` when that is the
      identity permutation;
    - ``reshape(reshape(x, s), t) -> reshape(x, t)``, and ``reshape(x, t) -> x`` when ``x``
      already has the static shape ``t``.

    Ops with control dependencies (or that others depend on) are left alone, and a variable
    read is never substituted for an op's output: it would be read at a later point.
    """
    return rewrite(ir, _RULES, _report)


def _report(node, replacement, why) -> str:
    if isinstance(replacement, tuple):  # an existing value
        target = "its input" if replacement == node.inputs[0] else replacement[0].name
        return f"replaced {node.describe()} ({why}) by {target}"
    return f"rewrote {node.describe()} ({why})"  # a new, simpler node


# ---- the rules: (node, state) -> (value ref or new node, reason) or None-------------------------


def _all_equal(ref, number) -> bool:
    if not is_const(ref):
        return False
    value = ref[0].attrs["value"]
    return value.size > 0 and bool(np.all(value == number))


def _same_value_spec(node, ref) -> bool:
    """The op's output has ``ref``'s dtype and surely its run-time shape."""
    out_dtype, out_shape = node.specs[0]
    dtype, shape = spec(ref)
    return dtype is out_dtype and shape.rank is not None and shape == out_shape


def _identity_operand(node, neutral, positions, text):
    for keep, other in positions:
        x, c = node.inputs[keep], node.inputs[other]
        if (
            _all_equal(c, neutral)
            and _same_value_spec(node, x)
            and broadcasts_into(spec(c)[1], spec(x)[1])
        ):
            return x, text
    return None


def _mul(node, state=None):
    return _identity_operand(node, 1, [(0, 1), (1, 0)], "x * 1")


def _div(node, state=None):
    return _identity_operand(node, 1, [(0, 1)], "x / 1")


def _add(node, state=None):
    return _identity_operand(node, 0, [(0, 1), (1, 0)], "x + 0")


def _sub(node, state=None):
    return _identity_operand(node, 0, [(0, 1)], "x - 0")


def _floordiv(node, state=None):
    if not spec(node.inputs[0])[0].is_integer:
        return None
    return _identity_operand(node, 1, [(0, 1)], "x // 1")


def _neg(node, state=None):
    inner = node.inputs[0]
    if inner[0].type == "Neg" and _same_value_spec(node, inner[0].inputs[0]):
        return inner[0].inputs[0], "-(-x)"
    return None


def _identity(node, state=None):
    if _same_value_spec(node, node.inputs[0]):
        return node.inputs[0], node.type.lower()
    return None


def _cast(node, state=None):
    if spec(node.inputs[0])[0] is node.attrs["dtype"] and _same_value_spec(node, node.inputs[0]):
        return node.inputs[0], "cast to the same dtype"
    return None


def _perm(node, rank):
    perm = node.attrs["perm"]
    return list(range(rank))[::-1] if perm is None else [p % rank for p in perm]


def _transpose(node, state=None):
    inner = node.inputs[0]
    if inner[0].type != "Transpose":
        return None
    source = inner[0].inputs[0]
    rank = spec(source)[1].rank
    if rank is None:
        return None
    first, second = _perm(inner[0], rank), _perm(node, rank)
    composed = [first[p] for p in second]  # axis i of the result is axis first[second[i]]
    why = f"transpose of a transpose, composed perm {composed}"
    if composed == list(range(rank)):
        return (source, why) if _same_value_spec(node, source) else None
    return node.derived("Transpose", [source], {**node.attrs, "perm": tuple(composed)}), why


def _reshape(node, state=None):
    if len(node.inputs) != 1:  # a run-time shape tensor: leave it
        return None
    x = source = node.inputs[0]
    why = "reshape to the shape it has"
    if x[0].type == "Reshape" and len(x[0].inputs) == 1:
        source, why = x[0].inputs[0], "reshape of a reshape"
    if node.specs[0][1].is_fully_defined() and _same_value_spec(node, source):
        return source, why
    if source is not x:
        return node.derived("Reshape", [source], node.attrs), why
    return None


_RULES = {
    "Mul": [_mul],
    "RealDiv": [_div],
    "Add": [_add],
    "Sub": [_sub],
    "FloorDiv": [_floordiv],
    "Neg": [_neg],
    "Identity": [_identity],
    "StopGradient": [_identity],
    "Cast": [_cast],
    "Transpose": [_transpose],
    "Reshape": [_reshape],
}
