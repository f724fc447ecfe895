"""2-D pooling (``max_pool``, ``avg_pool``) with its gradient ops, and the sliding-window
geometry that pooling and convolution share, vectorized over pixels.

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

import numbers
from dataclasses import dataclass

from flowgraph.errors import ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.shape import TensorShape
from flowgraph.ops import array, rules
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "avg_pool",
    "avg_pool_grad",
    "max_pool",
    "max_pool_grad",
]

_FORMATS = ("NHWC", "NCHW")


# ---- geometry: TF's padding arithmetic, shared by shape rules and kernels ----------------


def _output_and_pads(size, k, stride, dilation, padding):
    """(output size, pad before, pad after) along one spatial dimension; None when unknown."""
    if size is None or k is None:
        return None, None, None
    extent = (k - 1) * dilation + 1
    if padding == "VALID":
        if size < extent:
            raise ShapeError(
                f"Negative dimension size: a window of extent {extent} (kernel {k}, dilation "
                f"{dilation}) does not fit in an input dimension of size {size} with VALID padding"
            )
        return (size - extent) // stride + 1, 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return out, total // 2, total - total // 2


def _spatial(four, data_format):
    """The (height, width) entries of a 4-element strides/ksize/dilations attribute."""
    return (four[1], four[2]) if data_format == "NHWC" else (four[2], four[3])


def _nhwc_dims(shape: TensorShape, data_format):
    """(N, H, W, C) of a rank-4 shape, or four Nones for an unknown rank."""
    if shape.rank is None:
        return (None,) * 4
    n, a, b, c = shape.dims
    return (n, a, b, c) if data_format == "NHWC" else (n, b, c, a)


def _from_nhwc_dims(dims, data_format):
    n, h, w, c = dims
    return TensorShape((n, h, w, c) if data_format == "NHWC" else (n, c, h, w))


@dataclass(frozen=True)
class _Window:
    """Where each kernel offset reads in the padded NHWC input, for one op at run time."""

    kernel: tuple  # (kh, kw)
    strides: tuple
    dilations: tuple
    out: tuple  # (out_h, out_w)
    pads: tuple  # ((top, bottom), (left, right))

    @classmethod
    def make(cls, in_hw, kernel, strides, dilations, padding):
        geo = [_output_and_pads(*a, padding) for a in zip(in_hw, kernel, strides, dilations)]
        return cls(
            tuple(kernel),
            tuple(strides),
            tuple(dilations),
            tuple(g[0] for g in geo),
            tuple((g[1], g[2]) for g in geo),
        )

    def offsets(self):
        """One index tuple per kernel offset (row-major): the strided slice it reads."""
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = self.kernel, self.strides, self.dilations, self.out
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                yield (slice(None), rows, cols, slice(None))

    def pad(self, xp, x, value=0):
        (top, bottom), (left, right) = self.pads
        if not (top or bottom or left or right):
            return x
        n, h, w, c = x.shape
        out = xp.full((n, h + top + bottom, w + left + right, c), value, dtype=x.dtype)
        out[:, top : top + h, left : left + w, :] = x
        return out

    def padded_zeros(self, xp, nhwc, dtype):
        (top, bottom), (left, right) = self.pads
        n, h, w, c = nhwc
        return xp.zeros((n, h + top + bottom, w + left + right, c), dtype=dtype)

    def crop(self, x, nhwc):
        (top, _), (left, _) = self.pads
        return x[:, top : top + nhwc[1], left : left + nhwc[2], :]

    def check_out(self, g, what):
        if tuple(g.shape[1:3]) != self.out:
            raise ValueError(
                f"{what} has spatial size {tuple(g.shape[1:3])}, but the forward op's output "
                f"is {self.out}"
            )


def _permute(xp, x, axes):
    # The array-API spelling where the namespace has it (NumPy 2), else CuPy's / NumPy 1's.
    return (getattr(xp, "permute_dims", None) or xp.transpose)(x, axes)


def _to_nhwc(xp, x, data_format):
    return x if data_format == "NHWC" else _permute(xp, x, (0, 2, 3, 1))


def _from_nhwc(xp, x, data_format):
    return x if data_format == "NHWC" else _permute(xp, x, (0, 3, 1, 2))


def _sizes_nhwc(sizes, data_format):
    n, a, b, c = (int(s) for s in sizes)
    return (n, a, b, c) if data_format == "NHWC" else (n, b, c, a)


# ---- shape rules --------------------------------------------------------------------------


def _check_attrs(attrs, window_name):
    fmt = attrs["data_format"]
    if fmt not in _FORMATS:
        raise ShapeError(f"data_format must be 'NHWC' or 'NCHW', not {fmt!r}")
    if attrs["padding"] not in ("SAME", "VALID"):
        raise ShapeError(f"padding must be 'SAME' or 'VALID', not {attrs['padding']!r}")
    batch_and_depth = (0, 3) if fmt == "NHWC" else (0, 1)
    names = [("strides", attrs["strides"]), (window_name, attrs.get(window_name))]
    for name, four in names:
        if four is None:
            continue
        if len(four) != 4 or any(not isinstance(v, int) or v < 1 for v in four):
            raise ShapeError(f"{name} must be 4 positive ints, not {list(four)}")
        if any(four[i] != 1 for i in batch_and_depth):
            raise ShapeError(
                f"{name} {list(four)} must be 1 in the batch and depth dimensions ({fmt})"
            )


def _static_sizes(t):
    """The static value of a 1-D int ``sizes`` tensor (a Const, or the Shape of a tensor)."""
    rules.require_kind(t, "int", "sizes")
    rules.require_rank(t, 1, "sizes")
    if t.shape.rank is not None and t.shape[0] not in (None, 4):
        raise ShapeError(f"sizes must have 4 elements, but has shape {t.shape}")
    if t.op.type == "Const":
        return TensorShape(t.op.attrs["value"].tolist())
    if t.op.type == "Shape" and t.op.inputs[0].shape.rank is not None:
        return t.op.inputs[0].shape
    return TensorShape([None] * 4)


def _pool_infer(inputs, attrs):
    x = inputs[0]
    _check_attrs(attrs, "ksize")
    rules.require_kind(x, "numeric", "value")
    rules.require_rank(x, 4, "value")
    fmt = attrs["data_format"]
    n, h, w, c = _nhwc_dims(x.shape, fmt)
    (kh, kw), (sh, sw) = _spatial(attrs["ksize"], fmt), _spatial(attrs["strides"], fmt)
    oh = _output_and_pads(h, kh, sh, 1, attrs["padding"])[0]
    ow = _output_and_pads(w, kw, sw, 1, attrs["padding"])[0]
    return [(x.dtype, _from_nhwc_dims((n, oh, ow, c), fmt))]


def _avg_pool_infer(inputs, attrs):
    rules.require_kind(inputs[0], "float", "value")
    return _pool_infer(inputs, attrs)


def _like_input_infer(index):
    def infer(inputs, attrs):
        _check_attrs(attrs, "ksize")
        rules.same_dtypes(inputs, ("orig_input", "orig_output", "grad"))
        return [(inputs[0].dtype, inputs[index].shape)]

    return infer


def _avg_pool_grad_infer(inputs, attrs):
    sizes, grad = inputs
    _check_attrs(attrs, "ksize")
    rules.require_kind(grad, "float", "grad")
    return [(grad.dtype, _static_sizes(sizes))]


# ---- kernels (only through the array namespace ``xp``) ---------------------------------


def _pool_window(x_nhwc, ksize, strides, padding, data_format):
    return _Window.make(
        x_nhwc[1:3], _spatial(ksize, data_format), _spatial(strides, data_format), (1, 1), padding
    )


def _lowest(xp, dtype):
    """The padding value max pooling never picks: -inf, or the integer dtype's minimum."""
    floats = (getattr(xp, n) for n in ("float16", "float32", "float64") if hasattr(xp, n))
    return -xp.inf if any(dtype == f for f in floats) else xp.iinfo(dtype).min


