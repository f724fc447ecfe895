"""Convolution layers: ``conv2d``."""

from __future__ import annotations

from flowgraph.layers.core import ZEROS, check_unsupported, finish, layer_weight
from flowgraph.ops import array, nn
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.variable_scope import variable_scope

__all__ = ["conv2d", "conv2d_transpose", "normalize_tuple", "op_data_format", "spatial_four"]


def normalize_tuple(value, n: int, name: str) -> tuple[int, ...]:
    """An int or an ``n``-sequence of ints as an ``n``-tuple (``3`` -> ``(3, 3)``)."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers, got {value}")
    return value


def op_data_format(data_format: str) -> str:
    """Keras' ``channels_last`` / ``channels_first`` as the ops' ``NHWC`` / ``NCHW``."""
    formats = {"channels_last": "NHWC", "channels_first": "NCHW"}
    if data_format not in formats:
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first', not {data_format!r}"
        )
    return formats[data_format]


def spatial_four(pair, data_format: str) -> list[int]:
    """A (height, width) pair as the ops' 4-entry list in ``data_format`` (``NHWC``/``NCHW``)."""
    return [1, 1, *pair] if data_format == "NCHW" else [1, *pair, 1]


def _padding(padding: str) -> str:
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
    return padding.upper()


def conv2d(
    inputs,
    filters,
    kernel_size,
    strides=(1, 1),
    padding="valid",
    data_format="channels_last",
    dilation_rate=(1, 1),
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=ZEROS,
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    reuse=None,
):
    """A 2-D convolution layer: ``activation(conv2d(inputs, kernel) + bias)`` with ``kernel``
    ``[kh, kw, in_channels, filters]`` and ``bias`` ``[filters]``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 28, 28, 1])
    ...     y = conv2d(x, filters=4, kernel_size=(5, 5), strides=2)
    ...     print(y.shape, fg.trainable_variables()[0].shape)
    [?,12,12,4] [5,5,1,4]
    """
    check_unsupported(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    inputs = convert_to_tensor(inputs)
    fmt = op_data_format(data_format)
    if inputs.shape.rank != 4:
        raise ValueError(f"Input 0 of conv2d should have rank 4, found shape {inputs.shape}")
    channels = inputs.shape[1 if fmt == "NCHW" else -1]
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. Found `None`.")
    kh, kw = normalize_tuple(kernel_size, 2, "kernel_size")
    with variable_scope(name, default_name="conv2d", reuse=reuse):
        kernel = layer_weight(
            "kernel",
            [kh, kw, channels, int(filters)],
            inputs.dtype,
            kernel_initializer,
            kernel_regularizer,
            trainable,
        )
        outputs = nn.conv2d(
            inputs,
            kernel,
            strides=spatial_four(normalize_tuple(strides, 2, "strides"), fmt),
            padding=_padding(padding),
            data_format=fmt,
            dilations=spatial_four(normalize_tuple(dilation_rate, 2, "dilation_rate"), fmt),
        )
        if use_bias:
            bias = layer_weight(
                "bias", [int(filters)], inputs.dtype, bias_initializer, bias_regularizer, trainable
            )
            outputs = nn.bias_add(outputs, bias, data_format=fmt)
        return finish(outputs, activation, activity_regularizer)


def _transposed_size(size, kernel: int, stride: int, padding: str):
    if size is None:
        return None
    return size * stride if padding == "SAME" else (size - 1) * stride + kernel


def conv2d_transpose(
    inputs,
    filters,
    kernel_size,
    strides=(1, 1),
    padding="valid",
    data_format="channels_last",
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=ZEROS,
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    reuse=None,
):
    """A transposed 2-D convolution (upsampling) layer with ``kernel`` ``[kh, kw, filters,
    in_channels]``: ``same`` padding multiplies height and width by the strides, ``valid``
    gives ``(size - 1) * stride + kernel`` (channels_last only).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 7, 7, 8])
    ...     print(conv2d_transpose(x, 4, 5, strides=2, padding="same").shape)
    [?,14,14,4]
    """
    check_unsupported(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    if data_format != "channels_last":
        raise NotImplementedError("conv2d_transpose supports data_format='channels_last' only")
    inputs = convert_to_tensor(inputs)
    if inputs.shape.rank != 4 or inputs.shape[-1] is None:
        raise ValueError(
            f"Input 0 of conv2d_transpose should have rank 4 and known channels, found "
            f"shape {inputs.shape}"
        )
    kh, kw = normalize_tuple(kernel_size, 2, "kernel_size")
    sh, sw = normalize_tuple(strides, 2, "strides")
    pad = _padding(padding)
    _, height, width, channels = inputs.shape.dims
    out_h = _transposed_size(height, kh, sh, pad)
    out_w = _transposed_size(width, kw, sw, pad)
    if out_h is None or out_w is None:
        raise ValueError(f"conv2d_transpose needs a known height and width, got {inputs.shape}")
    with variable_scope(name, default_name="conv2d_transpose", reuse=reuse):
        kernel = layer_weight(
            "kernel",
            [kh, kw, int(filters), channels],
            inputs.dtype,
            kernel_initializer,
            kernel_regularizer,
            trainable,
        )
        batch = array.shape(inputs)[0]
        output_shape = array.stack([batch, out_h, out_w, int(filters)])
        outputs = nn.conv2d_transpose(
            inputs, kernel, output_shape, strides=[1, sh, sw, 1], padding=pad
        )
        outputs.set_shape([inputs.shape[0], out_h, out_w, int(filters)])
        if use_bias:
            bias = layer_weight(
                "bias", [int(filters)], inputs.dtype, bias_initializer, bias_regularizer, trainable
            )
            outputs = nn.bias_add(outputs, bias)
        return finish(outputs, activation, activity_regularizer)
