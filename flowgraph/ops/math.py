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

from flowgraph.errors import DTypeError, InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import namespace, rules
from flowgraph.ops.convert import convert_to_tensor, is_tensor_like
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient


def binary_operands(op_type: str, x, y) -> tuple[Tensor, Tensor]:
    """Convert ``x`` and ``y`` to tensors; a Python value takes the other operand's dtype.

    ``x_float32 * 2`` multiplies by a float32 2, as in TF; ``x_int32 + 1.5`` is a TypeError
    rather than a silent truncation.
    """
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        return x, y  # what the conversions below give two tensors, without their cost
    try:
        if is_tensor_like(x):
            x = convert_to_tensor(x)
            y = convert_to_tensor(y) if is_tensor_like(y) else convert_to_tensor(y, x.dtype)
        elif is_tensor_like(y):
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


def _define_elementwise(op_type, infer, xp_name, kernel, differentiable, fresh, out=False):
    """Register an elementwise op: its result's shape and dtype follow from its inputs'."""
    define_op(
        op_type,
        infer,
        xp_name=xp_name,
        kernel=kernel,
        differentiable=differentiable,
        fresh_output=fresh,
        takes_out=out,
        specs_only_infer=True,
    )


def _unary(
    op_type, infer, xp_name=None, kernel=None, differentiable=True, doc="", fresh=False, out=False
):
    _define_elementwise(op_type, infer, xp_name, kernel, differentiable, fresh, out)

    def op(x, name=None):
        return apply_op(op_type, [convert_to_tensor(x)], name=name or op_type)

    op.__doc__ = doc or f"Elementwise ``{xp_name or op_type.lower()}`` (op type ``{op_type}``)."
    op.op_type = op_type  # on tensors it is just this op: dynamic mode may run it directly
    return op


negative = _unary("Neg", rules.numeric_unary, "negative", doc="Elementwise ``-x``.")
abs = _unary("Abs", rules.numeric_unary, "abs", doc="Elementwise ``|x|``.")  # noqa: A001
sign = _unary("Sign", rules.numeric_unary, "sign", differentiable=False)
square = _unary("Square", rules.numeric_unary, "square")
sqrt = _unary("Sqrt", rules.float_unary, "sqrt")
rsqrt = _unary(
    "Rsqrt",
    rules.float_unary,
    kernel=lambda xp, x: 1 / xp.sqrt(x),
    doc="``1/sqrt(x)``.",
    fresh=True,
)
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
    fresh=True,
)


def _relu_kernel(xp, x, out=None):
    # ``out`` comes only from the memory planner, on NumPy / CuPy: relu then allocates nothing.
    return xp.maximum(x, 0) if out is None else xp.maximum(x, 0, out=out)


def _relu_grad_kernel(xp, grad, y, out=None):
    """``grad`` where ``y > 0``, else 0: a multiply by the mask, ~4x faster than ``where``."""
    if grad.shape != y.shape:  # never broadcast: the memory planner may pass either as out
        raise ValueError(f"ReluGrad: gradients {grad.shape} and features {y.shape} differ")
    if namespace.numpy_like(xp):
        return xp.multiply(grad, y > 0, out=out)
    return grad * namespace.astype(xp, y > 0, grad.dtype)


relu = _unary(
    "Relu",
    rules.numeric_unary,
    kernel=_relu_kernel,
    doc="``max(x, 0)``.",
    fresh=True,
    out=True,
)


def _relu_grad_infer(inputs, attrs):
    grad, y = inputs
    rules.require_kind(grad, "numeric", "gradients")
    rules.same_dtypes(inputs, ("gradients", "features"))
    if not grad.shape.is_compatible_with(y.shape):
        raise ShapeError(f"gradients {grad.shape} and features {y.shape} must have one shape")
    return [(grad.dtype, grad.shape.merge_with(y.shape))]


