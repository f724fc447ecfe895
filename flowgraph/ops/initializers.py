"""Initializers: objects that build a variable's initial value, ``init(shape, dtype)``.

They are what :func:`~flowgraph.ops.variable_scope.get_variable` and the layers take as
``initializer=`` / ``kernel_initializer=``: calling one builds the ops computing a value of
``shape`` and ``dtype`` (a constant, or a random draw that runs each time the variable's
initializer runs). Names follow TF1's ``tf.initializers`` (classes, with lower-case aliases);
``compat.v1`` also spells them ``tf.zeros_initializer``, ``tf.glorot_uniform_initializer``, ...

>>> import flowgraph as fg
>>> from flowgraph.ops import initializers
>>> with fg.Graph().as_default():
...     w = initializers.glorot_uniform(seed=1)([784, 256])
...     b = initializers.constant(0.1)([3])
...     sess = fg.Session()
...     limit = (6 / (784 + 256)) ** 0.5  # Glorot's bound
...     print(w.shape, bool(abs(sess.run(w)).max() <= limit), sess.run(b))
[784,256] True [0.1 0.1 0.1]
"""

from __future__ import annotations

import math as _pymath

import numpy as np

from flowgraph.graph import dtypes
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import as_shape
from flowgraph.ops import random
from flowgraph.ops.creation import ones as _ones
from flowgraph.ops.creation import zeros as _zeros
from flowgraph.ops.state import constant as _constant

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "Initializer",
    "Ones",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "constant",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "ones",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "xavier_initializer",
    "zeros",
]

# The standard deviation of a unit normal truncated to [-2, 2]: a truncated draw is divided by
# it so that its variance is the one asked for (TF's VarianceScaling does the same).
_TRUNCATED_STDDEV = 0.87962566103423978


class Initializer:
    """Base class: ``init(shape, dtype=None, partition_info=None)`` returns a Tensor.

    ``dtype`` given at construction is the default for calls that pass none (TF1's rule).
    """

    def __init__(self, dtype=dtypes.float32) -> None:
        self.dtype = as_dtype(dtype)

    def __call__(self, shape, dtype=None, partition_info=None):
        dtype = self.dtype if dtype is None else as_dtype(dtype)
        return self._build(list(as_shape(shape).as_list()), dtype)

    def _build(self, shape: list, dtype):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"dtype": self.dtype.name}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """All zeros (TF1's ``zeros_initializer``)."""

    def _build(self, shape, dtype):
        return _zeros(shape, dtype=dtype, name="zeros")


class Ones(Initializer):
    """All ones (TF1's ``ones_initializer``)."""

    def _build(self, shape, dtype):
        return _ones(shape, dtype=dtype, name="ones")


class Constant(Initializer):
    """A fixed value: a scalar fills the shape; a list or array must have the shape's size
    (it is reshaped to it), as TF1's ``constant_initializer``."""

    def __init__(self, value=0, dtype=dtypes.float32, verify_shape: bool = False) -> None:
        super().__init__(dtype)
        self.value = value
        self.verify_shape = verify_shape

    def _build(self, shape, dtype):
        value = np.asarray(self.value)
        if self.verify_shape and list(value.shape) != shape:
            raise TypeError(f"Expected Tensor's shape: {tuple(shape)}, got {value.shape}.")
        return _constant(value.astype(dtype.as_numpy_dtype), shape=shape, name="Const")

    def get_config(self) -> dict:
        value = self.value.tolist() if hasattr(self.value, "tolist") else self.value
        return {"value": value, "dtype": self.dtype.name, "verify_shape": self.verify_shape}


class RandomNormal(Initializer):
    """Draws from ``N(mean, stddev**2)``."""

    def __init__(self, mean=0.0, stddev=1.0, seed=None, dtype=dtypes.float32) -> None:
        super().__init__(dtype)
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def _build(self, shape, dtype):
        return random.random_normal(shape, self.mean, self.stddev, dtype, seed=self.seed)

    def get_config(self) -> dict:
        config = {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}
        return {**config, "dtype": self.dtype.name}


class TruncatedNormal(RandomNormal):
    """Draws from ``N(mean, stddev**2)``, re-drawing values beyond two standard deviations."""

    def _build(self, shape, dtype):
        return random.truncated_normal(shape, self.mean, self.stddev, dtype, seed=self.seed)


