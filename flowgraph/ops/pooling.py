"""2-D pooling (``max_pool``, ``avg_pool``) with its gradient ops, vectorized over pixels (the
sliding-window geometry it shares with convolution is :mod:`flowgraph.ops.windows`).

Kernels work in NHWC (an ``"NCHW"`` op transposes in and out). A window op reads one strided
slice per kernel offset (a loop over the ``kh * kw`` offsets, never over pixels), which works in
any array namespace; :mod:`flowgraph.ops.conv` gathers the same slices into an im2col matrix.
Padding follows TensorFlow exactly: ``"VALID"`` uses no padding and ``"SAME"`` gives
``ceil(in / stride)`` outputs, padding ``max((out - 1) * stride + k - in, 0)`` in total, the odd
element at the end (bottom/right). Max pooling never picks the padding; average pooling counts
only real elements.

The backprop ops (``MaxPoolGrad``, ``MaxPoolGradGrad``, ``AvgPoolGrad``) are ops of their own
with gradient rules of their own, so second derivatives through pooling work.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     images = fg.placeholder(fg.float32, [None, 28, 28, 32])
...     p = max_pool(images, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
...     q = avg_pool(images, ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME")
...     print(p.shape, q.shape)
[?,14,14,32] [?,14,14,32]
"""

from __future__ import annotations

from flowgraph.ops import rules, windows
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "avg_pool",
    "avg_pool_grad",
    "max_pool",
    "max_pool_grad",
]


# ---- geometry: TF's padding arithmetic, shared by shape rules and kernels ----------------


# ---- shape rules --------------------------------------------------------------------------


def _pool_infer(inputs, attrs):
    x = inputs[0]
    windows.check_window_attrs(attrs, "ksize")
    rules.require_kind(x, "numeric", "value")
    rules.require_rank(x, 4, "value")
    fmt = attrs["data_format"]
    n, h, w, c = windows.nhwc_dims(x.shape, fmt)
    (kh, kw), (sh, sw) = (
        windows.spatial(attrs["ksize"], fmt),
        windows.spatial(attrs["strides"], fmt),
    )
    oh = windows.output_and_pads(h, kh, sh, 1, attrs["padding"])[0]
    ow = windows.output_and_pads(w, kw, sw, 1, attrs["padding"])[0]
    return [(x.dtype, windows.from_nhwc_dims((n, oh, ow, c), fmt))]


def _avg_pool_infer(inputs, attrs):
    rules.require_kind(inputs[0], "float", "value")
    return _pool_infer(inputs, attrs)


def _like_input_infer(index):
    def infer(inputs, attrs):
        windows.check_window_attrs(attrs, "ksize")
        rules.same_dtypes(inputs, ("orig_input", "orig_output", "grad"))
        return [(inputs[0].dtype, inputs[index].shape)]

    return infer


def _avg_pool_grad_infer(inputs, attrs):
    sizes, grad = inputs
    windows.check_window_attrs(attrs, "ksize")
    rules.require_kind(grad, "float", "grad")
    return [(grad.dtype, windows.static_sizes(sizes))]


# ---- kernels (only through the array namespace ``xp``) ---------------------------------


def _pool_window(x_nhwc, ksize, strides, padding, data_format):
    return windows.Window.make(
        x_nhwc[1:3],
        windows.spatial(ksize, data_format),
        windows.spatial(strides, data_format),
        (1, 1),
        padding,
    )


def _lowest(xp, dtype):
    """The padding value max pooling never picks: -inf, or the integer dtype's minimum."""
    floats = (getattr(xp, n) for n in ("float16", "float32", "float64") if hasattr(xp, n))
    return -xp.inf if any(dtype == f for f in floats) else xp.iinfo(dtype).min


