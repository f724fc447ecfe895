"""Shared build-time shape/dtype rules used by many ops' ``infer`` functions.

Each rule takes ``(inputs, attrs)`` and returns ``[(dtype, shape), ...]`` or raises ShapeError.
"""

from __future__ import annotations

from flowgraph.errors import DTypeError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.shape import TensorShape, broadcast_shapes


def same_as_input(inputs, attrs):
    """Output has the first input's dtype and shape (elementwise unary ops)."""
    return [(inputs[0].dtype, inputs[0].shape)]


def float_unary(inputs, attrs):
    """Like :func:`same_as_input`, for ops defined on floating-point tensors only."""
    require_kind(inputs[0], "float", "x")
    return same_as_input(inputs, attrs)


def numeric_unary(inputs, attrs):
    """Like :func:`same_as_input`, for numeric (integer or floating-point) tensors."""
    require_kind(inputs[0], "numeric", "x")
    return same_as_input(inputs, attrs)


def broadcast_inputs(inputs) -> TensorShape:
    """The NumPy broadcast of all inputs' shapes; ShapeError if they cannot broadcast."""
    shape = inputs[0].shape
    for t in inputs[1:]:
        try:
            shape = broadcast_shapes(shape, t.shape)
        except ValueError:
            shapes = " and ".join(str(i.shape) for i in inputs)
            raise ShapeError(f"Incompatible shapes for broadcasting: {shapes}") from None
    return shape


def same_dtypes(inputs, names=("x", "y")) -> None:
    first = inputs[0].dtype
    for t, n in zip(inputs[1:], names[1:]):
        if t.dtype is not first:
            raise DTypeError(
                f"Input {n!r} has dtype {t.dtype.name} that does not match dtype {first.name} "
                f"of input {names[0]!r}"
            )


def binary_broadcast(inputs, attrs):
    """Elementwise binary op: equal dtypes, NumPy broadcasting of shapes."""
    same_dtypes(inputs)
    return [(inputs[0].dtype, broadcast_inputs(inputs))]


def numeric_binary(inputs, attrs):
    """Elementwise binary op on numeric tensors: equal dtypes, NumPy broadcasting."""
    found = _usual_binary(inputs)
    if found is not None and found[0][0].is_numeric:
        return found
    require_kind(inputs[0], "numeric", "x")
    return binary_broadcast(inputs, attrs)


def float_binary(inputs, attrs):
    """Elementwise binary op on floating-point tensors: equal dtypes, broadcasting."""
    found = _usual_binary(inputs)
    if found is not None and found[0][0].is_floating:
        return found
    require_kind(inputs[0], "float", "x")
    return binary_broadcast(inputs, attrs)


def _usual_binary(inputs):
    """``[(dtype, shape)]`` of two inputs of one dtype whose shapes broadcast, else None (then
    the checks above run one by one and word the error): one call instead of four, for the
    most common ops of a graph and its gradient."""
    if len(inputs) != 2:
        return None
    x, y = inputs
    if x.dtype is not y.dtype:
        return None
    try:
        return [(x.dtype, broadcast_shapes(x.shape, y.shape))]
    except ValueError:
        return None


def comparison(inputs, attrs):
    """Elementwise comparison: equal dtypes, broadcast, bool output."""
    same_dtypes(inputs)
    return [(dtypes.bool_, broadcast_inputs(inputs))]


def logical_binary(inputs, attrs):
    """Elementwise logic on bool tensors: both bool, broadcast, bool output."""
    for t, n in zip(inputs, ("x", "y")):
        require_kind(t, "bool", n)
    return [(dtypes.bool_, broadcast_inputs(inputs))]


_KIND_TEST = {
    "float": lambda d: d.is_floating,
    "int": lambda d: d.is_integer,
    "numeric": lambda d: d.is_numeric,
    "bool": lambda d: d.is_bool,
}


def require_kind(tensor, kind: str, input_name: str) -> None:
    if not _KIND_TEST[kind](tensor.dtype):
        wanted = {"float": "a floating-point", "int": "an integer", "numeric": "a numeric"}
        raise DTypeError(
            f"Input {input_name!r} has dtype {tensor.dtype.name}, but {wanted.get(kind, kind)} "
            "dtype is required"
        )


def require_rank(tensor, ranks, input_name: str) -> None:
    """ShapeError unless the tensor's rank (when known) is in ``ranks`` (an int or a range)."""
    rank = tensor.shape.rank
    allowed = range(ranks, ranks + 1) if isinstance(ranks, int) else ranks
    if rank is not None and rank not in allowed:
        if len(allowed) == 1:
            want = f"rank {allowed[0]}"
        else:
            want = f"rank {allowed.start} to {allowed.stop - 1}"
        raise ShapeError(f"Input {input_name!r} must have {want}, but has shape {tensor.shape}")


def normalize_axis(axis: int, rank: int | None, what: str = "axis") -> int:
    """A non-negative axis for a tensor of known ``rank`` (returns ``axis`` when rank unknown)."""
    if rank is None:
        return axis
    if not -rank <= axis < max(rank, 1):
        raise ShapeError(f"{what} {axis} is out of range for a tensor of rank {rank}")
    return axis % rank if rank else 0