define_op(
    "ReluGrad",
    _relu_grad_infer,
    kernel=_relu_grad_kernel,
    fresh_output=True,
    takes_out=True,
    specs_only_infer=True,
)


def relu_grad(gradients, features, name=None):
    """Relu's backward pass (TF's ``ReluGrad``): ``gradients`` where ``features > 0``, else 0;
    ``features`` may be Relu's input or its output.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(relu_grad(fg.constant([1.0, 2.0, 3.0]), fg.constant([-1.0, 0, 5])))
    array([0., 0., 3.], dtype=float32)
    """
    inputs = [convert_to_tensor(gradients), convert_to_tensor(features)]
    return apply_op("ReluGrad", inputs, name=name or "ReluGrad")


logical_not = _unary(
    "LogicalNot", lambda i, a: rules.logical_binary(i, a), "logical_not", differentiable=False
)


# ---- binary ---------------------------------------------------------------------------


def _binary(op_type, infer, xp_name=None, kernel=None, differentiable=True, doc="", fresh=False):
    _define_elementwise(op_type, infer, xp_name, kernel, differentiable, fresh)

    def op(x, y, name=None):
        x, y = binary_operands(op_type, x, y)
        return apply_op(op_type, [x, y], name=name or op_type)

    op.op_type = op_type  # on tensors of one dtype it is just this op (see _unary)

    op.__doc__ = (
        doc or f"Elementwise ``{xp_name or op_type}`` with broadcasting (op ``{op_type}``)."
    )
    return op


add = _binary("Add", rules.numeric_binary, "add", doc="``x + y`` with broadcasting.")
subtract = _binary("Sub", rules.numeric_binary, "subtract", doc="``x - y`` with broadcasting.")
multiply = _binary("Mul", rules.numeric_binary, "multiply", doc="``x * y`` with broadcasting.")
real_div = _binary("RealDiv", rules.float_binary, "divide", doc="``x / y`` for float tensors.")


def _checked_division(xp_name: str):
    """A kernel for ``xp.<xp_name>`` refusing an integer divisor of 0, as TF1 does (NumPy
    returns 0 with a warning). Only integer divisors are checked: float division pays one
    dtype test."""

    def kernel(xp, x, y):
        kind = getattr(y.dtype, "kind", None)
        integer = kind in ("i", "u") if kind is not None else xp.isdtype(y.dtype, "integral")
        if integer and not xp.all(y):
            raise InvalidArgumentError(None, None, "Integer division by zero")
        return getattr(xp, xp_name)(x, y)

    kernel.__name__ = f"checked_{xp_name}"
    return kernel


