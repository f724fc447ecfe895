"""2-D convolution (``conv2d``) with its gradient ops, as an im2col and one matrix product.

Kernels work in NHWC (an ``"NCHW"`` op transposes in and out). A convolution is an im2col
followed by one matrix product: the patches are gathered with one strided slice per kernel
offset (a loop over the ``kh * kw`` offsets, never over pixels), which works in any array
namespace. The window geometry and TensorFlow's ``"SAME"``/``"VALID"`` padding arithmetic are
shared with pooling and live in :mod:`flowgraph.ops.pooling`.

The backprop ops (``Conv2DBackpropInput``, ``Conv2DBackpropFilter``) are ops of their own with
gradient rules of their own, so second derivatives through convolutions work.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     images = fg.placeholder(fg.float32, [None, 28, 28, 1])
...     h = conv2d(images, fg.zeros([5, 5, 1, 32]), strides=[1, 1, 1, 1], padding="SAME")
...     v = conv2d(images, fg.zeros([5, 5, 1, 32]), strides=[1, 2, 2, 1], padding="VALID")
...     print(h.shape, v.shape)
[?,28,28,32] [?,12,12,32]
"""

from __future__ import annotations

from flowgraph.errors import ShapeError
from flowgraph.ops import rules, windows
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.registry import apply_op, define_op, gradient

__all__ = [
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
]

# ---- shape rules --------------------------------------------------------------------------


def _conv_out_shape(in_shape, filter_shape, attrs):
    """NHWC-ordered output dims of a convolution (None where unknown)."""
    fmt = attrs["data_format"]
    n, h, w, c = windows.nhwc_dims(in_shape, fmt)
    kh, kw, ci, co = filter_shape.dims if filter_shape.rank is not None else (None,) * 4
    if c is not None and ci is not None and c != ci:
        raise ShapeError(
            f"input depth {c} does not match the filter's input depth {ci} (input shape "
            f"{in_shape}, filter shape {filter_shape}, {fmt}, filters are [height, width, "
            "in_channels, out_channels])"
        )
    strides, dilations = (
        windows.spatial(attrs["strides"], fmt),
        windows.spatial(attrs["dilations"], fmt),
    )
    oh = windows.output_and_pads(h, kh, strides[0], dilations[0], attrs["padding"])[0]
    ow = windows.output_and_pads(w, kw, strides[1], dilations[1], attrs["padding"])[0]
    return n, oh, ow, co


def _conv2d_infer(inputs, attrs):
    x, f = inputs
    windows.check_window_attrs(attrs, "dilations")
    rules.require_kind(x, "float", "input")
    rules.same_dtypes(inputs, ("input", "filter"))
    rules.require_rank(x, 4, "input")
    rules.require_rank(f, 4, "filter")
    dims = _conv_out_shape(x.shape, f.shape, attrs)
    return [(x.dtype, windows.from_nhwc_dims(dims, attrs["data_format"]))]


def _backprop_input_infer(inputs, attrs):
    sizes, f, dy = inputs
    windows.check_window_attrs(attrs, "dilations")
    rules.same_dtypes([f, dy], ("filter", "out_backprop"))
    rules.require_rank(f, 4, "filter")
    rules.require_rank(dy, 4, "out_backprop")
    shape = windows.static_sizes(sizes)
    _check_backprop(shape, f.shape, dy.shape, attrs)
    return [(f.dtype, shape)]


def _backprop_filter_infer(inputs, attrs):
    x, sizes, dy = inputs
    windows.check_window_attrs(attrs, "dilations")
    rules.same_dtypes([x, dy], ("input", "out_backprop"))
    rules.require_rank(x, 4, "input")
    rules.require_rank(dy, 4, "out_backprop")
    shape = windows.static_sizes(sizes)
    _check_backprop(x.shape, shape, dy.shape, attrs)
    return [(x.dtype, shape)]


def _check_backprop(in_shape, filter_shape, dy_shape, attrs):
    expected = windows.from_nhwc_dims(
        _conv_out_shape(in_shape, filter_shape, attrs), attrs["data_format"]
    )
    if not expected.is_compatible_with(dy_shape):
        raise ShapeError(
            f"out_backprop has shape {dy_shape}, but convolving an input of shape {in_shape} with "
            f"a filter of shape {filter_shape} gives {expected}"
        )


# ---- kernels (only through the array namespace ``xp``) ---------------------------------


def _conv_window(in_nhwc, filter_hw, strides, padding, data_format, dilations):
    fmt = data_format
    return windows.Window.make(
        in_nhwc[1:3],
        filter_hw,
        windows.spatial(strides, fmt),
        windows.spatial(dilations, fmt),
        padding,
    )


def _im2col(xp, x, win):
    """[N*OH*OW, KH*KW*C] patches of NHWC ``x``, ordered like an HWIO filter's rows."""
    padded = win.pad(xp, x)
    patches = xp.stack([padded[idx] for idx in win.offsets()], axis=3)
    n, c = x.shape[0], x.shape[3]
    (oh, ow), (kh, kw) = win.out, win.kernel
    return xp.reshape(patches, (n * oh * ow, kh * kw * c))


