"""Batch normalization (TF1's ``tf.layers.batch_normalization``).

While ``training`` the layer normalizes with the batch's mean and variance and its update ops
— in the ``UPDATE_OPS`` collection, which TF1 programs run with the train op through
``tf.control_dependencies(tf.get_collection(tf.GraphKeys.UPDATE_OPS))`` — move the moving
averages toward them (``moving = moving * momentum + batch * (1 - momentum)``); otherwise it
normalizes with the moving averages. ``training`` may be a bool tensor decided per run: the
update ops then leave the averages unchanged in runs that do not train.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 2])
...     y = batch_normalization(x, training=True)
...     updates = fg.get_collection(fg.GraphKeys.UPDATE_OPS)
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         out, _ = sess.run([y, updates], {x: [[1.0, 10.0], [3.0, 30.0]]})
...         print(out.round(2).tolist(), [v.op.name[20:] for v in fg.global_variables()])
[[-1.0, -1.0], [1.0, 1.0]] ['gamma', 'beta', 'moving_mean', 'moving_variance']
"""

from __future__ import annotations

from flowgraph.graph.graph import GraphKeys
from flowgraph.ops import math, nn, state
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import is_tensor_like, static_value
from flowgraph.ops.initializers import Ones, Zeros
from flowgraph.ops.variable_scope import get_variable, variable_scope

__all__ = ["batch_normalization"]


def _training_flag(training):
    """A Python bool when ``training`` is known when building, else the bool tensor."""
    if is_tensor_like(training):
        value = static_value(convert_to_tensor(training))
        return bool(value) if value is not None else convert_to_tensor(training)
    return bool(training)


def batch_normalization(
    inputs,
    axis=-1,
    momentum=0.99,
    epsilon=1e-3,
    center=True,
    scale=True,
    beta_initializer=None,
    gamma_initializer=None,
    moving_mean_initializer=None,
    moving_variance_initializer=None,
    beta_regularizer=None,
    gamma_regularizer=None,
    training=False,
    trainable=True,
    name=None,
    reuse=None,
    **_tf1_options,
):
    """``gamma * (inputs - mean) / sqrt(variance + epsilon) + beta`` over every axis but
    ``axis`` (the channels); ``mean``/``variance`` are the batch's while ``training``, else the
    moving averages. TF1's ``renorm``/``fused``/``virtual_batch_size`` options are accepted and
    change nothing; the moving variance is updated with the batch's (biased) variance.
    """
    x = convert_to_tensor(inputs)
    rank = x.shape.rank
    if rank is None:
        raise ValueError("batch_normalization needs inputs of known rank")
    channel_axis = axis % rank
    channels = x.shape.dims[channel_axis]
    if channels is None:
        raise ValueError(f"batch_normalization: the channel axis {axis} of {x.shape} is unknown")
    reduce_axes = [i for i in range(rank) if i != channel_axis]
    shape = [channels]
    training = _training_flag(training)
    with variable_scope(name, default_name="batch_normalization", reuse=reuse):
        gamma = beta = None
        if scale:
            gamma = get_variable(
                "gamma",
                shape,
                x.dtype,
                gamma_initializer or Ones(),
                regularizer=gamma_regularizer,
                trainable=trainable,
            )
        if center:
            beta = get_variable(
                "beta",
                shape,
                x.dtype,
                beta_initializer or Zeros(),
                regularizer=beta_regularizer,
                trainable=trainable,
            )
        moving_mean = get_variable(
            "moving_mean", shape, x.dtype, moving_mean_initializer or Zeros(), trainable=False
        )
        moving_variance = get_variable(
            "moving_variance",
            shape,
            x.dtype,
            moving_variance_initializer or Ones(),
            trainable=False,
        )
        if training is False:
            return nn.batch_normalization(x, moving_mean, moving_variance, beta, gamma, epsilon)
        batch_mean, batch_variance = nn.moments(x, reduce_axes)
        if training is True:
            mean, variance, decay = batch_mean, batch_variance, momentum
        else:
            mean = math.where(training, batch_mean, moving_mean)
            variance = math.where(training, batch_variance, moving_variance)
            decay = math.where(training, momentum, 1.0)  # not training: averages stay put
        for var, value in ((moving_mean, batch_mean), (moving_variance, batch_variance)):
            update = state.assign_sub(var, (var - value) * (1.0 - decay))
            x.graph.add_to_collection(GraphKeys.UPDATE_OPS, update)
        return nn.batch_normalization(x, mean, variance, beta, gamma, epsilon)
