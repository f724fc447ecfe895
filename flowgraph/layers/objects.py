"""TF1's object-style layers (``tf.layers.Dense(10)``, then ``layer(x)``), on top of the
functional layers: the first call creates the layer's variables in its own variable scope
(``dense``, ``dense_1``, ... or ``name``); every later call reuses them.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     layer = Dense(3, activation=fg.nn.relu)
...     a, b = layer(fg.ones([2, 4])), layer(fg.zeros([5, 4]))
...     print(a.shape, b.shape, [v.op.name for v in layer.variables])
[2,3] [5,3] ['dense/kernel', 'dense/bias']
"""

from __future__ import annotations

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.graph import GraphKeys
from flowgraph.layers.convolutional import conv2d, conv2d_transpose
from flowgraph.layers.core import dense, dropout, flatten
from flowgraph.layers.normalization import batch_normalization
from flowgraph.layers.pooling import average_pooling2d, max_pooling2d
from flowgraph.ops.variable_scope import variable_scope

__all__ = [
    "AveragePooling2D",
    "BatchNormalization",
    "Conv2D",
    "Conv2DTranspose",
    "Dense",
    "Dropout",
    "Flatten",
    "Layer",
    "MaxPooling2D",
]


class Layer:
    """A functional layer bound to its arguments and, after the first call, its variables."""

    _function = None  # the functional layer this class calls
    _default_name = "layer"
    _call_arguments: tuple[str, ...] = ()  # per-call keywords (``training``)

    def __init__(self, *args, name=None, **kwargs):
        self.name = name
        self._args, self._kwargs = args, kwargs
        self._scope = None
        self.variables: list = []

    def __call__(self, inputs, **call_kwargs):
        unknown = set(call_kwargs) - set(self._call_arguments)
        if unknown:
            raise TypeError(f"{type(self).__name__}() call got unexpected {sorted(unknown)}")
        kwargs = dict(self._kwargs, **call_kwargs)
        if self._scope is None:
            with variable_scope(self.name, default_name=self._default_name) as scope:
                pass  # reserves the layer's (unique) scope name; the function re-enters it
            self._scope = scope
            graph = get_default_graph()
            before = {id(v) for v in graph.get_collection(GraphKeys.GLOBAL_VARIABLES)}
            out = type(self)._function(inputs, *self._args, name=scope, **kwargs)
            new = graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
            self.variables = [v for v in new if id(v) not in before]
            return out
        return type(self)._function(inputs, *self._args, name=self._scope, reuse=True, **kwargs)

    @property
    def trainable_variables(self) -> list:
        """The layer's trainable variables (after its first call)."""
        return [v for v in self.variables if getattr(v, "trainable", True)]


def _layer(function, default_name, call_arguments=(), doc=""):
    cls = type(
        "".join(p.capitalize() for p in default_name.split("_")),
        (Layer,),
        {
            "_function": staticmethod(function),
            "_default_name": default_name,
            "_call_arguments": call_arguments,
            "__doc__": doc,
        },
    )
    return cls


class _Stateless(Layer):
    """A layer without variables: each call just calls the function."""

    def __call__(self, inputs, **call_kwargs):
        kwargs = dict(self._kwargs, **call_kwargs)
        return type(self)._function(inputs, *self._args, name=self.name, **kwargs)


Dense = _layer(dense, "dense", doc="``tf.layers.Dense(units, ...)``: see ``tf.layers.dense``.")
Conv2D = _layer(conv2d, "conv2d", doc="``tf.layers.Conv2D(filters, kernel_size, ...)``.")
Conv2D.__name__ = "Conv2D"
Conv2DTranspose = _layer(
    conv2d_transpose, "conv2d_transpose", doc="``tf.layers.Conv2DTranspose(filters, ...)``."
)
Conv2DTranspose.__name__ = "Conv2DTranspose"
BatchNormalization = _layer(
    batch_normalization,
    "batch_normalization",
    ("training",),
    "``tf.layers.BatchNormalization(...)``, called as ``layer(x, training=...)``.",
)


class MaxPooling2D(_Stateless):
    """``tf.layers.MaxPooling2D(pool_size, strides, ...)``."""

    _function = staticmethod(max_pooling2d)


class AveragePooling2D(_Stateless):
    """``tf.layers.AveragePooling2D(pool_size, strides, ...)``."""

    _function = staticmethod(average_pooling2d)


class Flatten(_Stateless):
    """``tf.layers.Flatten()``."""

    _function = staticmethod(flatten)


class Dropout(_Stateless):
    """``tf.layers.Dropout(rate)``, called as ``layer(x, training=...)``."""

    _function = staticmethod(dropout)
