"""Exponential moving averages of variables and tensors (TF1's
``tf.train.ExponentialMovingAverage``).

``apply([v, ...])`` creates one shadow variable per input (``<name>/ExponentialMovingAverage``,
not trainable; a Variable's starts at its initial value, a tensor's at zero) and returns the op
that moves each shadow toward its input: ``shadow -= (1 - decay) * (shadow - value)``. With
``num_updates`` the decay is ``min(decay, (1 + num_updates) / (10 + num_updates))``, so early
averages follow quickly.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     w = fg.Variable(0.0, name="w")
...     ema = ExponentialMovingAverage(decay=0.5)
...     update = ema.apply([w])
...     with fg.Session() as sess:
...         _ = sess.run(fg.global_variables_initializer())
...         _ = sess.run(w.assign(4.0))
...         _ = sess.run(update)
...         print(sess.run(ema.average(w)), ema.average_name(w))
2.0 w/ExponentialMovingAverage
"""

from __future__ import annotations

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import array, math, ordering, state
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.variable_scope import root_graph

__all__ = ["ExponentialMovingAverage"]

MOVING_AVERAGE_VARIABLES = "moving_average_variables"  # TF1's GraphKeys name


def _op_name(value) -> str:
    ref = value._as_graph_tensor() if hasattr(value, "_as_graph_tensor") else value
    if not isinstance(ref, Tensor):
        raise TypeError(f"ExponentialMovingAverage: expected a Variable or Tensor, got {value!r}")
    return ref.op.name


class ExponentialMovingAverage:
    """Keeps moving averages of variables or tensors; see the module's description."""

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        if zero_debias:
            raise NotImplementedError("ExponentialMovingAverage: zero_debias is not supported")
        self._decay = decay
        self._num_updates = num_updates
        self._name = name
        self._averages: dict[str, state.Variable] = {}

    @property
    def name(self) -> str:
        """The suffix of the shadow variables' names."""
        return self._name

    def average_name(self, var) -> str:
        """The name of ``var``'s shadow variable (``<var's op name>/<name>``)."""
        return f"{_op_name(var)}/{self._name}"

    def average(self, var):
        """The shadow variable of ``var``, or None if :meth:`apply` did not see it."""
        return self._averages.get(_op_name(var))

    def _decay_tensor(self, dtype):
        decay = math.cast(convert_to_tensor(self._decay), dtype)
        if self._num_updates is None:
            return decay
        n = math.cast(convert_to_tensor(self._num_updates), dtype)
        return math.minimum(decay, (1.0 + n) / (10.0 + n))

    def apply(self, var_list=None):
        """Create shadows for ``var_list`` (default: the trainable variables) and return one
        op updating them all."""
        graph = get_default_graph()
        if var_list is None:
            var_list = graph.get_collection(GraphKeys.TRAINABLE_VARIABLES)
        updates = []
        for var in var_list:
            value = var if isinstance(var, state.Variable) else convert_to_tensor(var)
            if not value.dtype.is_floating:
                raise TypeError(
                    f"ExponentialMovingAverage: {_op_name(var)!r} has dtype {value.dtype.name}; "
                    "only floating-point values can be averaged"
                )
            key = _op_name(var)
            if key in self._averages:
                raise ValueError(f"ExponentialMovingAverage: {key!r} is already averaged")
            # Shadows live in the outermost graph, also when apply runs inside a cond branch
            # (the batch-norm-by-hand tutorials do): a branch only updates them.
            root = root_graph(graph)
            with root.as_default(), root.name_scope(None), root.control_dependencies(None):
                if isinstance(var, state.Variable):
                    start = var.initial_value
                    root.add_to_collection(MOVING_AVERAGE_VARIABLES, var)
                elif value.shape.is_fully_defined():  # not zeros_like: no feed to initialize
                    start = array.zeros(value.shape.as_list(), value.dtype)
                else:
                    raise ValueError(
                        f"ExponentialMovingAverage: the shape of {key!r} ({value.shape}) must "
                        "be fully known to create its average"
                    )
                shadow = state.Variable(start, trainable=False, name=f"{key}/{self._name}/")
            self._averages[key] = shadow
            decay = self._decay_tensor(value.dtype)
            updates.append(state.assign_sub(shadow, (shadow - value) * (1.0 - decay)))
        return ordering.group(*updates, name=self._name)

    def variables_to_restore(self, moving_avg_variables=None) -> dict:
        """``{name in a checkpoint: variable}`` that restores each averaged variable from its
        shadow's saved value (and every other global variable from its own), for evaluation
        with the averaged weights: ``tf.train.Saver(ema.variables_to_restore())``."""
        graph = root_graph(get_default_graph())
        averaged = {_op_name(v) for v in (moving_avg_variables or self._averages_of_variables())}
        shadows = {id(s) for s in self._averages.values()}
        restore = {}
        for var in graph.get_collection(GraphKeys.GLOBAL_VARIABLES):
            if id(var) in shadows:
                continue
            name = _op_name(var)
            restore[f"{name}/{self._name}" if name in averaged else name] = var
        return restore

    def _averages_of_variables(self):
        graph = root_graph(get_default_graph())
        return [
            v
            for v in graph.get_collection(MOVING_AVERAGE_VARIABLES)
            if _op_name(v) in self._averages
        ]
