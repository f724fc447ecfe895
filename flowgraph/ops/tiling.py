"""Tiling and padding: Tile and Pad, and the ops that are their gradients, TileGrad (the sum
over the tiled copies) and PadGrad (the padding cut off, mirrored parts folded back). Each
gradient op's own gradient is the forward op again, so they differentiate to any order.
``flowgraph.ops.array`` re-exports the public functions.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.tile(fg.constant([[1, 2]]), [2, 1])
...     print(x.shape)
...     fg.Session().run(fg.pad(x, [[0, 0], [1, 1]]))
[2,2]
array([[0, 1, 2, 0],
       [0, 1, 2, 0]], dtype=int32)
"""

from __future__ import annotations

import operator

from flowgraph.errors import ShapeError
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import creation, namespace
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, gradient
from flowgraph.ops.slicing import getitem


def _per_dim_rule(x, entries, what: str):
    """``x``'s dims, one per entry of a per-dimension attr (tile multiples, paddings)."""
    dims = x.shape.dims
    if dims is None:
        return (None,) * len(entries)
    if len(dims) != len(entries):
        raise ShapeError(f"{what} has {len(entries)} entries, but the input has rank {len(dims)}")
    return dims


# ---- Tile and TileGrad --------------------------------------------------------------------


def _tile_infer(inputs, attrs):
    x, multiples = inputs[0], attrs["multiples"]
    if any(m < 0 for m in multiples):
        raise ShapeError(f"multiples {list(multiples)} must be non-negative")
    dims = _per_dim_rule(x, multiples, f"multiples {list(multiples)}")
    out = [0 if m == 0 else None if d is None else d * m for d, m in zip(dims, multiples)]
    return [(x.dtype, TensorShape(out))]


def _tile_kernel(xp, x, *, multiples):
    if len(multiples) != x.ndim:  # xp.tile would quietly add axes
        raise ValueError(f"multiples {list(multiples)} do not match the input's rank {x.ndim}")
    return xp.tile(x, multiples)


define_op("Tile", _tile_infer, kernel=_tile_kernel, attrs={"multiples": REQUIRED})


def tile(input, multiples, name=None):
    """``input`` repeated ``multiples[i]`` times along each dimension i.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.tile([[1, 2]], [2, 2]))
    array([[1, 2, 1, 2],
           [1, 2, 1, 2]], dtype=int32)
    """
    attrs = {"multiples": tuple(operator.index(m) for m in multiples)}
    return apply_op("Tile", [convert_to_tensor(input)], attrs, name=name or "Tile")


@gradient("Tile")
def _tile_grad(op, grad):
    """dx = g's tiles summed (TileGrad)."""
    return [tile_grad(grad, op.inputs[0], op.attrs["multiples"])]


def _tile_grad_kernel(xp, grad, like, *, multiples):
    # Dimension i of the tiled tensor is multiples[i] copies of like's dimension i, the copy
    # index outermost: split each dimension into (copy, position) and sum over the copies.
    split_dims = tuple(n for pair in zip(multiples, like.shape) for n in pair)
    copies = tuple(range(0, 2 * like.ndim, 2))
    return xp.sum(xp.reshape(grad, split_dims), axis=copies, dtype=grad.dtype)


define_op(
    "TileGrad",
    lambda inputs, attrs: [(inputs[0].dtype, inputs[1].shape)],
    kernel=_tile_grad_kernel,
    attrs={"multiples": REQUIRED},
)


def tile_grad(grad, like, multiples, name=None):
    """Tile's gradient: ``grad``, shaped like ``tile(like, multiples)``, summed over the
    tiled copies into ``like``'s shape (``[0, 1, 2, 3, 4, 5]`` -> ``[6, 9]`` for ``[3]``)."""
    attrs = {"multiples": tuple(operator.index(m) for m in multiples)}
    inputs = [convert_to_tensor(grad), convert_to_tensor(like)]
    return apply_op("TileGrad", inputs, attrs, name=name or "TileGrad")


@gradient("TileGrad")
def _tile_grad_grad(op, grad):
    """TileGrad is linear: its adjoint tiles gg again."""
    return [tile(grad, op.attrs["multiples"]), None]


# ---- Pad and PadGrad ----------------------------------------------------------------------
# REFLECT mirrors without repeating the edge, so its pads must be smaller than the dimension;
# SYMMETRIC repeats the edge, so its pads may equal it.
_PAD_SLACK = {"CONSTANT": None, "REFLECT": 0, "SYMMETRIC": 1}


def _pad_infer(inputs, attrs):
    x, paddings, mode = inputs[0], attrs["paddings"], attrs["mode"]
    if any(p < 0 for pair in paddings for p in pair):
        raise ShapeError(f"paddings {[list(p) for p in paddings]} must be non-negative")
    dims = _per_dim_rule(x, paddings, "paddings")
    slack = _PAD_SLACK[mode]
    for i, (d, pair) in enumerate(zip(dims, paddings)):
        if slack is not None and d is not None and 0 < max(pair) >= d + slack:
            raise ShapeError(f"{mode} padding {list(pair)} is too large for dimension {i} of {d}")
    creation.check_fits(attrs["constant_values"], x.dtype, "constant_values")
    out = [None if d is None else d + before + after for d, (before, after) in zip(dims, paddings)]
    return [(x.dtype, TensorShape(out))]


