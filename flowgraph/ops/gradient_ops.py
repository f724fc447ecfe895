"""Ops that exist for differentiation: ``stop_gradient``, and helpers of reduction gradients.

``stop_gradient(x)`` is ``x`` to the forward pass and a wall to ``gradients``. The two helpers
rebuild what a reduction removed: :func:`keep_reduced_dims` puts back the reduced axes as size 1
(so a gradient broadcasts against the input), and :func:`prod_of_others` gives each element the
product of the other elements it was reduced with — ``reduce_prod``'s gradient, exact at zeros.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.constant([[1.0, 2.0, 3.0], [4.0, 0.0, 6.0]])
...     g = keep_reduced_dims(fg.reduce_sum(x, axis=1), x, axis=(1,))
...     print(g.shape)
...     fg.Session().run([g, prod_of_others(x, axis=(1,))])
[2,1]
[array([[ 6.],
       [10.]], dtype=float32), array([[ 6.,  3.,  2.],
       [ 0., 24.,  0.]], dtype=float32)]
"""

from __future__ import annotations

from math import prod

from flowgraph.graph.shape import TensorShape
from flowgraph.ops import rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.math import multiply, real_div, subtract
from flowgraph.ops.registry import apply_op, define_op, gradient
from flowgraph.ops.rules import normalize_axis, same_as_input

__all__ = ["keep_reduced_dims", "mean_grad", "prod_of_others", "stop_gradient"]


# ---- StopGradient --------------------------------------------------------------------------

# Not differentiable: the autodiff driver sends no gradient through it (and explain_gradient
# names it as the blocker).
define_op(
    "StopGradient",
    same_as_input,
    kernel=lambda xp, x: x,
    differentiable=False,
    stops_gradient=True,
)


def stop_gradient(input, name=None):
    """The same value as ``input``, but gradients do not flow back through it.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [], name="x")
    ...     y = x * stop_gradient(x)          # d/dx treats the second factor as a constant
    ...     (dx,) = fg.gradients(y, [x])
    ...     print(fg.Session().run(dx, {x: 3.0}))
    3.0
    """
    return apply_op("StopGradient", [convert_to_tensor(input)], name=name or "StopGradient")


# ---- helpers of reduction gradients ---------------------------------------------------------


def _axes(axis, rank: int) -> tuple[int, ...]:
    """The reduced axes of a rank-``rank`` tensor, non-negative and sorted."""
    if axis is None:
        return tuple(range(rank))
    return tuple(sorted({a % rank for a in axis})) if rank else ()


def _keep_reduced_dims_infer(inputs, attrs):
    g, like = inputs
    if like.shape.rank is None:
        return [(g.dtype, TensorShape(None))]
    rank = like.shape.rank
    axis = attrs["axis"]
    axes = range(rank) if axis is None else {normalize_axis(a, rank) for a in axis}
    return [(g.dtype, TensorShape(1 if i in axes else d for i, d in enumerate(like.shape.dims)))]


def _keep_reduced_dims(xp, g, like, *, axis):
    axes = _axes(axis, like.ndim)
    return xp.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(like.shape)))


define_op(
    "KeepReducedDims",
    _keep_reduced_dims_infer,
    kernel=_keep_reduced_dims,
    attrs={"axis": None},
    shape_only_inputs=(1,),
    specs_only_infer=True,
)


def keep_reduced_dims(g, like, axis, name=None):
    """``g``, a reduction of ``like`` over ``axis`` (None: all axes) without ``keepdims``,
    reshaped as if ``keepdims=True`` had been given: the reduced axes come back with size 1."""
    axis = None if axis is None else tuple(axis)
    inputs = [convert_to_tensor(g), convert_to_tensor(like)]
    return apply_op("KeepReducedDims", inputs, {"axis": axis}, name=name or "KeepReducedDims")


@gradient("KeepReducedDims")
def _keep_reduced_dims_grad(op, grad):
    """dx = g summed over the restored size-1 axes."""
    from flowgraph.ops.reduce import reduce_sum  # reduce.py builds on this module

    # The restored axes have size 1, so summing over them only drops them again.
    return [reduce_sum(grad, axis=op.attrs["axis"]), None]


def _mean_grad_infer(inputs, attrs):
    g, like = inputs
    rules.require_kind(g, "float", "gradient")
    return [(g.dtype, like.shape)]


