"""2-D convolution and pooling, with their gradient ops, vectorized over pixels.

Kernels work in NHWC (an ``"NCHW"`` op transposes in and out). A convolution is an im2col
followed by one matrix product: the patches are gathered with one strided slice per kernel
offset (a loop over the ``kh * kw`` offsets, never over pixels), which works in any array
namespace. Padding follows TensorFlow exactly: ``"VALID"`` uses no padding and
``"SAME"`` gives ``ceil(in / stride)`` outputs, padding ``max((out - 1) * stride + k - in, 0)``
in total, the odd element at the end (bottom/right).

The backprop ops (``Conv2DBackpropInput``, ``Conv2DBackpropFilter``, ``MaxPoolGrad``,
``AvgPoolGrad``, ``MaxPoolGradGrad``) are ops of their own with gradient rules of their own, so
second derivatives through convolutions and pooling work.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     images = fg.placeholder(fg.float32, [None, 28, 28, 1])
...     h = conv2d(images, fg.zeros([5, 5, 1, 32]), strides=[1, 1, 1, 1], padding="SAME")
...     p = max_pool(h, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
...     print(h.shape, p.shape)
[?,28,28,32] [?,14,14,32]
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
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
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


def _conv_out_shape(in_shape, filter_shape, attrs):
    """NHWC-ordered output dims of a convolution (None where unknown)."""
    fmt = attrs["data_format"]
    n, h, w, c = _nhwc_dims(in_shape, fmt)
    kh, kw, ci, co = filter_shape.dims if filter_shape.rank is not None else (None,) * 4
    if c is not None and ci is not None and c != ci:
        raise ShapeError(
            f"input depth {c} does not match the filter's input depth {ci} (input shape "
            f"{in_shape}, filter shape {filter_shape}, {fmt}, filters are [height, width, "
            "in_channels, out_channels])"
        )
    strides, dilations = _spatial(attrs["strides"], fmt), _spatial(attrs["dilations"], fmt)
    oh = _output_and_pads(h, kh, strides[0], dilations[0], attrs["padding"])[0]
    ow = _output_and_pads(w, kw, strides[1], dilations[1], attrs["padding"])[0]
    return n, oh, ow, co


def _conv2d_infer(inputs, attrs):
    x, f = inputs
    _check_attrs(attrs, "dilations")
    rules.require_kind(x, "float", "input")
    rules.same_dtypes(inputs, ("input", "filter"))
    rules.require_rank(x, 4, "input")
    rules.require_rank(f, 4, "filter")
    dims = _conv_out_shape(x.shape, f.shape, attrs)
    return [(x.dtype, _from_nhwc_dims(dims, attrs["data_format"]))]


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


def _backprop_input_infer(inputs, attrs):
    sizes, f, dy = inputs
    _check_attrs(attrs, "dilations")
    rules.same_dtypes([f, dy], ("filter", "out_backprop"))
    rules.require_rank(f, 4, "filter")
    rules.require_rank(dy, 4, "out_backprop")
    shape = _static_sizes(sizes)
    _check_backprop(shape, f.shape, dy.shape, attrs)
    return [(f.dtype, shape)]


def _backprop_filter_infer(inputs, attrs):
    x, sizes, dy = inputs
    _check_attrs(attrs, "dilations")
    rules.same_dtypes([x, dy], ("input", "out_backprop"))
    rules.require_rank(x, 4, "input")
    rules.require_rank(dy, 4, "out_backprop")
    shape = _static_sizes(sizes)
    _check_backprop(x.shape, shape, dy.shape, attrs)
    return [(x.dtype, shape)]


def _check_backprop(in_shape, filter_shape, dy_shape, attrs):
    expected = _from_nhwc_dims(_conv_out_shape(in_shape, filter_shape, attrs), attrs["data_format"])
    if not expected.is_compatible_with(dy_shape):
        raise ShapeError(
            f"out_backprop has shape {dy_shape}, but convolving an input of shape {in_shape} with "
            f"a filter of shape {filter_shape} gives {expected}"
        )


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


def _conv_window(in_nhwc, filter_hw, strides, padding, data_format, dilations):
    fmt = data_format
    return _Window.make(
        in_nhwc[1:3], filter_hw, _spatial(strides, fmt), _spatial(dilations, fmt), padding
    )


def _im2col(xp, x, win):
    """[N*OH*OW, KH*KW*C] patches of NHWC ``x``, ordered like an HWIO filter's rows."""
    padded = win.pad(xp, x)
    patches = xp.stack([padded[idx] for idx in win.offsets()], axis=3)
    n, c = x.shape[0], x.shape[3]
    (oh, ow), (kh, kw) = win.out, win.kernel
    return xp.reshape(patches, (n * oh * ow, kh * kw * c))