def _pad_kernel(xp, x, *, paddings, mode, constant_values):
    slack = _PAD_SLACK[mode]  # checked here too for dims unknown at build time
    if slack is not None and any(0 < max(p) >= n + slack for n, p in zip(x.shape, paddings)):
        raise ValueError(f"{mode} paddings {list(paddings)} too large for shape {x.shape}")
    if not paddings:
        return x[...]  # a scalar: xp.pad rejects empty paddings
    return namespace.pad(xp, x, paddings, mode, constant_values)


define_op(
    "Pad",
    _pad_infer,
    kernel=_pad_kernel,
    attrs={"paddings": REQUIRED, "mode": "CONSTANT", "constant_values": 0},
)


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """``tensor`` padded by ``paddings[i] = [before, after]`` entries on each dimension i, with
    ``constant_values`` (CONSTANT) or mirrored values (REFLECT without the edge, SYMMETRIC with).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(fg.pad([1, 2, 3], [[2, 1]], mode="REFLECT"))
    array([3, 2, 1, 2, 3, 2], dtype=int32)
    """
    tensor = convert_to_tensor(tensor)
    if creation.is_tensor_like(paddings):
        paddings = creation.static_value(convert_to_tensor(paddings))
        if paddings is None:
            raise TypeError("Pad: paddings must be static (a list of pairs or a constant)")
    if mode.upper() not in _PAD_SLACK:
        raise ValueError(f"Pad: mode must be one of {list(_PAD_SLACK)}, got {mode!r}")
    pairs = tuple(tuple(operator.index(p) for p in pair) for pair in paddings)
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"Pad: paddings must be [before, after] pairs, got {paddings!r}")
    attrs = {
        "paddings": pairs,
        "mode": mode.upper(),
        "constant_values": creation.python_scalar(constant_values, "Pad: constant_values"),
    }
    return apply_op("Pad", [tensor], attrs, name=name or "Pad")


@gradient("Pad")
def _pad_grad(op, grad):
    """dx = g's middle part (CONSTANT), or g folded back by PadGrad (REFLECT, SYMMETRIC)."""
    paddings, mode = op.attrs["paddings"], op.attrs["mode"]
    if mode == "CONSTANT":  # the input is the middle part of the output
        return [getitem(grad, tuple(slice(before, -after or None) for before, after in paddings))]
    return [pad_grad(grad, paddings, mode)]


def _fold_axis(xp, g, axis: int, before: int, after: int, mode: str):
    """``g`` along ``axis`` without the padding, the mirrored parts added back where they
    were copied from (REFLECT skips the edge element, SYMMETRIC repeats it)."""
    head = (slice(None),) * axis
    n = g.shape[axis] - before - after
    out = g[head + (slice(before, before + n), ...)]
    skip = 1 if mode == "REFLECT" else 0

    def placed(part, start):  # the reversed ``part`` at [start, start + len(part)), zeros around
        widths = [(0, 0)] * g.ndim
        widths[axis] = (start, n - start - part.shape[axis])
        return namespace.pad(xp, xp.flip(part, axis=axis), widths)

    if mode != "CONSTANT" and before:
        out = out + placed(g[head + (slice(0, before), ...)], skip)
    if mode != "CONSTANT" and after:
        out = out + placed(g[head + (slice(before + n, None), ...)], n - after - skip)
    return out


def _pad_grad_kernel(xp, grad, *, paddings, mode):
    for axis, (before, after) in enumerate(paddings):
        grad = _fold_axis(xp, grad, axis, before, after, mode)
    return grad


def _pad_grad_infer(inputs, attrs):
    g, paddings = inputs[0], attrs["paddings"]
    dims = _per_dim_rule(g, paddings, "paddings")
    out = [None if d is None else d - before - after for d, (before, after) in zip(dims, paddings)]
    if any(d is not None and d < 0 for d in out):
        raise ShapeError(f"paddings {[list(p) for p in paddings]} exceed the shape {g.shape}")
    return [(g.dtype, TensorShape(out))]


define_op(
    "PadGrad",
    _pad_grad_infer,
    kernel=_pad_grad_kernel,
    attrs={"paddings": REQUIRED, "mode": REQUIRED},
)


def pad_grad(grad, paddings, mode, name=None):
    """Pad's gradient: ``grad`` (shaped like the padded tensor) without the padding, where
    REFLECT and SYMMETRIC add each mirrored element's gradient back to its source.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.constant([10.0, 11.0, 12.0])
    ...     padded = fg.pad(x, [[2, 1]], "REFLECT")  # [x2, x1, x0, x1, x2, x1]
    ...     fg.Session().run([padded, pad_grad(fg.range(1.0, 7.0), [[2, 1]], "REFLECT")])
    [array([12., 11., 10., 11., 12., 11.], dtype=float32), array([ 3., 12.,  6.], dtype=float32)]
    """
    if mode.upper() not in _PAD_SLACK:
        raise ValueError(f"PadGrad: mode must be one of {list(_PAD_SLACK)}, got {mode!r}")
    pairs = tuple(tuple(operator.index(p) for p in pair) for pair in paddings)
    attrs = {"paddings": pairs, "mode": mode.upper()}
    return apply_op("PadGrad", [convert_to_tensor(grad)], attrs, name=name or "PadGrad")


@gradient("PadGrad")
def _pad_grad_grad(op, grad):
    """PadGrad is Pad's adjoint (both linear): dg = pad(gg)."""
    # PadGrad is Pad's adjoint (both are linear), so Pad is PadGrad's.
    return [pad(grad, op.attrs["paddings"], op.attrs["mode"])]
