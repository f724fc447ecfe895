"""Recurrent cells and their unrolling (TF1's ``tf.nn.rnn_cell`` and ``tf.nn.static_rnn`` /
``tf.nn.dynamic_rnn``), built from ops.

A cell maps ``(inputs, state)`` to ``(output, new_state)``; its variables are made on the first
call, in the variable scope the unrolling opens (``rnn/basic_lstm_cell/kernel``...), and shared
by every time step. ``dynamic_rnn`` unrolls over the time dimension, which must be known when
the graph is built (flowgraph unrolls statically instead of building a while loop); with
``sequence_length``, steps past an example's length keep its state and output zeros, as TF1.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 5, 3])
...     outputs, state = dynamic_rnn(BasicLSTMCell(4), x, dtype=fg.float32)
...     print(outputs.shape, state.h.shape, [v.op.name for v in fg.trainable_variables()])
[?,5,4] [?,4] ['rnn/basic_lstm_cell/kernel', 'rnn/basic_lstm_cell/bias']
"""

from __future__ import annotations

from collections import namedtuple

from flowgraph.graph import dtypes
from flowgraph.ops import array, linalg, math
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.initializers import Constant
from flowgraph.ops.variable_scope import get_variable, variable_scope

__all__ = [
    "BasicLSTMCell",
    "BasicRNNCell",
    "GRUCell",
    "LSTMCell",
    "LSTMStateTuple",
    "MultiRNNCell",
    "RNNCell",
    "dynamic_rnn",
    "static_rnn",
]

LSTMStateTuple = namedtuple("LSTMStateTuple", ["c", "h"])
LSTMStateTuple.__doc__ = "An LSTM's state: the cell ``c`` and the output ``h``, as in TF1."


class RNNCell:
    """The cell interface: ``state_size``, ``output_size``, ``zero_state`` and ``__call__``."""

    _default_name = "rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None):
        self.num_units = int(num_units)
        self._activation = activation or math.tanh
        self._name = name
        self._reuse = reuse
        self._built = False

    @property
    def output_size(self) -> int:
        """Units per output."""
        return self.num_units

    @property
    def state_size(self):
        """Units per state (an LSTM's is a pair)."""
        return self.num_units

    def zero_state(self, batch_like, dtype):
        """Zeros of the state's shape for the batch of ``batch_like`` (a [batch, ...] tensor)."""
        return _zeros(self.state_size, batch_like, dtype)

    def __call__(self, inputs, state, scope=None):
        reuse = True if self._built else self._reuse
        with variable_scope(scope or self._name or self._default_name, reuse=reuse):
            out = self._step(convert_to_tensor(inputs), state)
        self._built = True
        return out

    def _linear(self, name, args, units, bias_start=0.0):
        x = array.concat(list(args), 1)
        kernel = get_variable(f"{name}kernel", [x.shape.dims[1], units], x.dtype)
        bias = get_variable(f"{name}bias", [units], x.dtype, initializer=Constant(bias_start))
        return linalg.matmul(x, kernel) + bias


def _zeros(size, batch_like, dtype):
    if isinstance(size, tuple):
        return type(size)(*(_zeros(s, batch_like, dtype) for s in size))
    column = math.cast(array.zeros_like(batch_like[:, :1]), dtype)  # [batch, 1]
    return column * array.zeros([1, int(size)], dtype)


class BasicRNNCell(RNNCell):
    """``h' = activation(concat([x, h]) @ kernel + bias)``."""

    _default_name = "basic_rnn_cell"

    def _step(self, x, h):
        new = self._activation(self._linear("", [x, h], self.num_units))
        return new, new


class BasicLSTMCell(RNNCell):
    """TF1's LSTM without peepholes: gates ``i, j, f, o`` from one matmul, ``forget_bias``
    added to ``f``; the state is ``LSTMStateTuple(c, h)``."""

    _default_name = "basic_lstm_cell"

    def __init__(
        self,
        num_units,
        forget_bias=1.0,
        state_is_tuple=True,
        activation=None,
        reuse=None,
        name=None,
        **_,
    ):
        super().__init__(num_units, activation, reuse, name)
        if not state_is_tuple:
            raise NotImplementedError("LSTM cells here keep their state as a tuple")
        self._forget_bias = float(forget_bias)

    @property
    def state_size(self):
        return LSTMStateTuple(self.num_units, self.num_units)

    def _step(self, x, state):
        c, h = state
        gates = self._linear("", [x, h], 4 * self.num_units)
        i, j, f, o = array.split(gates, 4, axis=1)
        new_c = c * math.sigmoid(f + self._forget_bias) + math.sigmoid(i) * self._activation(j)
        new_h = self._activation(new_c) * math.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