class RandomUniform(Initializer):
    """Draws uniform in ``[minval, maxval)``; ``maxval=None`` means 1 for floats."""

    def __init__(self, minval=0, maxval=None, seed=None, dtype=dtypes.float32) -> None:
        super().__init__(dtype)
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def _build(self, shape, dtype):
        return random.random_uniform(shape, self.minval, self.maxval, dtype, seed=self.seed)

    def get_config(self) -> dict:
        config = {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}
        return {**config, "dtype": self.dtype.name}


def _fans(shape: list) -> tuple[float, float]:
    """(fan_in, fan_out) as TF computes them: a conv kernel [kh, kw, in, out] counts its
    receptive field, a vector counts its length both ways, a scalar counts 1."""
    if not shape:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = _pymath.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class VarianceScaling(Initializer):
    """Draws with variance ``scale / n``, ``n`` the fan-in, fan-out or their mean (``mode``).

    ``distribution`` is ``"truncated_normal"`` (alias ``"normal"``), ``"untruncated_normal"``
    or ``"uniform"`` (in ``[-limit, limit]``, ``limit = sqrt(3 * scale / n)``).
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("normal", "truncated_normal", "untruncated_normal", "uniform")

    def __init__(
        self,
        scale=1.0,
        mode="fan_in",
        distribution="truncated_normal",
        seed=None,
        dtype=dtypes.float32,
    ) -> None:
        super().__init__(dtype)
        if scale <= 0.0:
            raise ValueError(f"`scale` must be a positive float, got {scale}.")
        mode, distribution = mode.lower(), distribution.lower()
        if mode not in self._MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r}; expected one of {self._MODES}.")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution!r}; expected one of "
                f"{self._DISTRIBUTIONS}."
            )
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def _build(self, shape, dtype):
        fan_in, fan_out = _fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, n)
        if self.distribution in ("normal", "truncated_normal"):
            stddev = _pymath.sqrt(variance) / _TRUNCATED_STDDEV
            return random.truncated_normal(shape, 0.0, stddev, dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random.random_normal(shape, 0.0, _pymath.sqrt(variance), dtype, seed=self.seed)
        limit = _pymath.sqrt(3.0 * variance)
        return random.random_uniform(shape, -limit, limit, dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }


class GlorotUniform(VarianceScaling):
    """Glorot / Xavier uniform: limit ``sqrt(6 / (fan_in + fan_out))``. TF1's default for
    ``get_variable`` and the layers' kernels."""

    def __init__(self, seed=None, dtype=dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "uniform", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


class GlorotNormal(VarianceScaling):
    """Glorot / Xavier normal: truncated normal of stddev ``sqrt(2 / (fan_in + fan_out))``."""

    def __init__(self, seed=None, dtype=dtypes.float32) -> None:
        super().__init__(1.0, "fan_avg", "truncated_normal", seed, dtype)

    def get_config(self) -> dict:
        return {"seed": self.seed, "dtype": self.dtype.name}


# Lower-case spellings, as TF1's ``tf.initializers`` module has them (classes, called to make
# an initializer object: ``initializers.zeros()``).
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
truncated_normal = TruncatedNormal
random_uniform = RandomUniform
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal


def xavier_initializer(uniform: bool = True, seed=None, dtype=dtypes.float32) -> VarianceScaling:
    """``tf.contrib.layers.xavier_initializer``: Glorot uniform (normal if not ``uniform``)."""
    return GlorotUniform(seed, dtype) if uniform else GlorotNormal(seed, dtype)


def he_normal(seed=None) -> VarianceScaling:
    """He et al.: truncated normal of variance ``2 / fan_in`` (for ReLU layers)."""
    return VarianceScaling(2.0, "fan_in", "truncated_normal", seed)


def he_uniform(seed=None) -> VarianceScaling:
    """He et al.: uniform of variance ``2 / fan_in``."""
    return VarianceScaling(2.0, "fan_in", "uniform", seed)


def lecun_normal(seed=None) -> VarianceScaling:
    """LeCun: truncated normal of variance ``1 / fan_in`` (for SELU layers)."""
    return VarianceScaling(1.0, "fan_in", "truncated_normal", seed)


def lecun_uniform(seed=None) -> VarianceScaling:
    """LeCun: uniform of variance ``1 / fan_in``."""
    return VarianceScaling(1.0, "fan_in", "uniform", seed)


def get(identifier) -> Initializer | None:
    """An initializer object from one, from an initializer class, or from a name
    (``"glorot_uniform"``, ``"zeros"``); None stays None."""
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        found = globals().get(identifier)
        if found is not None and identifier in __all__:
            return found()
        raise ValueError(f"Unknown initializer name {identifier!r}")
    if callable(identifier):
        return identifier
    raise TypeError(f"Cannot interpret {identifier!r} as an initializer")
