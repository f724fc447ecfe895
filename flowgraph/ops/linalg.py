"""Matrix multiplication (``matmul``), with optional transposes and batch dimensions.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 784])
...     w = fg.zeros([784, 256])
...     fg.matmul(x, w).shape
TensorShape([None, 256])
"""

from __future__ import annotations

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape, broadcast_shapes
from flowgraph.ops import namespace, rules
from flowgraph.ops.math import binary_operands
from flowgraph.ops.registry import apply_op, define_op, gradient


def _matrix_dims(t, transpose: bool):
    dims = t.shape.dims
    rows, cols = dims[-2], dims[-1]
    return (cols, rows) if transpose else (rows, cols)


def _matmul_infer(inputs, attrs):
    a, b = inputs
    rules.same_dtypes(inputs, ("a", "b"))
    rules.require_kind(a, "numeric", "a")
    rules.require_rank(a, range(2, 64), "a")
    rules.require_rank(b, range(2, 64), "b")
    if a.shape.rank is None or b.shape.rank is None:
        return [(a.dtype, TensorShape(None))]
    m, k1 = _matrix_dims(a, attrs["transpose_a"])
    k2, n = _matrix_dims(b, attrs["transpose_b"])
    if k1 is not None and k2 is not None and k1 != k2:
        raise ShapeError(
            f"Dimensions must be equal, but are {k1} and {k2}: cannot multiply "
            f"{a.shape}{'ᵀ' if attrs['transpose_a'] else ''} by "
            f"{b.shape}{'ᵀ' if attrs['transpose_b'] else ''}"
        )
    try:
        batch = broadcast_shapes(TensorShape(a.shape.dims[:-2]), TensorShape(b.shape.dims[:-2]))
    except ValueError:
        raise ShapeError(f"batch dimensions of {a.shape} and {b.shape} do not broadcast") from None
    return [(a.dtype, TensorShape(batch.dims + (m, n)))]


def _matmul_kernel(xp, a, b, *, transpose_a, transpose_b, out=None):
    if transpose_a:
        a = namespace.matrix_transpose(xp, a)
    if transpose_b:
        b = namespace.matrix_transpose(xp, b)
    return xp.matmul(a, b) if out is None else xp.matmul(a, b, out=out)


def _matmul_out_shape(a, b, *, transpose_a, transpose_b):
    """The product's shape for two matrices (None for batches: no buffer reuse there)."""
    if a.ndim != 2 or b.ndim != 2:
        return None
    return (a.shape[1 if transpose_a else 0], b.shape[0 if transpose_b else 1])


define_op(
    "MatMul",
    _matmul_infer,
    kernel=_matmul_kernel,
    attrs={"transpose_a": False, "transpose_b": False},
    fresh_output=True,
    specs_only_infer=True,
    out_shape=_matmul_out_shape,
)


def matmul(a, b, transpose_a: bool = False, transpose_b: bool = False, name=None):
    """Matrix product ``a @ b`` of rank-2 (or batched, rank > 2) tensors.

    ``transpose_a``/``transpose_b`` transpose the last two dimensions first. Batch dimensions
    broadcast as in NumPy.
    """
    a, b = binary_operands("MatMul", a, b)
    attrs = {"transpose_a": bool(transpose_a), "transpose_b": bool(transpose_b)}
    return apply_op("MatMul", [a, b], attrs, name=name or "MatMul")


@gradient("MatMul")
def _matmul_grad(op, grad):
    """TF's rule for the four transpose combinations. With batch dimensions that broadcast,
    each gradient has the full batch shape; the autodiff driver sums it back to the input's."""
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        return [matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)]
    if not ta and tb:
        return [matmul(grad, b), matmul(grad, a, transpose_a=True)]
    if ta and not tb:
        return [matmul(b, grad, transpose_b=True), matmul(a, grad)]
    return [
        matmul(b, grad, transpose_a=True, transpose_b=True),
        matmul(grad, a, transpose_a=True, transpose_b=True),
    ]
