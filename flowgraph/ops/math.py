"""Elementwise math with NumPy broadcasting: arithmetic, unary functions, comparisons, logic.

Most ops here are exactly one function of the array namespace (``xp.tanh``), declared with
``xp_name`` so generated code calls it with nothing in between.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([[1.0], [4.0]])
...     y = fg.sqrt(x) + fg.constant([10.0, 20.0])   # [2,1] + [2] broadcasts to [2,2]
...     fg.Session().run(y)
array([[11., 21.],
       [12., 22.]], dtype=float32)
"""

from __future__ import annotations

from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op


def _is_tensor_like(value) -> bool:
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_tensor")


def binary_operands(op_type: str, x, y) -> tuple[Tensor, Tensor]:
    """Convert ``x`` and ``y`` to tensors; a Python value takes the other operand's dtype.

    ``x_float32 * 2`` multiplies by a float32 2, as in TF; ``x_int32 + 1.5`` is a TypeError
    rather than a silent truncation.
    """
    try:
        if _is_tensor_like(x):
            x = convert_to_tensor(x)
            y = convert_to_tensor(y) if _is_tensor_like(y) else convert_to_tensor(y, x.dtype)
        elif _is_tensor_like(y):
            y = convert_to_tensor(y)
            x = convert_to_tensor(x, y.dtype)
        else:
            x, y = convert_to_tensor(x), convert_to_tensor(y)
            if x.dtype is not y.dtype and (x.dtype.is_floating or y.dtype.is_floating):
                # Two Python numbers: int meets float -> float, as Python itself would do.
                x, y = (cast(t, dtypes.float32) if t.dtype.is_integer else t for t in (x, y))
    except TypeError as e:
        raise TypeError(f"{op_type}: {e}") from None
    return x, y


# ---- unary ----------------------------------------------------------------------------


def _unary(op_type, infer, xp_name=None, kernel=None, differentiable=True, doc=""):
    define_op(op_type, infer, xp_name=xp_name, kernel=kernel, differentiable=differentiable)

    def op(x, name=None):
        return apply_op(op_type, [convert_to_tensor(x)], name=name or op_type)

    op.__doc__ = doc or f"Elementwise ``{xp_name or op_type.lower()}`` (op type ``{op_type}``)."
    return op


negative = _unary("Neg", rules.numeric_unary, "negative", doc="Elementwise ``-x``.")
abs = _unary("Abs", rules.numeric_unary, "abs", doc="Elementwise ``|x|``.")  # noqa: A001
sign = _unary("Sign", rules.numeric_unary, "sign", differentiable=False)
square = _unary("Square", rules.numeric_unary, "square")
sqrt = _unary("Sqrt", rules.float_unary, "sqrt")
rsqrt = _unary("Rsqrt", rules.float_unary, kernel=lambda xp, x: 1 / xp.sqrt(x), doc="``1/sqrt(x)``.")
exp = _unary("Exp", rules.float_unary, "exp")
log = _unary("Log", rules.float_unary, "log", doc="Natural logarithm, elementwise.")
log1p = _unary("Log1p", rules.float_unary, "log1p")
sin = _unary("Sin", rules.float_unary, "sin")
cos = _unary("Cos", rules.float_unary, "cos")
tanh = _unary("Tanh", rules.float_unary, "tanh")
# 0.5 * (1 + tanh(x/2)) equals 1/(1+exp(-x)) but never overflows for large negative x.
sigmoid = _unary(
    "Sigmoid",
    rules.float_unary,
    kernel=lambda xp, x: 0.5 * (1 + xp.tanh(0.5 * x)),
    doc="Logistic sigmoid ``1 / (1 + exp(-x))``, computed without overflow.",
)
relu = _unary(
    "Relu", rules.numeric_unary, kernel=lambda xp, x: xp.maximum(x, 0), doc="``max(x, 0)``."
)
logical_not = _unary("LogicalNot", lambda i, a: rules.logical_binary(i, a), "logical_not", differentiable=False)


# ---- binary ---------------------------------------------------------------------------


def _binary(op_type, infer, xp_name=None, kernel=None, differentiable=True, doc=""):
    define_op(op_type, infer, xp_name=xp_name, kernel=kernel, differentiable=differentiable)

    def op(x, y, name=None):
        x, y = binary_operands(op_type, x, y)
        return apply_op(op_type, [x, y], name=name or op_type)

    op.__doc__ = doc or f"Elementwise ``{xp_name or op_type}`` with broadcasting (op ``{op_type}``)."
    return op


