"""Learning-rate schedules as graph ops of the global step (TF1's ``tf.train`` decay functions).

The result is a scalar tensor, recomputed in every run from the step's current value, that can
be passed to an optimizer as its learning rate.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     step = fg.placeholder(fg.int64, [])
...     lr = exponential_decay(0.1, step, decay_steps=10, decay_rate=0.5, staircase=True)
...     sess = fg.Session()
...     print([round(float(sess.run(lr, {step: s})), 6) for s in (0, 9, 10, 25)])
[0.1, 0.1, 0.05, 0.025]
"""

from __future__ import annotations

import numpy as np

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.dtypes import dtype_of_python_value
from flowgraph.ops import array, math
from flowgraph.ops.convert import convert_to_tensor, is_tensor_like


def _scope(name, default):
    return get_default_graph().name_scope(name or default)


def exponential_decay(
    learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False, name=None
):
    """``learning_rate * decay_rate ** (global_step / decay_steps)``; with ``staircase`` the
    exponent is the integer division ``global_step // decay_steps``, so the rate drops in steps.
    """
    if global_step is None:
        raise ValueError("global_step is required for exponential_decay.")
    with _scope(name, "ExponentialDecay") as scope:
        learning_rate = convert_to_tensor(learning_rate, name="learning_rate")
        dtype = learning_rate.dtype
        steps = math.cast(decay_steps, dtype)
        rate = math.cast(decay_rate, dtype)
        progress = math.cast(global_step, dtype)
        if staircase:
            exponent = math.floordiv(progress, steps)
        else:
            exponent = math.divide(progress, steps)
        return math.multiply(learning_rate, math.pow(rate, exponent), name=scope)


def piecewise_constant(x, boundaries, values, name=None):
    """``values[0]`` while ``x <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < x <= boundaries[i]``, and ``values[-1]`` once ``x > boundaries[-1]``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     step = fg.placeholder(fg.int64, [])
    ...     lr = piecewise_constant(step, [100, 110], [1.0, 0.5, 0.1])
    ...     sess = fg.Session()
    ...     print([round(float(sess.run(lr, {step: s})), 6) for s in (0, 100, 101, 110, 111)])
    [1.0, 1.0, 0.5, 0.5, 0.1]
    """
    if len(values) != len(boundaries) + 1:
        raise ValueError(
            f"The length of values ({len(values)}) must be one more than the length of "
            f"boundaries ({len(boundaries)})."
        )
    with _scope(name, "PiecewiseConstant") as scope:
        x = convert_to_tensor(x)
        bounds = [_boundary(b, x) for b in boundaries]
        values = _same_dtype(values)
        result = values[-1]
        # Build from the last interval inwards: the first boundary that x does not exceed wins.
        for i in reversed(range(len(bounds))):
            last = i == 0
            result = math.where(
                math.less_equal(x, bounds[i]), values[i], result, name=scope if last else None
            )
        if not bounds:
            result = array.identity(result, name=scope)
        return result


def _boundary(b, x):
    if not is_tensor_like(b):
        return convert_to_tensor(b, x.dtype)
    b = convert_to_tensor(b)
    if b.dtype is not x.dtype:
        if b.dtype.is_integer and x.dtype.is_integer:
            return math.cast(b, x.dtype)  # TF1 allows mixing int32 and int64 here
        raise ValueError(f"Boundary {b.name!r} has dtype {b.dtype.name}, but x is {x.dtype.name}")
    return b


def _same_dtype(values) -> list:
    tensors = [v for v in values if is_tensor_like(v)]
    if tensors:
        dtype = convert_to_tensor(tensors[0]).dtype
    else:  # all Python numbers: one dtype for all of them, float if any is a float
        dtype = dtype_of_python_value(np.asarray(values).tolist())
    out = [convert_to_tensor(v, dtype) if not is_tensor_like(v) else v for v in values]
    out = [convert_to_tensor(v) for v in out]
    if any(v.dtype is not dtype for v in out):
        raise ValueError(f"Values must all have the same dtype, got {[v.dtype.name for v in out]}")
    return out


def _decay_operands(learning_rate, global_step, decay_steps, what):
    if global_step is None:
        raise ValueError(f"global_step is required for {what}.")
    learning_rate = convert_to_tensor(learning_rate, name="learning_rate")
    dtype = learning_rate.dtype
    return learning_rate, math.cast(global_step, dtype), math.cast(decay_steps, dtype)


def _progress(step, steps, staircase):
    return math.floordiv(step, steps) if staircase else math.divide(step, steps)


def inverse_time_decay(
    learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False, name=None
):
    """``learning_rate / (1 + decay_rate * global_step / decay_steps)`` (the division an
    integer one with ``staircase``)."""
    with _scope(name, "InverseTimeDecay") as scope:
        lr, step, steps = _decay_operands(learning_rate, global_step, decay_steps, "decay")
        rate = math.cast(decay_rate, lr.dtype)
        denominator = 1.0 + rate * _progress(step, steps, staircase)
        return math.divide(lr, denominator, name=scope)


def natural_exp_decay(
    learning_rate, global_step, decay_steps, decay_rate, staircase: bool = False, name=None
):
    """``learning_rate * exp(-decay_rate * global_step / decay_steps)``."""
    with _scope(name, "NaturalExpDecay") as scope:
        lr, step, steps = _decay_operands(learning_rate, global_step, decay_steps, "decay")
        rate = math.cast(decay_rate, lr.dtype)
        return math.multiply(lr, math.exp(-rate * _progress(step, steps, staircase)), name=scope)


def polynomial_decay(
    learning_rate,
    global_step,
    decay_steps,
    end_learning_rate=0.0001,
    power=1.0,
    cycle: bool = False,
    name=None,
):
    """``(learning_rate - end) * (1 - step / decay_steps) ** power + end``, with the step held
    at ``decay_steps`` afterwards — or, with ``cycle``, ``decay_steps`` stretched to the next
    multiple of itself past the step, as TF1 does.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     step = fg.placeholder(fg.int64, [])
    ...     lr = polynomial_decay(1.0, step, 10, end_learning_rate=0.0)
    ...     print([round(float(fg.Session().run(lr, {step: s})), 3) for s in (0, 5, 20)])
    [1.0, 0.5, 0.0]
    """
    with _scope(name, "PolynomialDecay") as scope:
        lr, step, steps = _decay_operands(learning_rate, global_step, decay_steps, "decay")
        end = math.cast(end_learning_rate, lr.dtype)
        if cycle:  # steps * max(ceil(step / steps), 1); ceil(a / b) == -((-a) // b)
            multiplier = math.maximum(-math.floordiv(-step, steps), 1.0)
            steps = steps * multiplier
        else:
            step = math.minimum(step, steps)
        fraction = math.pow(1.0 - step / steps, math.cast(power, lr.dtype))
        return math.add((lr - end) * fraction, end, name=scope)


def cosine_decay(learning_rate, global_step, decay_steps, alpha=0.0, name=None):
    """``learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha)``,
    the step held at ``decay_steps`` afterwards."""
    with _scope(name, "CosineDecay") as scope:
        lr, step, steps = _decay_operands(learning_rate, global_step, decay_steps, "decay")
        step = math.minimum(step, steps)
        cosine = 0.5 * (1.0 + math.cos(np.pi * step / steps))
        alpha = math.cast(alpha, lr.dtype)
        return math.multiply(lr, (1.0 - alpha) * cosine + alpha, name=scope)


__all__ = [
    "cosine_decay",
    "exponential_decay",
    "inverse_time_decay",
    "natural_exp_decay",
    "piecewise_constant",
    "polynomial_decay",
]