def _conv2d_kernel(xp, x, f, *, strides, padding, data_format, dilations):
    x = _to_nhwc(xp, x, data_format)
    win = _conv_window(x.shape, f.shape[:2], strides, padding, data_format, dilations)
    cols = _im2col(xp, x, win)
    y = xp.matmul(cols, xp.reshape(f, (-1, f.shape[3])))
    return _from_nhwc(xp, xp.reshape(y, (x.shape[0], *win.out, f.shape[3])), data_format)


def _backprop_input_kernel(xp, sizes, f, dy, *, strides, padding, data_format, dilations):
    nhwc = _sizes_nhwc(sizes, data_format)
    dy = _to_nhwc(xp, dy, data_format)
    win = _conv_window(nhwc, f.shape[:2], strides, padding, data_format, dilations)
    win.check_out(dy, "out_backprop")
    kh, kw, ci, co = f.shape
    dcols = xp.matmul(xp.reshape(dy, (-1, co)), xp.reshape(f, (-1, co)).T)
    dcols = xp.reshape(dcols, (nhwc[0], *win.out, kh * kw, ci))
    dx = win.padded_zeros(xp, nhwc, f.dtype)
    for k, idx in enumerate(win.offsets()):
        dx[idx] += dcols[:, :, :, k, :]
    return _from_nhwc(xp, win.crop(dx, nhwc), data_format)


def _backprop_filter_kernel(xp, x, sizes, dy, *, strides, padding, data_format, dilations):
    kh, kw, ci, co = (int(s) for s in sizes)
    x, dy = _to_nhwc(xp, x, data_format), _to_nhwc(xp, dy, data_format)
    win = _conv_window(x.shape, (kh, kw), strides, padding, data_format, dilations)
    win.check_out(dy, "out_backprop")
    cols = _im2col(xp, x, win)
    df = xp.matmul(cols.T, xp.reshape(dy, (-1, co)))
    return xp.reshape(df, (kh, kw, ci, co))


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


_CONV_ATTRS = {
    "strides": (1, 1, 1, 1),
    "padding": "VALID",
    "data_format": "NHWC",
    "dilations": (1, 1, 1, 1),
}
_POOL_ATTRS = {
    "ksize": (1, 1, 1, 1),
    "strides": (1, 1, 1, 1),
    "padding": "VALID",
    "data_format": "NHWC",
}
define_op("Conv2D", _conv2d_infer, kernel=_conv2d_kernel, attrs=_CONV_ATTRS)
define_op(
    "Conv2DBackpropInput", _backprop_input_infer, kernel=_backprop_input_kernel, attrs=_CONV_ATTRS
)
define_op(
    "Conv2DBackpropFilter",
    _backprop_filter_infer,
    kernel=_backprop_filter_kernel,
    attrs=_CONV_ATTRS,
)
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


@gradient("Conv2D")
def _conv2d_grad(op, grad):
    x, f = op.inputs
    attrs = _attrs(op)
    return [
        apply_op("Conv2DBackpropInput", [_shape_of(x), f, grad], attrs, name="Conv2DBackpropInput"),
        apply_op(
            "Conv2DBackpropFilter", [x, _shape_of(f), grad], attrs, name="Conv2DBackpropFilter"
        ),
    ]


@gradient("Conv2DBackpropInput")
def _backprop_input_grad(op, grad):
    _, f, dy = op.inputs
    attrs = _attrs(op)
    return [
        None,
        apply_op(
            "Conv2DBackpropFilter", [grad, _shape_of(f), dy], attrs, name="Conv2DBackpropFilter"
        ),
        apply_op("Conv2D", [grad, f], attrs, name="Conv2D"),
    ]


@gradient("Conv2DBackpropFilter")
def _backprop_filter_grad(op, grad):
    x, _, dy = op.inputs
    attrs = _attrs(op)
    return [
        apply_op(
            "Conv2DBackpropInput", [_shape_of(x), grad, dy], attrs, name="Conv2DBackpropInput"
        ),
        None,
        apply_op("Conv2D", [x, grad], attrs, name="Conv2D"),
    ]


