"""Rounding and floating-point classification: ``floor``, ``ceil``, ``round`` (half to even,
as TF's) and ``is_nan``, ``is_inf``, ``is_finite``. None is differentiable (TF defines no
gradient for them: they are flat almost everywhere or boolean).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([-1.5, 0.5, 2.5, 2.7, float("nan")])
...     sess = fg.Session()
...     print(sess.run(round(x)).tolist(), sess.run(ceil(x)).tolist())
...     print(sess.run(is_nan(x)).tolist())
[-2.0, 0.0, 2.0, 3.0, nan] [-1.0, 1.0, 3.0, 3.0, nan]
[False, False, False, False, True]
"""

from __future__ import annotations

from flowgraph.graph import dtypes
from flowgraph.ops import rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op

__all__ = ["ceil", "floor", "is_finite", "is_inf", "is_nan", "round"]


def _classify_infer(inputs, attrs):
    rules.require_kind(inputs[0], "float", "x")
    return [(dtypes.bool_, inputs[0].shape)]


def _define(op_type, infer, xp_name, doc):
    define_op(op_type, infer, xp_name=xp_name, differentiable=False)

    def op(x, name=None):
        return apply_op(op_type, [convert_to_tensor(x)], name=name or op_type)

    op.__name__ = op.__qualname__ = op_type.lower() if op_type[:2] != "Is" else "is_" + xp_name[2:]
    op.__doc__ = doc
    return op


floor = _define("Floor", rules.float_unary, "floor", "The largest integer <= x, elementwise.")
ceil = _define("Ceil", rules.float_unary, "ceil", "The smallest integer >= x, elementwise.")
round = _define(  # noqa: A001 - TF's name
    "Round",
    rules.numeric_unary,
    "round",
    "``x`` rounded to the nearest integer, halves to the even one (``round(2.5) == 2``).",
)
is_nan = _define("IsNan", _classify_infer, "isnan", "Whether each element is NaN.")
is_inf = _define("IsInf", _classify_infer, "isinf", "Whether each element is +inf or -inf.")
is_finite = _define(
    "IsFinite", _classify_infer, "isfinite", "Whether each element is neither inf nor NaN."
)
