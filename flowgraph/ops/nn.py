"""The ``tf.nn`` namespace (``flowgraph.nn``), and the nn ops that belong to no other family:
``bias_add``, ``dropout``, ``moments`` and ``l2_normalize``.

Activations and softmax live in :mod:`flowgraph.ops.activations`, the cross-entropies and
``l2_loss`` in :mod:`flowgraph.ops.losses`, convolution in :mod:`flowgraph.ops.conv` and pooling
in :mod:`flowgraph.ops.pooling`; all are re-exported here, with ``relu``, ``sigmoid`` and ``tanh``
from :mod:`flowgraph.ops.math`, as TF1's ``tf.nn`` does.

>>> import flowgraph as fg
>>> from flowgraph.ops import nn
>>> with fg.Graph().as_default():
...     logits = fg.constant([[0.0, 0.0], [1e4, -1e4]])
...     labels = fg.constant([[1.0, 0.0], [1.0, 0.0]])
...     loss = nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)
...     fg.Session().run(loss)
array([0.6931472, 0.       ], dtype=float32)
"""

from __future__ import annotations

import numbers

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.shape import TensorShape, broadcast_shapes
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math, random, reduce, rules
from flowgraph.ops.activations import (
    elu,
    leaky_relu,
    log_softmax,
    relu6,
    selu,
    softmax,
    softplus,
)
from flowgraph.ops.broadcast import broadcast_to_shape_of
from flowgraph.ops.conv import conv2d, conv2d_backprop_filter, conv2d_backprop_input
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.losses import (
    l2_loss,
    sigmoid_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits_v2,
    sparse_softmax_cross_entropy_with_logits,
)
from flowgraph.ops.math import relu, sigmoid, tanh
from flowgraph.ops.nd_indexing import top_k
from flowgraph.ops.pooling import avg_pool, max_pool
from flowgraph.ops.registry import apply_op, define_op, gradient
from flowgraph.ops.search import in_top_k
from flowgraph.ops.selection import embedding_lookup

__all__ = [
    "avg_pool",
    "batch_normalization",
    "bias_add",
    "conv2d",
    "conv2d_backprop_filter",
    "conv2d_backprop_input",
    "conv2d_transpose",
    "crelu",
    "dropout",
    "elu",
    "in_top_k",
    "l2_loss",
    "l2_normalize",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "normalize_moments",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "sigmoid_cross_entropy_with_logits",
    "softmax",
    "softmax_cross_entropy_with_logits",
    "softmax_cross_entropy_with_logits_v2",
    "softplus",
    "softsign",
    "swish",
    "sparse_softmax_cross_entropy_with_logits",
    "tanh",
    "weighted_cross_entropy_with_logits",
    "xw_plus_b",
    "zero_fraction",
    "embedding_lookup",
    "top_k",
]

_MASK64 = (1 << 64) - 1  # NumPy seed sequences take non-negative entropy; TF seeds are int64


# ---- bias_add ---------------------------------------------------------------------------


def _channel_axis(rank, data_format):
    return 1 if data_format.startswith("NC") and rank > 2 else rank - 1


def _bias_add_infer(inputs, attrs):
    value, bias = inputs
    rules.same_dtypes(inputs, ("value", "bias"))
    rules.require_kind(value, "numeric", "value")
    rules.require_rank(bias, 1, "bias")
    if attrs["data_format"] not in ("NHWC", "NCHW", "N...C", "NC..."):
        raise ShapeError(f"data_format must be 'NHWC' or 'NCHW', not {attrs['data_format']!r}")
    rank = value.shape.rank
    if rank is None:
        return [(value.dtype, value.shape)]
    if rank < 2:
        raise ShapeError(f"value must have rank at least 2, but has shape {value.shape}")
    channels = value.shape[_channel_axis(rank, attrs["data_format"])]
    if channels is not None and bias.shape[0] is not None and channels != bias.shape[0]:
        raise ShapeError(
            f"bias of shape {bias.shape} must match the channel dimension ({channels}) of "
            f"value's shape {value.shape} ({attrs['data_format']})"
        )
    return [(value.dtype, value.shape)]


def _bias_shape(rank, data_format):
    if _channel_axis(rank, data_format) == rank - 1:
        return (-1,)
    return (-1,) + (1,) * (rank - 2)


def _bias_add_kernel(xp, value, bias, *, data_format):
    return value + xp.reshape(bias, _bias_shape(value.ndim, data_format))


def _bias_add_grad_kernel(xp, grad, *, data_format):
    axis = _channel_axis(grad.ndim, data_format)
    axes = tuple(i for i in range(grad.ndim) if i != axis)
    return xp.sum(grad, axis=axes, dtype=grad.dtype)