def _max_pool_kernel(xp, x, *, ksize, strides, padding, data_format):
    x = _to_nhwc(xp, x, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded = win.pad(xp, x, _lowest(xp, x.dtype))
    out = None
    for idx in win.offsets():
        out = padded[idx] if out is None else xp.maximum(out, padded[idx])
    return _from_nhwc(xp, out, data_format)


def _first_max_hits(xp, padded, y, win):
    """For each kernel offset, where the window's first maximum sits (ties: first offset)."""
    remaining = xp.full(y.shape, True)
    for idx in win.offsets():
        hit = (padded[idx] == y) & remaining
        remaining = remaining & ~hit
        yield idx, hit


def _max_pool_grad_kernel(xp, x, y, g, *, ksize, strides, padding, data_format):
    x, y, g = (_to_nhwc(xp, t, data_format) for t in (x, y, g))
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded = win.pad(xp, x, _lowest(xp, x.dtype))
    dx = win.padded_zeros(xp, x.shape, g.dtype)
    zero = xp.zeros((), dtype=g.dtype)
    for idx, hit in _first_max_hits(xp, padded, y, win):
        dx[idx] += xp.where(hit, g, zero)
    return _from_nhwc(xp, win.crop(dx, x.shape), data_format)


def _max_pool_grad_grad_kernel(xp, x, y, gg, *, ksize, strides, padding, data_format):
    x, y, gg = (_to_nhwc(xp, t, data_format) for t in (x, y, gg))
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded, gg = win.pad(xp, x, _lowest(xp, x.dtype)), win.pad(xp, gg)
    out = xp.zeros(y.shape, dtype=gg.dtype)
    zero = xp.zeros((), dtype=gg.dtype)
    for idx, hit in _first_max_hits(xp, padded, y, win):
        out = out + xp.where(hit, gg[idx], zero)
    return _from_nhwc(xp, out, data_format)


def _window_counts(xp, win, in_hw, dtype):
    """How many real (unpadded) input elements each SAME window covers: [1, OH, OW, 1]."""
    ones = win.pad(xp, xp.ones((1, *in_hw, 1), dtype=dtype))
    return sum(ones[idx] for idx in win.offsets())


def _avg_pool_kernel(xp, x, *, ksize, strides, padding, data_format):
    x = _to_nhwc(xp, x, data_format)
    win = _pool_window(x.shape, ksize, strides, padding, data_format)
    padded = win.pad(xp, x)
    total = sum(padded[idx] for idx in win.offsets())
    return _from_nhwc(xp, total / _window_counts(xp, win, x.shape[1:3], x.dtype), data_format)


def _avg_pool_grad_kernel(xp, sizes, g, *, ksize, strides, padding, data_format):
    nhwc = _sizes_nhwc(sizes, data_format)
    g = _to_nhwc(xp, g, data_format)
    win = _pool_window(nhwc, ksize, strides, padding, data_format)
    win.check_out(g, "grad")
    share = g / _window_counts(xp, win, nhwc[1:3], g.dtype)
    dx = win.padded_zeros(xp, nhwc, g.dtype)
    for idx in win.offsets():
        dx[idx] += share
    return _from_nhwc(xp, win.crop(dx, nhwc), data_format)


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


def _shape_of(t):
    """``t``'s shape as an int32 tensor: a constant when static, else a Shape op."""
    if t.shape.is_fully_defined():
        return convert_to_tensor(list(t.shape.dims), dtypes.int32, name="shape")
    return array.shape(t, out_type=dtypes.int32)


def _attrs(op):
    return {k: v for k, v in op.attrs.items() if not k.startswith("_")}


@gradient("MaxPool")
def _max_pool_grad(op, grad):
    """dx = MaxPoolGrad(x, y, g): each window's g goes to its maximum."""
    inputs = [op.inputs[0], op.outputs[0], grad]
    return [apply_op("MaxPoolGrad", inputs, _attrs(op), name="MaxPoolGrad")]


@gradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    """d(g) = MaxPoolGradGrad(x, y, gg): gg read at each window's maximum."""
    inputs = [op.inputs[0], op.inputs[1], grad]
    return [None, None, apply_op("MaxPoolGradGrad", inputs, _attrs(op), name="MaxPoolGradGrad")]


@gradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    """d(gg) = MaxPoolGrad(x, y, ggg), the adjoint of picking maxima."""
    inputs = [op.inputs[0], op.inputs[1], grad]
    return [None, None, apply_op("MaxPoolGrad", inputs, _attrs(op), name="MaxPoolGrad")]


@gradient("AvgPool")
def _avg_pool_grad(op, grad):
    """dx = AvgPoolGrad(shape of x, g): each window's g spread evenly over it."""
    inputs = [_shape_of(op.inputs[0]), grad]
    return [apply_op("AvgPoolGrad", inputs, _attrs(op), name="AvgPoolGrad")]


@gradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    """AvgPoolGrad is linear in g: its adjoint is AvgPool(g)."""
    return [None, apply_op("AvgPool", [grad], _attrs(op), name="AvgPool")]


# ---- public functions -----------------------------------------------------------------------


def _four(value, what, data_format, default=None):
    """TF's 1-, 2- or 4-element strides/ksize/dilations (or an int) as a 4-tuple of ints."""
    if value is None:
        if default is None:
            raise ValueError(f"{what} is required")
        value = default
    if isinstance(value, numbers.Integral):
        value = [value]
    value = [int(v) for v in value]
    if len(value) == 1:
        value = value * 2
    if len(value) == 2:
        h, w = value
        value = [1, h, w, 1] if data_format == "NHWC" else [1, 1, h, w]
    return tuple(value)


def _conv_attrs(strides, padding, data_format, dilations):
    data_format = data_format or "NHWC"
    if not isinstance(padding, str):
        raise ValueError(f"padding must be 'SAME' or 'VALID', not {padding!r}")
    return {
        "strides": _four(strides, "strides", data_format),
        "padding": padding.upper(),
        "data_format": data_format,
        "dilations": _four(dilations, "dilations", data_format, default=1),
    }


def _is_python(value):
    return not hasattr(value, "dtype") and not hasattr(value, "_as_graph_tensor")


def _sizes_tensor(sizes):
    return convert_to_tensor(sizes, None if not _is_python(sizes) else dtypes.int32)


def _pool_attrs(ksize, strides, padding, data_format):
    data_format = data_format or "NHWC"
    attrs = _conv_attrs(strides, padding, data_format, None)
    del attrs["dilations"]
    attrs["ksize"] = _four(ksize, "ksize", data_format)
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
    inputs = [_sizes_tensor(orig_input_shape), convert_to_tensor(grad)]
    return apply_op("AvgPoolGrad", inputs, attrs, name=name or "AvgPoolGrad")