@gradient("MaxPool")
def _max_pool_grad(op, grad):
    inputs = [op.inputs[0], op.outputs[0], grad]
    return [apply_op("MaxPoolGrad", inputs, _attrs(op), name="MaxPoolGrad")]


@gradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    inputs = [op.inputs[0], op.inputs[1], grad]
    return [None, None, apply_op("MaxPoolGradGrad", inputs, _attrs(op), name="MaxPoolGradGrad")]


@gradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    inputs = [op.inputs[0], op.inputs[1], grad]
    return [None, None, apply_op("MaxPoolGrad", inputs, _attrs(op), name="MaxPoolGrad")]


@gradient("AvgPool")
def _avg_pool_grad(op, grad):
    inputs = [_shape_of(op.inputs[0]), grad]
    return [apply_op("AvgPoolGrad", inputs, _attrs(op), name="AvgPoolGrad")]


@gradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
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


def conv2d(
    input,
    filter=None,
    strides=None,
    padding=None,
    use_cudnn_on_gpu=True,
    data_format="NHWC",
    dilations=None,
    name=None,
    filters=None,
):
    """2-D convolution (cross-correlation, as in TF) of ``input`` [N, H, W, C] with ``filter``
    [height, width, in_channels, out_channels]; ``padding`` is ``"SAME"`` or ``"VALID"``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.reshape(fg.range(16.0), [1, 4, 4, 1])
    ...     y = conv2d(x, fg.ones([2, 2, 1, 1]), strides=[1, 2, 2, 1], padding="VALID")
    ...     fg.Session().run(y)[0, :, :, 0]
    array([[10., 18.],
           [42., 50.]], dtype=float32)
    """
    if filters is not None:
        if filter is not None:
            raise ValueError("conv2d: give 'filter' or 'filters', not both")
        filter = filters
    x = convert_to_tensor(input)
    f = convert_to_tensor(filter, None if not _is_python(filter) else x.dtype)
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    return apply_op("Conv2D", [x, f], attrs, name=name or "Conv2D")


def _is_python(value):
    return not hasattr(value, "dtype") and not hasattr(value, "_as_graph_tensor")


def _sizes_tensor(sizes):
    return convert_to_tensor(sizes, None if not _is_python(sizes) else dtypes.int32)


def conv2d_backprop_input(
    input_sizes,
    filter=None,
    out_backprop=None,
    strides=None,
    padding=None,
    use_cudnn_on_gpu=True,
    data_format="NHWC",
    dilations=None,
    name=None,
    filters=None,
):
    """The gradient of :func:`conv2d` with respect to its input, of shape ``input_sizes``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     dx = conv2d_backprop_input([1, 3, 3, 1], fg.ones([2, 2, 1, 1]), fg.ones([1, 2, 2, 1]),
    ...                                strides=[1, 1, 1, 1], padding="VALID")
    ...     fg.Session().run(dx)[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """
    filter = filters if filter is None else filter
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    inputs = [
        _sizes_tensor(input_sizes),
        convert_to_tensor(filter),
        convert_to_tensor(out_backprop),
    ]
    return apply_op("Conv2DBackpropInput", inputs, attrs, name=name or "Conv2DBackpropInput")


def conv2d_backprop_filter(
    input,
    filter_sizes,
    out_backprop,
    strides,
    padding,
    use_cudnn_on_gpu=True,
    data_format="NHWC",
    dilations=None,
    name=None,
):
    """The gradient of :func:`conv2d` with respect to its filter, of shape ``filter_sizes``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     df = conv2d_backprop_filter(fg.ones([1, 3, 3, 1]), [2, 2, 1, 1], fg.ones([1, 2, 2, 1]),
    ...                                 strides=[1, 1, 1, 1], padding="VALID")
    ...     fg.Session().run(df)[:, :, 0, 0]
    array([[4., 4.],
           [4., 4.]], dtype=float32)
    """
    attrs = _conv_attrs(strides, padding, data_format, dilations)
    inputs = [
        convert_to_tensor(input),
        _sizes_tensor(filter_sizes),
        convert_to_tensor(out_backprop),
    ]
    return apply_op("Conv2DBackpropFilter", inputs, attrs, name=name or "Conv2DBackpropFilter")


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