def _bias_add_grad_infer(inputs, attrs):
    g = inputs[0]
    if g.shape.rank is None:
        return [(g.dtype, TensorShape([None]))]
    return [(g.dtype, TensorShape([g.shape[_channel_axis(g.shape.rank, attrs["data_format"])]]))]


define_op(
    "BiasAdd",
    _bias_add_infer,
    kernel=_bias_add_kernel,
    attrs={"data_format": "NHWC"},
    fresh_output=True,
    specs_only_infer=True,
)
define_op(
    "BiasAddGrad",
    _bias_add_grad_infer,
    kernel=_bias_add_grad_kernel,
    attrs={"data_format": "NHWC"},
    specs_only_infer=True,
)


@gradient("BiasAdd")
def _bias_add_grad(op, grad):
    """dvalue = g; dbias = BiasAddGrad(g): g summed over all but the channel axis."""
    fmt = op.attrs["data_format"]
    return [grad, apply_op("BiasAddGrad", [grad], {"data_format": fmt}, name="BiasAddGrad")]


@gradient("BiasAddGrad")
def _bias_add_grad_grad(op, grad):
    """d(g) = gg broadcast back over the summed axes."""
    like = op.inputs[0]
    rank = like.shape.rank
    if rank is None or _channel_axis(rank, op.attrs["data_format"]) == rank - 1:
        return [broadcast_to_shape_of(grad, like)]
    return [broadcast_to_shape_of(array.reshape(grad, _bias_shape(rank, "NCHW")), like)]


def bias_add(value, bias, data_format=None, name=None):
    """``value + bias`` with the 1-D ``bias`` added along the channel axis: the last one
    (``"NHWC"``, the default) or the second (``"NCHW"``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(bias_add(fg.zeros([2, 3]), fg.constant([1.0, 2.0, 3.0])))
    array([[1., 2., 3.],
           [1., 2., 3.]], dtype=float32)
    """
    value = convert_to_tensor(value)
    bias = convert_to_tensor(bias, None if isinstance(bias, Tensor) else value.dtype)
    attrs = {"data_format": data_format or "NHWC"}
    return apply_op("BiasAdd", [value, bias], attrs, name=name or "BiasAdd")


# ---- dropout ----------------------------------------------------------------------------


def _dropout_mask_infer(inputs, attrs):
    x, keep_prob = inputs
    rules.require_kind(x, "float", "x")
    rules.same_dtypes(inputs, ("x", "keep_prob"))
    rules.require_rank(keep_prob, 0, "keep_prob")
    noise_shape = attrs["noise_shape"]
    if noise_shape is None:
        return [(x.dtype, x.shape)]
    if x.shape.rank is not None and len(noise_shape) == x.shape.rank:
        noise_shape = [n if n is not None else d for n, d in zip(noise_shape, x.shape.dims)]
    shape = TensorShape(noise_shape)
    try:
        broadcast_shapes(x.shape, shape)
    except ValueError:
        raise ShapeError(f"noise_shape {shape} does not broadcast to x's shape {x.shape}") from None
    return [(x.dtype, shape)]


def _dropout_mask_kernel(ctx, x, keep_prob, *, noise_shape, seed, seed2, key):
    xp = ctx.xp
    keep = float(keep_prob)
    if not 0.0 < keep <= 1.0:
        raise InvalidArgumentError(
            message=f"dropout: rate must be in the range [0, 1), got {1.0 - keep:g}"
        )
    shape = tuple(x.shape)
    if noise_shape is not None:
        if None in noise_shape and len(noise_shape) != x.ndim:
            raise ValueError(f"noise_shape {noise_shape} has unknown dimensions but not x's rank")
        shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    # One generator per op, kept by the session (see ops/random.py for the seeding rules).
    seeds = None if seed is None else (seed & _MASK64, seed2 & _MASK64)
    generator = ctx.generator_for(key, seeds)
    draw = "float64" if x.dtype == xp.float64 else "float32"
    uniform = xp.asarray(generator.random(shape, dtype=draw))
    scale = xp.asarray(1.0 / keep, dtype=x.dtype)
    return xp.where(uniform < keep, scale, xp.zeros_like(scale))


