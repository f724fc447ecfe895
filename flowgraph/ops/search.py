"""Finding and counting: ``unique`` and ``in_top_k`` (ops, not differentiable, as in TF), and
``count_nonzero``, ``sequence_mask``, ``div`` built from other ops.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     y, idx = unique([4, 1, 4, 2, 1])
...     fg.Session().run([y, idx])
[array([4, 1, 2], dtype=int32), array([0, 1, 0, 2, 1], dtype=int32)]
"""

from __future__ import annotations

from flowgraph.errors import ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, math, namespace, reduce, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op

__all__ = ["count_nonzero", "div", "in_top_k", "sequence_mask", "unique"]


# ---- unique ------------------------------------------------------------------------------------


def _unique_infer(inputs, attrs):
    (x,) = inputs
    if x.shape.rank not in (None, 1):
        raise ShapeError(f"unique needs a vector (rank 1), but got shape {x.shape}")
    out_idx = attrs["out_idx"]
    if not out_idx.is_integer:
        raise TypeError(f"unique: out_idx must be int32 or int64, got {out_idx.name}")
    return [(x.dtype, TensorShape([None])), (out_idx, x.shape.merge_with(TensorShape([None])))]


def _unique_kernel(xp, x, *, out_idx):
    values, first, inverse, _ = xp.unique_all(x)  # values sorted; TF keeps first-seen order
    order = xp.argsort(first)
    rank = xp.argsort(order)  # position of each sorted value in first-seen order
    idx = xp.take(rank, xp.reshape(inverse, (-1,)))
    return xp.take(values, order), namespace.astype(xp, idx, namespace.dtype_of(xp, out_idx))


define_op(
    "Unique",
    _unique_infer,
    kernel=_unique_kernel,
    attrs={"out_idx": dtypes.int32},
    differentiable=False,
    fresh_output=True,
)


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct values of vector ``x`` in order of first appearance, and for each element
    of ``x`` the index of its value in that list (``x == y[idx]``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     y, idx = unique([1.5, 1.5, 0.5], out_idx=fg.int64)
    ...     print(fg.Session().run(y), idx.dtype.name)
    [1.5 0.5] int64
    """
    attrs = {"out_idx": dtypes.as_dtype(out_idx)}
    y, idx = apply_op("Unique", [convert_to_tensor(x)], attrs, name=name or "Unique")
    return y, idx


# ---- in_top_k ----------------------------------------------------------------------------------


def _in_top_k_infer(inputs, attrs):
    predictions, targets = inputs
    rules.require_kind(predictions, "float", "predictions")
    rules.require_kind(targets, "int", "targets")
    rules.require_rank(predictions, (2,), "predictions")
    rules.require_rank(targets, (1,), "targets")
    batch = TensorShape(predictions.shape.dims[:1] if predictions.shape.rank else [None])
    if not batch.is_compatible_with(targets.shape):
        raise ShapeError(
            f"in_top_k: targets must have one entry per row of predictions, but predictions "
            f"have shape {predictions.shape} and targets {targets.shape}"
        )
    if attrs["k"] < 0:
        raise ValueError(f"in_top_k: k must be non-negative, got {attrs['k']}")
    return [(dtypes.bool_, batch.merge_with(targets.shape))]


def _in_top_k_kernel(xp, predictions, targets, *, k):
    classes = predictions.shape[-1]
    valid = (targets >= 0) & (targets < classes)
    hit = targets[:, None] == xp.arange(classes, dtype=targets.dtype)[None, :]
    zero = xp.zeros_like(predictions)
    target_value = xp.sum(xp.where(hit, predictions, zero), axis=1)
    # Ties at the boundary count as in the top k: only strictly larger values push it out.
    above = namespace.astype(xp, predictions > target_value[:, None], targets.dtype)
    larger = xp.sum(above, axis=1)
    return valid & xp.isfinite(target_value) & (larger < k)


define_op(
    "InTopK",
    _in_top_k_infer,
    kernel=_in_top_k_kernel,
    attrs={"k": REQUIRED},
    differentiable=False,
    fresh_output=True,
)


def in_top_k(predictions, targets, k, name=None):
    """For each row, whether ``predictions[i, targets[i]]`` is among the ``k`` largest of
    row ``i`` (TF1's ``tf.nn.in_top_k``): values tied with the k-th largest count as in; a
    target out of range or a non-finite prediction for the target gives False.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     p = [[0.1, 0.7, 0.2], [0.5, 0.5, 0.0]]
    ...     fg.Session().run(in_top_k(p, [2, 1], k=1))
    array([False,  True])
    """
    inputs = [convert_to_tensor(predictions), convert_to_tensor(targets)]
    return apply_op("InTopK", inputs, {"k": int(k)}, name=name or "in_top_k")


# ---- built from other ops ----------------------------------------------------------------------


def count_nonzero(
    input_tensor,
    axis=None,
    keepdims=None,
    dtype=dtypes.int64,
    name=None,
    reduction_indices=None,
    keep_dims=None,
):
    """How many elements of ``input_tensor`` are not zero (not False, for bools), over ``axis``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(count_nonzero([[0, 1, 2], [0, 0, 3]], axis=1))
    array([2, 1])
    """
    x = convert_to_tensor(input_tensor)
    axis = axis if axis is not None else reduction_indices
    keep = bool(keepdims if keepdims is not None else keep_dims)
    zero = array.zeros_like(x)
    nonzero = math.cast(math.not_equal(x, zero), dtypes.as_dtype(dtype))
    return reduce.reduce_sum(nonzero, axis, keepdims=keep, name=name or "count_nonzero")


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool_, name=None):
    """``mask[..., j] = j < lengths[...]``, of shape ``lengths.shape + [maxlen]``; ``maxlen``
    defaults to ``max(lengths)``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(sequence_mask([1, 3], 4, dtype=fg.float32))
    array([[1., 0., 0., 0.],
           [1., 1., 1., 0.]], dtype=float32)
    """
    lengths = convert_to_tensor(lengths)
    if not lengths.dtype.is_integer:
        raise TypeError(f"sequence_mask: lengths must be integers, got {lengths.dtype.name}")
    if maxlen is None:
        maxlen = reduce.reduce_max(lengths)
    positions = math.cast(array.range(maxlen), lengths.dtype)
    mask = math.less(positions, array.expand_dims(lengths, -1))
    dtype = dtypes.as_dtype(dtype)
    if dtype is dtypes.bool_:
        return array.identity(mask, name=name or "SequenceMask")
    return math.cast(mask, dtype, name=name or "SequenceMask")


def div(x, y, name=None):
    """TF1's ``tf.div``: Python 2 division — floor division for integers, true division
    for floats.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run([div(7, 2), div(7.0, 2.0)])
    [np.int32(3), np.float32(3.5)]
    """
    x, y = math.binary_operands("FloorDiv", x, y)
    if x.dtype.is_integer:
        return math.floordiv(x, y, name=name or "div")
    return math.real_div(x, y, name=name or "div")
