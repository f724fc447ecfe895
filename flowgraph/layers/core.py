"""Core layers: ``dense`` (fully connected), ``flatten`` and ``dropout``."""

from __future__ import annotations

from math import prod

from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, control_flow, linalg, nn
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import is_tensor_like, static_value
from flowgraph.ops.initializers import Zeros
from flowgraph.ops.variable_scope import REGULARIZATION_LOSSES, get_variable, variable_scope

__all__ = ["dense", "dropout", "flatten"]

ZEROS = Zeros()  # the layers' default bias initializer, as TF1's


def check_unsupported(**kwargs) -> None:
    """TF1 arguments that flowgraph's layers do not implement must be left at None."""
    given = sorted(k for k, v in kwargs.items() if v is not None)
    if given:
        raise NotImplementedError(f"flowgraph layers do not support {', '.join(given)}")


def layer_weight(name, shape, dtype, initializer, regularizer, trainable):
    """A layer's kernel or bias: ``get_variable`` in the layer's scope."""
    return get_variable(
        name, shape, dtype, initializer=initializer, regularizer=regularizer, trainable=trainable
    )


def finish(outputs: Tensor, activation, activity_regularizer) -> Tensor:
    """Apply the layer's activation, and record its activity regularization loss."""
    if activation is not None:
        outputs = activation(outputs)
    if activity_regularizer is not None:
        loss = activity_regularizer(outputs)
        if loss is not None:
            outputs.graph.add_to_collection(REGULARIZATION_LOSSES, loss)
    return outputs


def dense(
    inputs,
    units,
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
    """``activation(inputs @ kernel + bias)`` with ``kernel`` ``[in, units]`` and ``bias``
    ``[units]``; inputs of rank > 2 are multiplied along their last axis.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 5, 3])
    ...     y = dense(x, 4, activation=fg.nn.relu, name="proj")
    ...     print(y.name, y.shape)
    proj/Relu:0 [?,5,4]
    """
    check_unsupported(kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
    inputs = convert_to_tensor(inputs)
    if inputs.shape.rank is None or inputs.shape[-1] is None:
        raise ValueError(
            f"The last dimension of the inputs to `Dense` should be defined. Found {inputs.shape}."
        )
    units = int(units)
    in_dim = inputs.shape[-1]
    with variable_scope(name, default_name="dense", reuse=reuse):
        kernel = layer_weight(
            "kernel",
            [in_dim, units],
            inputs.dtype,
            kernel_initializer,
            kernel_regularizer,
            trainable,
        )
        if inputs.shape.rank == 2:
            outputs = linalg.matmul(inputs, kernel)
        else:  # [..., in] -> [-1, in] -> matmul -> [..., units]
            flat = linalg.matmul(array.reshape(inputs, [-1, in_dim]), kernel)
            outputs = array.reshape(flat, _leading_dims(inputs) + [units])
        if use_bias:
            bias = layer_weight(
                "bias", [units], inputs.dtype, bias_initializer, bias_regularizer, trainable
            )
            outputs = nn.bias_add(outputs, bias)
        return finish(outputs, activation, activity_regularizer)


def _leading_dims(x) -> list:
    """``x``'s dims but the last, as reshape entries: ints where known, run-time sizes else."""
    dims = x.shape.dims[:-1]
    if None not in dims:
        return list(dims)
    runtime = array.shape(x)
    return [runtime[i] if d is None else d for i, d in enumerate(dims)]


def flatten(inputs, name=None, data_format="channels_last"):
    """``inputs`` reshaped to ``[batch, -1]`` (channels-first inputs are first moved to
    channels-last order, so both formats flatten alike).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     print(flatten(fg.placeholder(fg.float32, [None, 7, 7, 16])).shape)
    [?,784]
    """
    inputs = convert_to_tensor(inputs)
    with variable_scope(name, default_name="flatten"):
        rank = inputs.shape.rank
        if data_format == "channels_first" and rank is not None and rank > 2:
            inputs = array.transpose(inputs, [0] + list(range(2, rank)) + [1])
        if rank is not None and None not in inputs.shape.dims[1:]:
            return array.reshape(inputs, [-1, prod(inputs.shape.dims[1:])])
        batch = inputs.shape[0] if rank is not None and inputs.shape[0] is not None else None
        return array.reshape(inputs, [array.shape(inputs)[0] if batch is None else batch, -1])


def dropout(inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None):
    """Zero each element with probability ``rate`` and scale the rest by ``1 / (1 - rate)``
    while ``training`` (a Python bool, or a bool tensor such as a placeholder decided per
    run); otherwise pass ``inputs`` through unchanged.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     is_training = fg.placeholder_with_default(False, [])
    ...     y = dropout(fg.ones([1000]), rate=0.5, training=is_training)
    ...     sess = fg.Session()
    ...     kept = sess.run(y, {is_training: True})
    ...     print(sess.run(y).mean(), sorted(set(kept.tolist())), 400 < (kept > 0).sum() < 600)
    1.0 [0.0, 2.0] True
    """
    inputs = convert_to_tensor(inputs)
    with variable_scope(name, default_name="dropout"):
        if is_tensor_like(training):
            value = static_value(convert_to_tensor(training))
            if value is not None:
                training = bool(value)
        if not is_tensor_like(training):
            if not training:
                return array.identity(inputs)
            return nn.dropout(inputs, rate=rate, noise_shape=noise_shape, seed=seed)
        # Dropout inside the branch: the mask is drawn only in runs that train. It drops an
        # identity made inside the branch's graph: nn.dropout enters `x.graph.as_default()`,
        # and re-entering an outer graph from inside a branch upsets the default-graph stack.
        return control_flow.cond(
            training,
            lambda: nn.dropout(
                array.identity(inputs), rate=rate, noise_shape=noise_shape, seed=seed
            ),
            lambda: array.identity(inputs),
        )