add = _binary("Add", rules.numeric_binary, "add", doc="``x + y`` with broadcasting.")
subtract = _binary("Sub", rules.numeric_binary, "subtract", doc="``x - y`` with broadcasting.")
multiply = _binary("Mul", rules.numeric_binary, "multiply", doc="``x * y`` with broadcasting.")
real_div = _binary("RealDiv", rules.float_binary, "divide", doc="``x / y`` for float tensors.")
floordiv = _binary("FloorDiv", rules.numeric_binary, "floor_divide", differentiable=False)
floormod = _binary("FloorMod", rules.numeric_binary, "remainder", doc="Python-style ``x % y``.")
mod = floormod
pow = _binary("Pow", rules.numeric_binary, "pow", doc="``x ** y`` with broadcasting.")  # noqa: A001
maximum = _binary("Maximum", rules.numeric_binary, "maximum")
minimum = _binary("Minimum", rules.numeric_binary, "minimum")
squared_difference = _binary(
    "SquaredDifference", rules.numeric_binary, kernel=lambda xp, x, y: xp.square(x - y)
)

equal = _binary("Equal", rules.comparison, "equal", differentiable=False)
not_equal = _binary("NotEqual", rules.comparison, "not_equal", differentiable=False)
less = _binary("Less", rules.comparison, "less", differentiable=False)
less_equal = _binary("LessEqual", rules.comparison, "less_equal", differentiable=False)
greater = _binary("Greater", rules.comparison, "greater", differentiable=False)
greater_equal = _binary("GreaterEqual", rules.comparison, "greater_equal", differentiable=False)
logical_and = _binary("LogicalAnd", rules.logical_binary, "logical_and", differentiable=False)
logical_or = _binary("LogicalOr", rules.logical_binary, "logical_or", differentiable=False)


def divide(x, y, name=None):
    """True division ``x / y``; integer tensors are first cast to float, as TF's ``truediv``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.divide(fg.constant([1, 2]), 2))
    array([0.5, 1. ])
    """
    x, y = binary_operands("RealDiv", x, y)
    if x.dtype.is_integer and x.dtype is y.dtype:
        target = dtypes.float32 if x.dtype.size <= 2 else dtypes.float64
        x, y = cast(x, target), cast(y, target)
    return apply_op("RealDiv", [x, y], name=name or "truediv")


truediv = divide


# ---- cast, clip, where ----------------------------------------------------------------


def _cast_infer(inputs, attrs):
    return [(attrs["dtype"], inputs[0].shape)]


def _cast_kernel(xp, x, *, dtype):
    return xp.astype(x, getattr(xp, dtype.name))


define_op("Cast", _cast_infer, kernel=_cast_kernel, attrs={"dtype": REQUIRED})


def cast(x, dtype, name=None):
    """``x`` converted to ``dtype`` (floats truncate toward zero when cast to integers).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.cast(fg.constant([1.7, -1.7]), fg.int32))
    array([ 1, -1], dtype=int32)
    """
    x = convert_to_tensor(x)
    dtype = as_dtype(dtype)
    if x.dtype is dtype:
        return x
    return apply_op("Cast", [x], {"dtype": dtype}, name=name or "Cast")


def _clip_infer(inputs, attrs):
    rules.same_dtypes(inputs, ("t", "clip_value_min", "clip_value_max"))
    shape = rules.broadcast_inputs(inputs)
    if not shape.is_compatible_with(inputs[0].shape) and inputs[0].shape.rank is not None:
        raise rules.ShapeError(f"clip bounds must broadcast to the shape {inputs[0].shape} of t")
    return [(inputs[0].dtype, inputs[0].shape)]


define_op("ClipByValue", _clip_infer, kernel=lambda xp, t, lo, hi: xp.clip(t, lo, hi))


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """``t`` with values below ``clip_value_min`` / above ``clip_value_max`` clipped."""
    t = convert_to_tensor(t)
    lo = convert_to_tensor(clip_value_min, t.dtype) if not _is_tensor_like(clip_value_min) else convert_to_tensor(clip_value_min)
    hi = convert_to_tensor(clip_value_max, t.dtype) if not _is_tensor_like(clip_value_max) else convert_to_tensor(clip_value_max)
    return apply_op("ClipByValue", [t, lo, hi], name=name or "clip_by_value")


def _select_infer(inputs, attrs):
    cond, x, y = inputs
    rules.require_kind(cond, "bool", "condition")
    rules.same_dtypes([x, y])
    return [(x.dtype, rules.broadcast_inputs(inputs))]


define_op("Select", _select_infer, xp_name="where")


def _where_indices_infer(inputs, attrs):
    rank = inputs[0].shape.rank
    from flowgraph.graph.shape import TensorShape

    return [(dtypes.int64, TensorShape([None, rank]))]


def _where_indices(xp, cond):
    return xp.astype(xp.stack(xp.nonzero(cond), axis=-1), xp.int64)


define_op("Where", _where_indices_infer, kernel=_where_indices, differentiable=False)


def where(condition, x=None, y=None, name=None):
    """Elementwise ``x if condition else y`` (broadcasting), or with only ``condition`` the
    int64 coordinates of its true elements, shape ``[num_true, rank]``."""
    condition = convert_to_tensor(condition)
    if x is None and y is None:
        return apply_op("Where", [condition], name=name or "Where")
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    x, y = binary_operands("Select", x, y)
    return apply_op("Select", [condition, x, y], name=name or "Select")