def _mean_grad(xp, g, like, *, axis):
    if axis is None and g.ndim == 0 and getattr(xp, "__name__", None) == "numpy":
        # The mean of everything (a loss): one array filled with g / count. empty + fill
        # takes half of full's time, and this op sits in every training step's tail.
        out = xp.empty(like.shape, dtype=g.dtype)
        out.fill(g / like.size)
        return out
    axes = _axes(axis, like.ndim)
    kept = tuple(1 if i in axes else n for i, n in enumerate(like.shape))
    # Elements per mean: the input's size over the result's (an empty input divides by 0,
    # as 0/0 is its mean). g is divided while still small, then broadcast (a view).
    count = prod(like.shape) // max(prod(kept), 1)
    if len(kept) == len(axes) and getattr(xp, "__name__", None) == "numpy":
        # The mean of everything (a loss): one array filled with g / count, in a fraction
        # of broadcast_to's time (the step's tail is made of such small ops).
        return xp.full(like.shape, g / count, dtype=g.dtype)
    return xp.broadcast_to(xp.reshape(g / count, kept), like.shape)


define_op(
    "MeanGrad",
    _mean_grad_infer,
    kernel=_mean_grad,
    attrs={"axis": None},
    shape_only_inputs=(1,),
    specs_only_infer=True,
)


def mean_grad(g, like, axis, name=None):
    """``reduce_mean(like, axis)``'s gradient in one op: ``g`` (shaped like the mean, with or
    without the reduced axes) divided by the number of elements averaged, broadcast to
    ``like``'s run-time shape. One op instead of the six a gradient of sizes, casts, reshapes
    and broadcasts takes: small ops dominate the tail of a training step.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 2])
    ...     g = mean_grad(fg.constant([1.0, 4.0]), x, axis=(0,))
    ...     fg.Session().run(g, {x: [[0, 0], [0, 0]]})
    array([[0.5, 2. ],
           [0.5, 2. ]], dtype=float32)
    """
    axis = None if axis is None else tuple(axis)
    inputs = [convert_to_tensor(g), convert_to_tensor(like)]
    return apply_op("MeanGrad", inputs, {"axis": axis}, name=name or "MeanGrad")


@gradient("MeanGrad")
def _mean_grad_grad(op, grad):
    """MeanGrad is linear in g, and its adjoint is the mean itself: dg = mean of the upstream
    gradient over the averaged axes, reshaped to g's shape; none for the shape source."""
    from flowgraph.ops.array import reshape, shape
    from flowgraph.ops.reduce import reduce_mean  # reduce.py builds on this module

    g = op.inputs[0]
    return [reshape(reduce_mean(grad, axis=op.attrs["axis"]), shape(g)), None]


def _exclusive_cumprod(xp, flat):
    """Along axis 0: the product of the entries before each one (1 for the first)."""
    cumprod = getattr(xp, "cumprod", None) or xp.cumulative_prod
    concat = getattr(xp, "concat", None) or xp.concatenate
    ones = xp.ones((1,) + flat.shape[1:], dtype=flat.dtype)
    return concat([ones, cumprod(flat[:-1, ...], axis=0)], axis=0)


def _prod_of_others(xp, x, *, axis):
    if x.size == 0:
        return x
    rank = x.ndim
    axes = _axes(axis, rank)
    kept = tuple(i for i in range(rank) if i not in axes)
    permute = getattr(xp, "permute_dims", None) or xp.transpose
    moved = permute(x, axes + kept)
    # Rows: the elements of one reduction group; columns: the groups.
    flat = xp.reshape(moved, (prod(x.shape[a] for a in axes), prod(x.shape[k] for k in kept)))
    # Products from the left and from the right, each excluding the element itself: no
    # division, so a zero elsewhere in the group gives 0 and the zero itself gets the rest.
    before = _exclusive_cumprod(xp, flat)
    after = xp.flip(_exclusive_cumprod(xp, xp.flip(flat, axis=0)), axis=0)
    others = xp.reshape(before * after, moved.shape)
    order = axes + kept
    return permute(others, tuple(sorted(range(rank), key=order.__getitem__)))  # undo `order`


define_op("ProdOfOthers", same_as_input, kernel=_prod_of_others, attrs={"axis": None})


def prod_of_others(x, axis, name=None):
    """Each element of ``x`` replaced by the product of the other elements of its group in
    ``reduce_prod(x, axis)`` (None: all axes), computed without dividing."""
    axis = None if axis is None else tuple(axis)
    return apply_op(
        "ProdOfOthers", [convert_to_tensor(x)], {"axis": axis}, name=name or "ProdOfOthers"
    )


@gradient("ProdOfOthers")
def _prod_of_others_grad(op, grad):
    """d others_i / d x_j = others_i / x_j for j != i, so the gradient at x_j is
    (sum over the group of grad*others - grad_j*others_j) / x_j. Unlike the forward kernel
    this divides by x: second derivatives of reduce_prod at zeros are not exact (nor in TF)."""
    from flowgraph.ops.reduce import reduce_sum  # reduce.py builds on this module

    x = op.inputs[0]
    weighted = multiply(grad, op.outputs[0])
    group_total = reduce_sum(weighted, axis=op.attrs["axis"], keepdims=True)
    return [real_div(subtract(group_total, weighted), x)]