class LSTMCell(BasicLSTMCell):
    """``tf.nn.rnn_cell.LSTMCell`` without peepholes or projections (as BasicLSTMCell)."""

    _default_name = "lstm_cell"

    def __init__(
        self,
        num_units,
        use_peepholes=False,
        num_proj=None,
        forget_bias=1.0,
        activation=None,
        reuse=None,
        name=None,
        **kwargs,
    ):
        if use_peepholes or num_proj:
            raise NotImplementedError("LSTMCell: peepholes and projections are not supported")
        super().__init__(num_units, forget_bias, activation=activation, reuse=reuse, name=name)


class GRUCell(RNNCell):
    """TF1's GRU: reset and update gates (bias starting at 1), then the candidate."""

    _default_name = "gru_cell"

    def _step(self, x, h):
        with variable_scope("gates"):
            gates = math.sigmoid(self._linear("", [x, h], 2 * self.num_units, bias_start=1.0))
        r, u = array.split(gates, 2, axis=1)
        with variable_scope("candidate"):
            candidate = self._activation(self._linear("", [x, r * h], self.num_units))
        new_h = u * h + (1.0 - u) * candidate
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Cells stacked: each one's output is the next one's input (``cell_0``, ``cell_1``...)."""

    _default_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple=True):
        super().__init__(cells[-1].output_size)
        self._cells = list(cells)

    @property
    def state_size(self):
        return tuple(c.state_size for c in self._cells)

    def zero_state(self, batch_like, dtype):
        return tuple(c.zero_state(batch_like, dtype) for c in self._cells)

    def _step(self, x, states):
        new_states = []
        for i, (cell, state) in enumerate(zip(self._cells, states)):
            with variable_scope(f"cell_{i}"):
                x, new = cell(x, state)
            new_states.append(new)
        return x, tuple(new_states)


def _select(mask, new, old):
    if isinstance(new, tuple):
        return type(new)(*(_select(mask, n, o) for n, o in zip(new, old)))
    return math.where(mask, new, old)


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Run ``cell`` over the list ``inputs`` (one ``[batch, features]`` tensor per step);
    returns ``(outputs list, final state)``."""
    inputs = [convert_to_tensor(x) for x in inputs]
    if not inputs:
        raise ValueError("static_rnn: inputs is an empty list")
    dtype = dtypes.as_dtype(dtype) if dtype is not None else inputs[0].dtype
    with variable_scope(scope, default_name="rnn"):
        state = initial_state if initial_state is not None else cell.zero_state(inputs[0], dtype)
        lengths = None if sequence_length is None else convert_to_tensor(sequence_length)
        outputs = []
        for t, x in enumerate(inputs):
            out, new_state = cell(x, state)
            if lengths is not None:
                alive = array.expand_dims(math.less(t, math.cast(lengths, dtypes.int32)), 1)
                out = math.where(alive, out, array.zeros_like(out))
                new_state = _select(alive, new_state, state)
            outputs.append(out)
            state = new_state
    return outputs, state


def dynamic_rnn(
    cell,
    inputs,
    sequence_length=None,
    initial_state=None,
    dtype=None,
    parallel_iterations=None,
    swap_memory=False,
    time_major=False,
    scope=None,
):
    """Run ``cell`` over ``inputs`` ``[batch, time, features]`` (``[time, batch, ...]`` with
    ``time_major``); returns ``(outputs [batch, time, units], final state)``."""
    inputs = convert_to_tensor(inputs)
    axis = 0 if time_major else 1
    if inputs.shape.rank != 3 or inputs.shape.dims[axis] is None:
        raise ValueError(
            f"dynamic_rnn unrolls the time dimension here, so it must be known when the graph "
            f"is built; got inputs of shape {inputs.shape}"
        )
    steps = array.unstack(inputs, axis=axis)
    outputs, state = static_rnn(cell, steps, initial_state, dtype, sequence_length, scope)
    return array.stack(outputs, axis=axis), state