def _conv2d_kernel(xp, x, f, *, strides, padding, data_format, dilations):
    x = windows.to_nhwc(xp, x, data_format)
    win = _conv_window(x.shape, f.shape[:2], strides, padding, data_format, dilations)
    cols = _im2col(xp, x, win)
    y = xp.matmul(cols, xp.reshape(f, (-1, f.shape[3])))
    return windows.from_nhwc(xp, xp.reshape(y, (x.shape[0], *win.out, f.shape[3])), data_format)


def _backprop_input_kernel(xp, sizes, f, dy, *, strides, padding, data_format, dilations):
    nhwc = windows.sizes_nhwc(sizes, data_format)
    dy = windows.to_nhwc(xp, dy, data_format)
    win = _conv_window(nhwc, f.shape[:2], strides, padding, data_format, dilations)
    win.check_out(dy, "out_backprop")
    kh, kw, ci, co = f.shape
    dcols = xp.matmul(xp.reshape(dy, (-1, co)), xp.reshape(f, (-1, co)).T)
    dcols = xp.reshape(dcols, (nhwc[0], *win.out, kh * kw, ci))
    dx = win.padded_zeros(xp, nhwc, f.dtype)
    for k, idx in enumerate(win.offsets()):
        dx[idx] += dcols[:, :, :, k, :]
    return windows.from_nhwc(xp, win.crop(dx, nhwc), data_format)


def _backprop_filter_kernel(xp, x, sizes, dy, *, strides, padding, data_format, dilations):
    kh, kw, ci, co = (int(s) for s in sizes)
    x, dy = windows.to_nhwc(xp, x, data_format), windows.to_nhwc(xp, dy, data_format)
    win = _conv_window(x.shape, (kh, kw), strides, padding, data_format, dilations)
    win.check_out(dy, "out_backprop")
    cols = _im2col(xp, x, win)
    df = xp.matmul(cols.T, xp.reshape(dy, (-1, co)))
    return xp.reshape(df, (kh, kw, ci, co))


_CONV_ATTRS = {
    "strides": (1, 1, 1, 1),
    "padding": "VALID",
    "data_format": "NHWC",
    "dilations": (1, 1, 1, 1),
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


# ---- gradient rules (made of the ops above, so they can be differentiated again) ---------


@gradient("Conv2D")
def _conv2d_grad(op, grad):
    """dx = Conv2DBackpropInput(shape of x, f, g), df = Conv2DBackpropFilter(x, shape of f, g)."""
    x, f = op.inputs
    attrs = windows.op_window_attrs(op)
    return [
        apply_op(
            "Conv2DBackpropInput", [windows.shape_of(x), f, grad], attrs, name="Conv2DBackpropInput"
        ),
        apply_op(
            "Conv2DBackpropFilter",
            [x, windows.shape_of(f), grad],
            attrs,
            name="Conv2DBackpropFilter",
        ),
    ]


@gradient("Conv2DBackpropInput")
def _backprop_input_grad(op, grad):
    """Linear in f and dy: df = Conv2DBackpropFilter(gg, ., dy), ddy = Conv2D(gg, f)."""
    _, f, dy = op.inputs
    attrs = windows.op_window_attrs(op)
    return [
        None,
        apply_op(
            "Conv2DBackpropFilter",
            [grad, windows.shape_of(f), dy],
            attrs,
            name="Conv2DBackpropFilter",
        ),
        apply_op("Conv2D", [grad, f], attrs, name="Conv2D"),
    ]


@gradient("Conv2DBackpropFilter")
def _backprop_filter_grad(op, grad):
    """Linear in x and dy: dx = Conv2DBackpropInput(., gg, dy), ddy = Conv2D(x, gg)."""
    x, _, dy = op.inputs
    attrs = windows.op_window_attrs(op)
    return [
        apply_op(
            "Conv2DBackpropInput",
            [windows.shape_of(x), grad, dy],
            attrs,
            name="Conv2DBackpropInput",
        ),
        None,
        apply_op("Conv2D", [x, grad], attrs, name="Conv2D"),
    ]


# ---- public functions -----------------------------------------------------------------------


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
    f = convert_to_tensor(filter, None if not windows.is_python(filter) else x.dtype)
    attrs = windows.conv_attrs(strides, padding, data_format, dilations)
    return apply_op("Conv2D", [x, f], attrs, name=name or "Conv2D")


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
    attrs = windows.conv_attrs(strides, padding, data_format, dilations)
    inputs = [
        windows.sizes_tensor(input_sizes),
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
    attrs = windows.conv_attrs(strides, padding, data_format, dilations)
    inputs = [
        convert_to_tensor(input),
        windows.sizes_tensor(filter_sizes),
        convert_to_tensor(out_backprop),
    ]
    return apply_op("Conv2DBackpropFilter", inputs, attrs, name=name or "Conv2DBackpropFilter")
