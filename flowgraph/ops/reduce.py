"""Reductions (placeholder; being written)."""
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op
from flowgraph.graph.shape import TensorShape

define_op("Sum", lambda i, a: [(i[0].dtype, TensorShape([None]) )], kernel=lambda xp, x, *, axis: xp.sum(x, axis=axis, dtype=x.dtype), attrs={"axis": None})

def reduce_sum(x, axis=None, name=None):
    return apply_op("Sum", [convert_to_tensor(x)], {"axis": axis}, name=name)
