"""Undoing and redoing NumPy broadcasting on run-time shapes, for gradients.

A gradient flowing back through ``x + b`` (``x: [N, 256]``, ``b: [256]``) has ``x``'s shape; the
autodiff driver reduces it back to ``b``'s shape with :func:`sum_to_shape_of`. The two ops
here are each other's gradient, so second derivatives work through broadcasting too.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     g = fg.ones([2, 3])
...     b = fg.zeros([3])
...     fg.Session().run(sum_to_shape_of(g, b))
array([2., 2., 2.], dtype=float32)
"""

from __future__ import annotations

from flowgraph.ops.registry import apply_op, define_op, gradient


def _sum_to_shape(xp, g, like):
    if g.shape == like.shape:
        return g
    lead = g.ndim - like.ndim
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(like.shape) if n == 1 and g.shape[lead + i] != 1
    )
    if lead and len(axes) == lead and hasattr(g, "sum"):
        return g.sum(axis=axes, dtype=g.dtype)  # only added axes (a bias gradient): no reshape
    summed = xp.sum(g, axis=axes, keepdims=True, dtype=g.dtype) if axes else g
    return xp.reshape(summed, like.shape)


define_op(
    "SumToShapeOf",
    lambda inputs, attrs: [(inputs[0].dtype, inputs[1].shape)],
    kernel=_sum_to_shape,
    shape_only_inputs=(1,),
    specs_only_infer=True,
)


def _broadcast_to_shape(xp, g, like):
    return g if g.shape == like.shape else xp.broadcast_to(g, like.shape)


define_op(
    "BroadcastToShapeOf",
    lambda inputs, attrs: [(inputs[0].dtype, inputs[1].shape)],
    kernel=_broadcast_to_shape,
    shape_only_inputs=(1,),
    specs_only_infer=True,
)


def sum_to_shape_of(g, like, name=None):
    """``g`` summed over the dimensions that broadcasting added to ``like``'s shape."""
    return apply_op("SumToShapeOf", [g, like], name=name or "SumToShapeOf")


def broadcast_to_shape_of(g, like, name=None):
    """``g`` broadcast to ``like``'s run-time shape."""
    return apply_op("BroadcastToShapeOf", [g, like], name=name or "BroadcastToShapeOf")


@gradient("SumToShapeOf")
def _sum_to_shape_grad(op, grad):
    """dx = g broadcast back to x's shape; none for the shape source."""
    return [broadcast_to_shape_of(grad, op.inputs[0]), None]


@gradient("BroadcastToShapeOf")
def _broadcast_to_shape_grad(op, grad):
    """dx = g summed back to x's shape; none for the shape source."""
    return [sum_to_shape_of(grad, op.inputs[0]), None]
