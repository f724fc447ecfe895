"""Pooling layers: ``max_pooling2d`` and ``average_pooling2d``."""

from __future__ import annotations

from flowgraph.layers.convolutional import normalize_tuple, op_data_format, spatial_four
from flowgraph.ops import nn
from flowgraph.ops.variable_scope import variable_scope

__all__ = ["average_pooling2d", "max_pooling2d"]


def _pool(pool_fn, default_name, inputs, pool_size, strides, padding, data_format, name):
    fmt = op_data_format(data_format)
    if padding.lower() not in ("valid", "same"):
        raise ValueError(f"padding must be 'valid' or 'same', not {padding!r}")
    with variable_scope(name, default_name=default_name):
        return pool_fn(
            inputs,
            ksize=spatial_four(normalize_tuple(pool_size, 2, "pool_size"), fmt),
            strides=spatial_four(normalize_tuple(strides, 2, "strides"), fmt),
            padding=padding.upper(),
            data_format=fmt,
        )


def max_pooling2d(
    inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None
):
    """The maximum over each ``pool_size`` window, moved by ``strides`` (ints or pairs).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(max_pooling2d(fg.placeholder(fg.float32, [None, 28, 28, 8]), 2, 2).shape)
    [?,14,14,8]
    """
    return _pool(
        nn.max_pool, "max_pooling2d", inputs, pool_size, strides, padding, data_format, name
    )


def average_pooling2d(
    inputs, pool_size, strides, padding="valid", data_format="channels_last", name=None
):
    """The mean over each ``pool_size`` window, moved by ``strides`` (ints or pairs)."""
    return _pool(
        nn.avg_pool, "average_pooling2d", inputs, pool_size, strides, padding, data_format, name
    )