floordiv = _binary(
    "FloorDiv",
    rules.numeric_binary,
    kernel=_checked_division("floor_divide"),
    differentiable=False,
    doc="Python-style ``x // y``; an integer division by zero raises InvalidArgumentError.",
    fresh=True,
)
floormod = _binary(
    "FloorMod",
    rules.numeric_binary,
    kernel=_checked_division("remainder"),
    doc="Python-style ``x % y``; an integer division by zero raises InvalidArgumentError.",
    fresh=True,
)
mod = floormod
pow = _binary("Pow", rules.numeric_binary, "pow", doc="``x ** y`` with broadcasting.")  # noqa: A001
maximum = _binary("Maximum", rules.numeric_binary, "maximum")
minimum = _binary("Minimum", rules.numeric_binary, "minimum")
squared_difference = _binary(
    "SquaredDifference",
    rules.numeric_binary,
    kernel=lambda xp, x, y: xp.square(x - y),
    fresh=True,
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
    if inputs[0].dtype.is_string != attrs["dtype"].is_string:
        # As in TF: no cast between strings and numbers (tf.strings ops parse and format).
        src, dst = inputs[0].dtype.name, attrs["dtype"].name
        raise DTypeError(f"Cast from {src} to {dst} is not supported")
    return [(attrs["dtype"], inputs[0].shape)]


def _cast_kernel(xp, x, *, dtype):
    return namespace.astype(xp, x, namespace.dtype_of(xp, dtype))


define_op("Cast", _cast_infer, kernel=_cast_kernel, attrs={"dtype": REQUIRED}, fresh_output=True)


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
    lo, hi = (
        convert_to_tensor(v) if is_tensor_like(v) else convert_to_tensor(v, t.dtype)
        for v in (clip_value_min, clip_value_max)
    )
    return apply_op("ClipByValue", [t, lo, hi], name=name or "clip_by_value")


def _select_infer(inputs, attrs):
    cond, x, y = inputs
    rules.require_kind(cond, "bool", "condition")
    rules.same_dtypes([x, y])
    return [(x.dtype, rules.broadcast_inputs(inputs))]


define_op("Select", _select_infer, xp_name="where")


def _where_indices_infer(inputs, attrs):
    rank = inputs[0].shape.rank
    return [(dtypes.int64, TensorShape([None, rank]))]


def _where_indices(xp, cond):
    if cond.ndim == 0:  # nonzero refuses 0-d arrays; a scalar has no coordinates to list
        return xp.zeros((1 if bool(cond) else 0, 0), dtype=xp.int64)
    return namespace.astype(xp, xp.stack(xp.nonzero(cond), axis=-1), xp.int64)


define_op("Where", _where_indices_infer, kernel=_where_indices, differentiable=False)


def where(condition, x=None, y=None, name=None):
    """Elementwise ``x if condition else y``, or with only ``condition`` the int64 coordinates
    of its true elements, shape ``[num_true, rank]``.

    As TF1's ``tf.where``: a vector ``condition`` with higher-rank ``x`` and ``y`` chooses
    whole rows (its length matches their first dimension). Otherwise the three broadcast
    (:func:`where_v2`, a superset of TF1's same-shape rule).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     rows = where([True, False], [[1, 2], [3, 4]], [[5, 6], [7, 8]])
    ...     fg.Session().run(rows)
    array([[1, 2],
           [7, 8]], dtype=int32)
    """
    condition = convert_to_tensor(condition)
    if x is None and y is None:
        return _where_indices_op(condition, name)
    x, y = _select_operands("where", x, y)
    ranks = [t.shape.rank for t in (x, y) if t.shape.rank is not None]
    if condition.shape.rank == 1 and ranks and max(ranks) > 1:
        rows, n = condition.shape[0], [t.shape[0] for t in (x, y) if t.shape.rank]
        if rows is not None and any(d is not None and d != rows for d in n):
            raise ShapeError(
                f"where: a vector condition chooses rows, so its length {rows} must be the "
                f"first dimension of x and y, which have shapes {x.shape} and {y.shape}"
            )
        from flowgraph.ops.array import reshape  # array builds on this module

        condition = reshape(condition, [-1] + [1] * (max(ranks) - 1))
    return apply_op("Select", [condition, x, y], name=name or "Select")


def where_v2(condition, x=None, y=None, name=None):
    """``x if condition else y`` with NumPy broadcasting of all three (TF's ``where_v2``): a
    vector condition lines up with the last axis, not the first.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(where_v2([True, False], [[1, 2], [3, 4]], 0))
    array([[1, 0],
           [3, 0]], dtype=int32)
    """
    condition = convert_to_tensor(condition)
    if x is None and y is None:
        return _where_indices_op(condition, name)
    x, y = _select_operands("where_v2", x, y)
    return apply_op("Select", [condition, x, y], name=name or "SelectV2")


def _where_indices_op(condition, name):
    return apply_op("Where", [condition], name=name or "Where")


def _select_operands(what: str, x, y):
    if x is None or y is None:
        raise ValueError(f"{what}: give both x and y, or neither")
    return binary_operands("Select", x, y)


# ---- add_n ----------------------------------------------------------------------------


def _add_n_infer(inputs, attrs):
    if not inputs:
        raise ShapeError("add_n needs at least one input")
    rules.require_kind(inputs[0], "numeric", "inputs[0]")
    rules.same_dtypes(inputs, tuple(f"inputs[{i}]" for i in range(len(inputs))))
    shape = TensorShape(None)
    for t in inputs:
        if not shape.is_compatible_with(t.shape):
            shapes = ", ".join(str(i.shape) for i in inputs)
            raise ShapeError(f"add_n needs inputs of one shape (no broadcasting), got {shapes}")
        shape = shape.merge_with(t.shape)
    return [(inputs[0].dtype, shape)]


def _add_n_kernel(xp, *values):
    total = values[0]
    for v in values[1:]:
        total = xp.add(total, v)
    return total


define_op("AddN", _add_n_infer, kernel=_add_n_kernel)


def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of the same shape and dtype.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.add_n([fg.constant([1.0, 2.0]), fg.constant([3.0, 4.0])]))
    array([4., 6.], dtype=float32)
    """
    if is_tensor_like(inputs) or not isinstance(inputs, (list, tuple)) or not inputs:
        raise ValueError("add_n: inputs must be a non-empty list of tensors")
    tensors = [convert_to_tensor(t) for t in inputs]
    return apply_op("AddN", tensors, name=name or "AddN")


# ---- gradients ------------------------------------------------------------------------
# TensorFlow's rules (math_grad.py), built from the ops above so that they differentiate
# again. Each returns the gradient at the op's output (broadcast) shape: the autodiff driver
# sums it back to each input's shape, so no rule here unbroadcasts.


@gradient("AddN")
def _add_n_grad(op, grad):
    """Each input gets g."""
    return [grad] * len(op.inputs)


@gradient("Add")
def _add_grad(op, grad):
    """dx = g, dy = g (the driver sums broadcast dimensions back)."""
    return [grad, grad]


@gradient("Sub")
def _sub_grad(op, grad):
    """dx = g, dy = -g."""
    return [grad, negative(grad)]


@gradient("Mul")
def _mul_grad(op, grad):
    """dx = g * y, dy = g * x."""
    x, y = op.inputs
    return [multiply(grad, y), multiply(x, grad)]


@gradient("RealDiv")
def _real_div_grad(op, grad):
    """dx = g / y, dy = -g * x / y**2."""
    x, y = op.inputs
    return [real_div(grad, y), multiply(grad, real_div(real_div(negative(x), y), y))]


@gradient("FloorMod")
def _floormod_grad(op, grad):
    """dx = g, dy = -g * floor(x / y)."""
    # x % y = x - floor(x / y) * y, and floor(x / y) is piecewise constant.
    x, y = op.inputs
    return [grad, multiply(grad, negative(floordiv(x, y)))]


@gradient("Pow")
def _pow_grad(op, grad):
    """dx = g * y * x**(y - 1), dy = g * x**y * log(x) (0 where x <= 0); None for integers."""
    x, y = op.inputs
    z = op.outputs[0]
    if not x.dtype.is_floating:
        return [None, None]
    gx = multiply(grad, multiply(y, pow(x, subtract(y, 1))))
    # d(x^y)/dy = x^y * log(x), taken as 0 where x <= 0 (as TF does) instead of NaN.
    positive = greater(x, 0)
    log_x = where(positive, log(where(positive, x, 1)), 0)
    return [gx, multiply(grad, multiply(z, log_x))]


@gradient("Maximum")
def _maximum_grad(op, grad):
    """g goes to x where x >= y (a tie goes to x, as in TF), else to y."""
    x, y = op.inputs
    return _select_grads(greater_equal(x, y), grad)  # a tie goes to x, as in TF


@gradient("Minimum")
def _minimum_grad(op, grad):
    """g goes to x where x <= y (a tie goes to x, as in TF), else to y."""
    x, y = op.inputs
    return _select_grads(less_equal(x, y), grad)


def _select_grads(x_selected, grad):
    return [where(x_selected, grad, 0), where(x_selected, 0, grad)]


@gradient("SquaredDifference")
def _squared_difference_grad(op, grad):
    """dx = 2 * g * (x - y), dy = -dx."""
    x, y = op.inputs
    gx = multiply(multiply(grad, 2), subtract(x, y))
    return [gx, negative(gx)]


@gradient("Neg")
def _neg_grad(op, grad):
    """dx = -g."""
    return [negative(grad)]


@gradient("Abs")
def _abs_grad(op, grad):
    """dx = g * sign(x)."""
    return [multiply(grad, sign(op.inputs[0]))]


@gradient("Square")
def _square_grad(op, grad):
    """dx = 2 * g * x."""
    return [multiply(grad, multiply(op.inputs[0], 2))]


@gradient("Sqrt")
def _sqrt_grad(op, grad):
    """dx = g / (2 * sqrt(x)), reusing the output."""
    return [real_div(multiply(grad, 0.5), op.outputs[0])]


@gradient("Rsqrt")
def _rsqrt_grad(op, grad):
    """dx = -g / 2 * y**3 with y = 1/sqrt(x)."""
    y = op.outputs[0]
    return [multiply(multiply(grad, -0.5), multiply(y, square(y)))]


@gradient("Exp")
def _exp_grad(op, grad):
    """dx = g * exp(x), reusing the output."""
    return [multiply(grad, op.outputs[0])]


@gradient("Log")
def _log_grad(op, grad):
    """dx = g / x."""
    return [real_div(grad, op.inputs[0])]


@gradient("Log1p")
def _log1p_grad(op, grad):
    """dx = g / (1 + x)."""
    return [real_div(grad, add(op.inputs[0], 1))]


@gradient("Sin")
def _sin_grad(op, grad):
    """dx = g * cos(x)."""
    return [multiply(grad, cos(op.inputs[0]))]


@gradient("Cos")
def _cos_grad(op, grad):
    """dx = -g * sin(x)."""
    return [negative(multiply(grad, sin(op.inputs[0])))]


@gradient("Tanh")
def _tanh_grad(op, grad):
    """dx = g * (1 - y**2), y = tanh(x)."""
    y = op.outputs[0]
    return [multiply(grad, subtract(1, square(y)))]


@gradient("Sigmoid")
def _sigmoid_grad(op, grad):
    """dx = g * y * (1 - y), y = sigmoid(x)."""
    y = op.outputs[0]
    return [multiply(grad, multiply(y, subtract(1, y)))]


@gradient("Relu")
def _relu_grad(op, grad):
    """dx = g where relu(x) > 0, else 0 (ReluGrad)."""
    return [relu_grad(grad, op.outputs[0])]


@gradient("ReluGrad")
def _relu_grad_grad(op, grad):
    """dg = gg where y > 0, else 0; none for y."""
    # Linear in the incoming gradient, piecewise constant in y.
    return [relu_grad(grad, op.inputs[1]), None]


@gradient("ClipByValue")
def _clip_by_value_grad(op, grad):
    """dt = g where lo <= t <= hi (else 0); dlo = g where t < lo; dhi = g where t > hi."""
    # As TF: t gets the gradient where it passes through; each bound where it was applied.
    t, lo, hi = op.inputs
    below, above = less(t, lo), greater(t, hi)
    return [
        where(logical_or(below, above), 0, grad),
        where(below, grad, 0),
        where(above, grad, 0),
    ]


@gradient("Select")
def _select_grad(op, grad):
    """No gradient for the condition; g goes to x where it holds, to y elsewhere."""
    return [None, *_select_grads(op.inputs[0], grad)]


@gradient("Cast")
def _cast_grad(op, grad):
    """dx = cast(g, x.dtype) between float dtypes; None from or to integers and bools."""
    source = op.inputs[0].dtype
    if source.is_floating and op.outputs[0].dtype.is_floating:
        return [cast(grad, source)]
    return [None]  # integers and bools carry no gradient