def _max_pool_kernel(xp, x, *, ksize, strides, padding, data_format):
    x = windows.to_nhwc(xp, x, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded = win.pad(xp, x, _lowest(xp, x.dtype))
    out = None
    for idx in win.offsets():
        out = padded[idx] if out is None else xp.maximum(out, padded[idx])
    return windows.from_nhwc(xp, out, data_format)


def _first_max_hits(xp, padded, y, win):
    """For each kernel offset, where the window's first maximum sits (ties: first offset)."""
    remaining = xp.full(y.shape, True)
    for idx in win.offsets():
        hit = (padded[idx] == y) & remaining
        remaining = remaining & ~hit
        yield idx, hit


def _max_pool_grad_kernel(xp, x, y, g, *, ksize, strides, padding, data_format):
    x, y, g = (windows.to_nhwc(xp, t, data_format) for t in (x, y, g))
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded = win.pad(xp, x, _lowest(xp, x.dtype))
    dx = win.padded_zeros(xp, x.shape, g.dtype)
    zero = xp.zeros((), dtype=g.dtype)
    for idx, hit in _first_max_hits(xp, padded, y, win):
        dx[idx] += xp.where(hit, g, zero)
    return windows.from_nhwc(xp, win.crop(dx, x.shape), data_format)


def _max_pool_grad_grad_kernel(xp, x, y, gg, *, ksize, strides, padding, data_format):
    x, y, gg = (windows.to_nhwc(xp, t, data_format) for t in (x, y, gg))
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded, gg = win.pad(xp, x, _lowest(xp, x.dtype)), win.pad(xp, gg)
    out = xp.zeros(y.shape, dtype=gg.dtype)
    zero = xp.zeros((), dtype=gg.dtype)
    for idx, hit in _first_max_hits(xp, padded, y, win):
        out = out + xp.where(hit, gg[idx], zero)
    return windows.from_nhwc(xp, out, data_format)


def _window_counts(xp, win, in_hw, dtype):
    """How many real (unpadded) input elements each SAME window covers: [1, OH, OW, 1]."""
    ones = win.pad(xp, xp.ones((1, *in_hw, 1), dtype=dtype))
    return sum(ones[idx] for idx in win.offsets())


def _avg_pool_kernel(xp, x, *, ksize, strides, padding, data_format):
    x = windows.to_nhwc(xp, x, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded = win.pad(xp, x)
    total = sum(padded[idx] for idx in win.offsets())
    return windows.from_nhwc(
        xp, total / _window_counts(xp, win, x.shape[1:3], x.dtype), data_format
    )


def _avg_pool_grad_kernel(xp, sizes, g, *, ksize, strides, padding, data_format):
    nhwc = windows.sizes_nhwc(sizes, data_format)
    g = windows.to_nhwc(xp, g, data_format)
    win = _pool_window(nhwc, ksize, strides, padding, data_format)
    win.check_out(g, "grad")
    share = g / _window_counts(xp, win, nhwc[1:3], g.dtype)
    dx = win.padded_zeros(xp, nhwc, g.dtype)
    for idx in win.offsets():
        dx[idx] += share
    return windows.from_nhwc(xp, win.crop(dx, nhwc), data_format)


_POOL_ATTRS = {
    "ksize": (1, 1, 1, 1),
    "strides": (1, 1, 1, 1),
    "padding": "VALID",
    "data_format": "NHWC",
}
define_op("MaxPool", _pool_infer, kernel=_max_pool_kernel, attrs=_POOL_ATTRS)
define_op("MaxPoolGrad", _like_input_infer(0), kernel=_max_pool_grad_kernel, attrs=_POOL_ATTRS)
define_op(
    "MaxPoolGradGrad", _like_input_infer(1), kernel=_max_pool_grad_grad_kernel, attrs=_POOL_ATTRS
)
define_op("AvgPool", _avg_pool_infer, kernel=_avg_pool_kernel, attrs=_POOL_ATTRS)
define_op("AvgPoolGrad", _avg_pool_grad_infer, kernel=_avg_pool_grad_kernel, attrs=_POOL_ATTRS)


# ---- gradient rules (made of the ops above, so they can be differentiated again) ---------


@gradient("MaxPool")
def _max_pool_grad(op, grad):
    """dx = MaxPoolGrad(x, y, g): each window's g goes to its maximum."""
    inputs = [op.inputs[0], op.outputs[0], grad]
    return [apply_op("MaxPoolGrad", inputs, windows.op_window_attrs(op), name="MaxPoolGrad")]


@gradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    """d(g) = MaxPoolGradGrad(x, y, gg): gg read at each window's maximum."""
    inputs = [op.inputs[0], op.inputs[1], grad]
    return [
        None,
        None,
        apply_op("MaxPoolGradGrad", inputs, windows.op_window_attrs(op), name="MaxPoolGradGrad"),
    ]


@gradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    """d(gg) = MaxPoolGrad(x, y, ggg), the adjoint of picking maxima."""
    inputs = [op.inputs[0], op.inputs[1], grad]
    return [
        None,
        None,
        apply_op("MaxPoolGrad", inputs, windows.op_window_attrs(op), name="MaxPoolGrad"),
    ]


@gradient("AvgPool")
def _avg_pool_grad(op, grad):
    """dx = AvgPoolGrad(shape of x, g): each window's g spread evenly over it."""
    inputs = [windows.shape_of(op.inputs[0]), grad]
    return [apply_op("AvgPoolGrad", inputs, windows.op_window_attrs(op), name="AvgPoolGrad")]


@gradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    """AvgPoolGrad is linear in g: its adjoint is AvgPool(g)."""
    return [None, apply_op("AvgPool", [grad], windows.op_window_attrs(op), name="AvgPool")]


# ---- public functions -----------------------------------------------------------------------


def _pool_attrs(ksize, strides, padding, data_format):
    data_format = data_format or "NHWC"
    attrs = windows.conv_attrs(strides, padding, data_format, None)
    del attrs["dilations"]
    attrs["ksize"] = windows.four(ksize, "ksize", data_format)
    return attrs


def max_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The maximum over each ``ksize`` window (``[1, kh, kw, 1]`` for NHWC), moved by
    ``strides``; SAME padding never picks the padding.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.reshape(fg.range(16.0), [1, 4, 4, 1])
    ...     y = max_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    ...     fg.Session().run(y)[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    value = convert_to_tensor(input if value is None else value)
    attrs = _pool_attrs(ksize, strides, padding, data_format)
    return apply_op("MaxPool", [value], attrs, name=name or "MaxPool")


def avg_pool(value, ksize, strides, padding, data_format="NHWC", name=None, input=None):
    """The mean over each ``ksize`` window; with SAME padding only real elements count.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.reshape(fg.range(9.0), [1, 3, 3, 1])
    ...     y = avg_pool(x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="SAME")
    ...     fg.Session().run(y)[0, :, :, 0]
    array([[2. , 3.5],
           [6.5, 8. ]], dtype=float32)
    """
    value = convert_to_tensor(input if value is None else value)
    attrs = _pool_attrs(ksize, strides, padding, data_format)
    return apply_op("AvgPool", [value], attrs, name=name or "AvgPool")


def max_pool_grad(
    orig_input, orig_output, grad, ksize, strides, padding, data_format="NHWC", name=None
):
    """The gradient of :func:`max_pool`: each window's ``grad`` goes to its (first) maximum.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.constant([[[[1.0], [3.0]], [[2.0], [0.0]]]])
    ...     y = max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    ...     g = max_pool_grad(x, y, fg.ones([1, 1, 1, 1]), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    ...     fg.Session().run(g)[0, :, :, 0]
    array([[0., 1.],
           [0., 0.]], dtype=float32)
    """
    attrs = _pool_attrs(ksize, strides, padding, data_format)
    inputs = [convert_to_tensor(t) for t in (orig_input, orig_output, grad)]
    return apply_op("MaxPoolGrad", inputs, attrs, name=name or "MaxPoolGrad")


def avg_pool_grad(orig_input_shape, grad, ksize, strides, padding, data_format="NHWC", name=None):
    """The gradient of :func:`avg_pool`: each window's ``grad`` shared among its elements.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     g = avg_pool_grad([1, 2, 2, 1], fg.ones([1, 1, 1, 1]), [1, 2, 2, 1], [1, 2, 2, 1],
    ...                       "VALID")
    ...     fg.Session().run(g)[0, :, :, 0]
    array([[0.25, 0.25],
           [0.25, 0.25]], dtype=float32)
    """
    attrs = _pool_attrs(ksize, strides, padding, data_format)
    inputs = [windows.sizes_tensor(orig_input_shape), convert_to_tensor(grad)]
    return apply_op("AvgPoolGrad", inputs, attrs, name=name or "AvgPoolGrad")