define_op(
    "DropoutMask",
    _dropout_mask_infer,
    kernel=_dropout_mask_kernel,
    attrs={"noise_shape": None, "seed": None, "seed2": None, "key": ""},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def _keep_probability(x, keep_prob, rate):
    """keep_prob as a tensor of x's dtype, or None for "keep everything"."""
    if (keep_prob is None) == (rate is None):
        raise ValueError("dropout: give exactly one of keep_prob and rate")
    given, name = (rate, "rate") if rate is not None else (keep_prob, "keep_prob")
    if isinstance(given, numbers.Real):
        value = float(given)
        if rate is not None and not 0.0 <= value < 1.0:
            raise ValueError(f"dropout: rate must be a float in the range [0, 1), got {value}")
        if keep_prob is not None and not 0.0 < value <= 1.0:
            raise ValueError(f"dropout: keep_prob must be in the range (0, 1], got {value}")
        keep = 1.0 - value if rate is not None else value
        return None if keep == 1.0 else convert_to_tensor(keep, x.dtype, name="keep_prob")
    given = convert_to_tensor(given, x.dtype, name=name)
    return math.subtract(1.0, given, name="keep_prob") if rate is not None else given


def dropout(x, keep_prob=None, noise_shape=None, seed=None, name=None, rate=None):
    """Zero each element with probability ``rate = 1 - keep_prob`` and scale the rest by
    ``1 / keep_prob``; the gradient uses the same mask. Give exactly one of ``keep_prob`` and
    ``rate`` (a number or a scalar tensor, such as a placeholder fed 1.0 for evaluation).

    ``noise_shape`` (broadcastable to x's shape; ``None`` entries take x's dimension) shares
    one keep/drop decision along the dimensions where it is 1.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     y = dropout(fg.ones([2, 4]), rate=0.5, seed=1)
    ...     sorted(set(fg.Session().run(y).ravel().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    """
    x = convert_to_tensor(x)
    keep = _keep_probability(x, keep_prob, rate)
    if keep is None:
        return x
    if noise_shape is not None:
        noise_shape = tuple(None if d is None else int(d) for d in noise_shape)
    name = name or "dropout"
    with x.graph.as_default():
        graph_seed, op_seed = random.get_seed(seed)
    attrs = {"noise_shape": noise_shape, "seed": graph_seed, "seed2": op_seed}
    mask = apply_op(
        "DropoutMask",
        [x, keep],
        attrs,
        name=name,
        # the session keys the op's generator by its (unique) name
        attrs_at_creation=lambda graph, index, unique_name: {"key": unique_name},
    )
    return math.multiply(x, mask, name=name + "_mul")


# ---- moments, l2_normalize (built from other ops: no new op types) ------------------------


def moments(x, axes, shift=None, name=None, keep_dims=None, keepdims=None):
    """Mean and variance of ``x`` over ``axes`` (``shift`` is accepted and unused, as in TF).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     mean, var = moments(fg.constant([[1.0, 2.0], [3.0, 6.0]]), axes=[0])
    ...     fg.Session().run([mean, var])
    [array([2., 4.], dtype=float32), array([1., 4.], dtype=float32)]
    """
    if keep_dims is not None:
        if keepdims is not None:
            raise ValueError("moments: cannot specify both 'keepdims' and 'keep_dims'")
        keepdims = keep_dims
    keepdims = bool(keepdims)
    x = convert_to_tensor(x)
    axes = list(axes) if isinstance(axes, (list, tuple)) else [axes]
    with x.graph.name_scope(name or "moments"):
        mean = reduce.reduce_mean(x, axes, keepdims=True, name="mean")
        # The variance's gradient through the mean is zero: sum(x - mean) == 0.
        centered = math.squared_difference(x, array.stop_gradient(mean))
        variance = reduce.reduce_mean(centered, axes, keepdims=keepdims, name="variance")
        if not keepdims:
            mean = reduce.reduce_mean(x, axes, keepdims=False, name="mean")
    return mean, variance


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """``x / sqrt(max(sum(x ** 2, axis), epsilon))`` (``axis=None``: over all elements).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(l2_normalize(fg.constant([[3.0, 4.0], [0.0, 0.0]]), axis=1))
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    if dim is not None:
        if axis is not None:
            raise ValueError("l2_normalize: cannot specify both 'axis' and 'dim'")
        axis = dim
    x = convert_to_tensor(x)
    with x.graph.name_scope(name or "l2_normalize"):
        square_sum = reduce.reduce_sum(math.square(x), axis, keepdims=True)
        inv_norm = math.rsqrt(math.maximum(square_sum, epsilon))
        return math.multiply(x, inv_norm)


# ---- formulas of TF1's tf.nn built from other ops ------------------------------------------


def xw_plus_b(x, weights, biases, name=None):
    """``matmul(x, weights) + biases`` (TF1's ``tf.nn.xw_plus_b``)."""
    from flowgraph.ops.linalg import matmul  # linalg sits beside nn in the op library

    return bias_add(matmul(x, weights), biases, name=name or "xw_plus_b")


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``scale * (x - mean) / sqrt(variance + variance_epsilon) + offset``; ``offset`` and
    ``scale`` may be None (TF1's ``tf.nn.batch_normalization``, usually after ``moments``).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.constant([[1.0], [3.0]])
    ...     mean, var = moments(x, [0])
    ...     fg.Session().run(batch_normalization(x, mean, var, None, None, 1e-12))
    array([[-1.],
           [ 1.]], dtype=float32)
    """
    x = convert_to_tensor(x)
    inv = math.rsqrt(convert_to_tensor(variance) + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    shift = -convert_to_tensor(mean) * inv
    if offset is not None:
        shift = shift + offset
    return math.add(x * inv, shift, name=name or "batchnorm")


def weighted_cross_entropy_with_logits(
    labels=None, logits=None, pos_weight=None, name=None, targets=None
):
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight``:
    ``labels * -log(sigmoid(logits)) * pos_weight + (1 - labels) * -log(1 - sigmoid(logits))``,
    computed stably as TF1 does."""
    labels = labels if labels is not None else targets
    if labels is None or logits is None or pos_weight is None:
        raise ValueError(
            "weighted_cross_entropy_with_logits: labels, logits and pos_weight are required"
        )
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels, logits.dtype)
    log_weight = 1.0 + (pos_weight - 1.0) * labels
    softplus_neg = math.log1p(math.exp(-math.abs(logits))) + math.relu(-logits)
    return math.add(
        (1.0 - labels) * logits, log_weight * softplus_neg, name=name or "logistic_loss"
    )


def conv2d_transpose(
    value=None,
    filter=None,
    output_shape=None,
    strides=None,
    padding="SAME",
    data_format="NHWC",
    name=None,
    input=None,
    filters=None,
    dilations=None,
):
    """The transpose (gradient) of ``conv2d``, used to upsample: ``value`` ``[batch, h, w,
    in]`` and ``filter`` ``[kh, kw, out, in]`` give ``output_shape`` (a list, or a 1-D int
    tensor such as ``tf.stack([tf.shape(x)[0], 14, 14, 32])``)."""
    value = value if value is not None else input
    filter = filter if filter is not None else filters
    if value is None or filter is None or output_shape is None:
        raise ValueError("conv2d_transpose: value, filter and output_shape are required")
    out = conv2d_backprop_input(
        output_shape,
        filter,
        value,
        strides=strides,
        padding=padding,
        data_format=data_format,
        dilations=dilations,
        name=name or "conv2d_transpose",
    )
    if isinstance(output_shape, (list, tuple)):
        out.set_shape(list(output_shape))
    return out


def swish(features, name=None):
    """``features * sigmoid(features)`` (TF1's ``tf.nn.swish``)."""
    x = convert_to_tensor(features)
    return math.multiply(x, math.sigmoid(x), name=name or "swish")


def softsign(features, name=None):
    """``features / (1 + |features|)``."""
    x = convert_to_tensor(features)
    return math.divide(x, 1.0 + math.abs(x), name=name or "Softsign")


def log_sigmoid(x, name=None):
    """``log(sigmoid(x))``, computed stably as ``-softplus(-x)``."""
    x = convert_to_tensor(x)
    return math.negative(softplus(-x), name=name or "LogSigmoid")


def crelu(features, axis=-1, name=None):
    """``concat([relu(x), relu(-x)], axis)``: twice the channels, keeping negative parts."""
    x = convert_to_tensor(features)
    return array.concat([relu(x), relu(-x)], axis, name=name or "CRelu")


def zero_fraction(value, name=None):
    """The fraction of ``value``'s elements that are zero (a float32 scalar), e.g. to watch
    how many ReLU units are dead."""
    x = convert_to_tensor(value)
    zero = math.cast(math.equal(x, array.zeros_like(x)), dtypes.float32)
    return reduce.reduce_mean(zero, name=name or "zero_fraction")


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """Mean and variance from sufficient statistics: ``mean = mean_ss / counts (+ shift)``,
    ``variance = variance_ss / counts - (mean_ss / counts) ** 2``."""
    divisor = 1.0 / convert_to_tensor(counts)
    shifted_mean = mean_ss * divisor
    mean = shifted_mean + shift if shift is not None else shifted_mean
    variance = variance_ss * divisor - shifted_mean * shifted_mean
    return array.identity(mean, name="mean"), array.identity(variance, name=name or "variance")
