"""Symbolic tensors: the outputs of graph operations.

A Tensor holds no value. It names one output of an :class:`~flowgraph.graph.Operation`
(``scope/op:0``), its dtype and its static shape. Python operators (``+``, ``@``, ``x[1:, None]``)
build new ops; the op library installs them (``flowgraph/ops/operators.py``), so that this
layer does not import the ops above it.
"""

from __future__ import annotations

from flowgraph.graph.default_stacks import get_default_session
from flowgraph.graph.dtypes import DType
from flowgraph.graph.shape import TensorShape


class Tensor:
    """One output of an Operation.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float32, [None, 3], name="x")
    ...     y = x * 2.0 + 1.0
    >>> x.name, str(y.shape), y.dtype.name
    ('x:0', '[?,3]', 'float32')
    """

    __slots__ = ("op", "value_index", "dtype", "_shape", "__weakref__")

    # Make NumPy defer to our operators in `ndarray + tensor`.
    __array_priority__ = 100

    def __init__(self, op, value_index: int, dtype: DType, shape: TensorShape) -> None:
        self.op = op
        self.value_index = value_index
        self.dtype = dtype
        self._shape = shape

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self):
        return self.op.graph

    @property
    def device(self) -> str:
        return self.op.device

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        """Refine the static shape (merge); ValueError if incompatible, as in TF."""
        self._shape = self._shape.merge_with(shape)

    @property
    def consumers(self) -> list:
        """The operations that take this tensor as an input."""
        return [op for op in self.op.graph.consumers_of(self)]

    def eval(self, feed_dict=None, session=None):
        """Run the graph up to this tensor in ``session`` or the default session."""
        session = session or get_default_session()
        if session is None:
            raise ValueError(
                f"Cannot evaluate tensor {self.name!r}: no default session. Use "
                "`with flowgraph.Session() as sess:` or pass session=."
            )
        return session.run(self, feed_dict=feed_dict)

    def __repr__(self) -> str:
        return f"<flowgraph.Tensor '{self.name}' shape={self._shape} dtype={self.dtype.name}>"

    # Identity hashing, done by C (tensors are dict keys all over graph building and
    # differentiation: a Python-level __hash__ cost ~0.3 us per lookup).
    __hash__ = object.__hash__

    # `==` stays identity (tensors are dict keys in feed_dicts, as in TF1); use flowgraph.equal.
    def __eq__(self, other) -> bool:
        return self is other

    def __bool__(self) -> bool:
        raise TypeError(
            f"Using the symbolic tensor {self.name!r} as a Python bool is not allowed: its value "
            "is only known when a Session runs it. Use flowgraph.cond / where for graph logic."
        )

    def __iter__(self):
        raise TypeError(
            f"Tensor {self.name!r} is not iterable in graph mode; use unstack or slicing."
        )
