"""Statistics and segment sums built from other ops: ``reduce_variance``, ``reduce_std``,
``unsorted_segment_sum`` / ``unsorted_segment_mean`` and ``logical_xor`` (TF1 spellings).

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     data = fg.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
...     fg.Session().run([reduce_std(data, 0), unsorted_segment_sum(data, [1, 0, 1], 2)])
[array([1.6329932, 1.6329932], dtype=float32), array([[3., 4.],
       [6., 8.]], dtype=float32)]
"""

from __future__ import annotations

from flowgraph.ops import array, linalg, math, reduce
from flowgraph.ops.convert import convert_to_tensor

__all__ = [
    "logical_xor",
    "reduce_std",
    "reduce_variance",
    "unsorted_segment_mean",
    "unsorted_segment_sum",
]


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """The (population) variance of ``input_tensor`` over ``axis``."""
    x = convert_to_tensor(input_tensor)
    mean = reduce.reduce_mean(x, axis, keepdims=True)
    squared = math.squared_difference(x, mean)
    return reduce.reduce_mean(squared, axis, keepdims=keepdims, name=name or "reduce_variance")


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """The (population) standard deviation of ``input_tensor`` over ``axis``."""
    variance = reduce_variance(input_tensor, axis, keepdims)
    return math.sqrt(variance, name=name or "reduce_std")


def _segment_one_hot(data, segment_ids, num_segments):
    ids = convert_to_tensor(segment_ids)
    if not ids.dtype.is_integer:
        raise TypeError(f"segment_ids must be integers, got {ids.dtype.name}")
    if ids.shape.rank != 1:
        raise ValueError(f"segment_ids must be a vector here, got shape {ids.shape}")
    return array.one_hot(ids, int(num_segments), dtype=data.dtype)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """``out[j] = sum(data[i] for i where segment_ids[i] == j)``, ``j < num_segments``
    (ids outside that range are dropped, as TF1 does). Built as ``one_hot(ids)ᵀ @ data``."""
    data = convert_to_tensor(data)
    one_hot = _segment_one_hot(data, segment_ids, num_segments)  # [n, segments]
    rank = data.shape.rank
    if rank is None:
        raise ValueError("unsorted_segment_sum needs data of known rank")
    flat = data if rank == 2 else array.reshape(data, [array.shape(data)[0], -1])
    if rank == 1:
        flat = array.expand_dims(data, 1)
    summed = linalg.matmul(one_hot, flat, transpose_a=True)
    if rank == 1:
        return array.reshape(summed, [-1], name=name or "unsorted_segment_sum")
    if rank == 2:
        return array.identity(summed, name=name or "unsorted_segment_sum")
    shape = array.concat([[int(num_segments)], array.shape(data)[1:]], 0)
    return array.reshape(summed, shape, name=name or "unsorted_segment_sum")


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """The mean of each segment (0 for an empty one)."""
    data = convert_to_tensor(data)
    total = unsorted_segment_sum(data, segment_ids, num_segments)
    counts = reduce.reduce_sum(_segment_one_hot(data, segment_ids, num_segments), 0)
    shape = [int(num_segments)] + [1] * (data.shape.rank - 1)
    counts = array.reshape(math.maximum(counts, 1.0), shape)
    return math.divide(total, counts, name=name or "unsorted_segment_mean")


def logical_xor(x, y, name="LogicalXor"):
    """Elementwise ``x != y`` for booleans."""
    x, y = convert_to_tensor(x), convert_to_tensor(y)
    both = math.logical_and(x, y)
    return math.logical_and(math.logical_or(x, y), math.logical_not(both), name=name)
