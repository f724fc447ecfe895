"""Selecting entries of a tensor by a mask or by ids: ``boolean_mask`` (a ``where`` then a
gather) and ``embedding_lookup`` (a gather on axis 0, over one table or its shards). Both are
built from array ops, so their gradients are the gathers' gradients.
"""

from __future__ import annotations

import operator

import numpy as np

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, math, reduce, rules
from flowgraph.ops.convert import convert_to_tensor

__all__ = ["boolean_mask", "embedding_lookup"]


def _scope(name, default):
    return get_default_graph().name_scope(name or default)


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The entries of ``tensor`` where ``mask`` is true: ``mask`` covers dims ``axis`` to
    ``axis + mask.rank`` of ``tensor``, which are flattened into one dim of the true count.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     t = fg.constant([[1, 2], [3, 4], [5, 6]])
    ...     fg.Session().run(boolean_mask(t, [True, False, True]))
    array([[1, 2],
           [5, 6]], dtype=int32)
    """
    with _scope(name, "boolean_mask"):
        tensor, mask = convert_to_tensor(tensor), convert_to_tensor(mask)
        rules.require_kind(mask, "bool", "mask")
        k = mask.shape.rank
        if k is None:
            raise ValueError(
                "Number of mask dimensions must be specified, even if some dimensions are None."
            )
        if k == 0:
            raise ValueError("mask cannot be scalar.")
        axis = 0 if axis is None else operator.index(axis)
        dims = tensor.shape.dims
        if dims is None:
            raise ValueError("boolean_mask needs a tensor of known rank")
        if not TensorShape(dims[axis : axis + k]).is_compatible_with(mask.shape):
            raise ValueError(
                f"Shapes {TensorShape(dims[axis : axis + k])} and {mask.shape} are incompatible"
            )
        outer = list(dims[:axis]) + [-1] + list(dims[axis + k :])
        if None in outer:  # unknown dims: take the run-time shape there
            runtime = array.shape(tensor)
            outer = (
                [runtime[i] if d is None else d for i, d in enumerate(dims[:axis])]
                + [-1]
                + [
                    runtime[axis + k + i] if d is None else d
                    for i, d in enumerate(dims[axis + k :])
                ]
            )
        flat = array.reshape(tensor, outer)
        indices = array.squeeze(math.where(array.reshape(mask, [-1])), axis=[1])
        return array.gather(flat, indices, axis=axis)


def embedding_lookup(
    params, ids, partition_strategy="mod", name=None, validate_indices=True, max_norm=None
):
    """Rows ``ids`` of ``params`` (a gather on axis 0). ``params`` may be a list of shards of
    the table, split by ``partition_strategy`` ``"mod"`` (id ``i`` lives in shard ``i % n``)
    or ``"div"`` (contiguous blocks). With ``max_norm``, rows longer than it are scaled down.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     shards = [fg.constant([[0.0], [2.0]]), fg.constant([[1.0], [3.0]])]  # mod-sharded
    ...     fg.Session().run(embedding_lookup(shards, [3, 0, 2]))
    array([[3.],
           [0.],
           [2.]], dtype=float32)
    """
    shards = list(params) if isinstance(params, (list, tuple)) else [params]
    if not shards:
        raise ValueError("Need at least one param")
    if partition_strategy not in ("mod", "div"):
        raise ValueError(f"Unrecognized partition strategy: {partition_strategy}")
    with _scope(name, "embedding_lookup"):
        ids = convert_to_tensor(ids)
        shards = [convert_to_tensor(p) for p in shards]
        if len(shards) == 1:
            table = shards[0]
        else:
            table = array.concat(shards, axis=0)
            if partition_strategy == "mod":
                sizes = [p.shape[0] for p in shards]
                if None in sizes:
                    raise ValueError("embedding_lookup: 'mod' sharding needs shards of known size")
                offsets = convert_to_tensor(np.cumsum([0] + sizes[:-1]), ids.dtype)
                n = len(shards)
                ids = math.add(array.gather(offsets, math.floormod(ids, n)), math.floordiv(ids, n))
        result = array.gather(table, ids)
        if max_norm is not None:
            norm = math.sqrt(reduce.reduce_sum(math.square(result), -1, keepdims=True))
            limit = convert_to_tensor(max_norm, result.dtype)
            result = math.divide(math.multiply(result, limit), math.maximum(norm, limit))
        return result
