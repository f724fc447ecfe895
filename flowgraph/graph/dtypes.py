"""Element types of graph tensors, spelled as in TensorFlow (``float32``, ``int64``, ``bool``).

A :class:`DType` names an element type; it maps to a NumPy dtype only so that values can be
converted when they enter the graph (constants, feeds). The graph itself never holds arrays.

>>> from flowgraph.graph.dtypes import as_dtype, float32
>>> as_dtype("float32") is float32
True
>>> float32.is_floating, float32.name
(True, 'float32')
"""

from __future__ import annotations

import numpy as np


class DType:
    """One element type. Instances are singletons: compare them with ``is`` or ``==``."""

    __slots__ = ("name", "kind", "size")

    def __init__(self, name: str, kind: str, size: int) -> None:
        self.name = name
        self.kind = kind  # "float", "int", "uint" or "bool"
        self.size = size  # bytes per element

    @property
    def is_floating(self) -> bool:
        return self.kind == "float"

    @property
    def is_integer(self) -> bool:
        return self.kind in ("int", "uint")

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"

    @property
    def is_numeric(self) -> bool:
        return self.kind != "bool"

    @property
    def as_numpy_dtype(self) -> np.dtype:
        return np.dtype(self.name)

    def __repr__(self) -> str:
        return f"flowgraph.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float16 = DType("float16", "float", 2)
float32 = DType("float32", "float", 4)
float64 = DType("float64", "float", 8)
int8 = DType("int8", "int", 1)
int16 = DType("int16", "int", 2)
int32 = DType("int32", "int", 4)
int64 = DType("int64", "int", 8)
uint8 = DType("uint8", "uint", 1)
bool_ = DType("bool", "bool", 1)

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_)
FLOAT_DTYPES = (float16, float32, float64)
INTEGER_DTYPES = (int8, int16, int32, int64, uint8)
_BY_NAME = {d.name: d for d in ALL_DTYPES}
_ALIASES = {"half": float16, "float": float32, "double": float64, "bool_": bool_}


def as_dtype(value) -> DType:
    """Convert a DType, a NumPy dtype / type, a Python type or a name to a :class:`DType`.

    >>> as_dtype(float).name, as_dtype(int).name, as_dtype("bool").name
    ('float32', 'int32', 'bool')
    """
    if isinstance(value, DType):
        return value
    # Python's own types follow TF's choice: float -> float32, int -> int32.
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if isinstance(value, str):  # the common case (graph files, attrs): no NumPy call
        found = _BY_NAME.get(value) or _ALIASES.get(value)
        if found is not None:
            return found
    try:
        name = np.dtype(value).name
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a flowgraph dtype") from None
    if name not in _BY_NAME:
        supported = ", ".join(_BY_NAME)
        raise TypeError(f"dtype {name!r} is not supported by flowgraph (supported: {supported})")
    return _BY_NAME[name]


def dtype_of_python_value(value) -> DType:
    """The dtype TF gives a Python or NumPy value converted without a hint.

    Python floats become float32 and ints int32 (TF's defaults); NumPy arrays keep their dtype
    (float64 stays float64, as in ``tf.constant(np.zeros(3))``).

    >>> dtype_of_python_value(1.5).name, dtype_of_python_value([1, 2]).name
    ('float32', 'int32')
    """
    if isinstance(value, (np.ndarray, np.generic)):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        return float32
    if arr.dtype.kind in "iu":
        return int32 if arr.size == 0 or _fits_int32(arr) else int64
    if arr.dtype.kind == "b":
        return bool_
    raise TypeError(f"Cannot convert {value!r} to a tensor: unsupported element type {arr.dtype}")


def _fits_int32(arr: np.ndarray) -> bool:
    info = np.iinfo(np.int32)
    return bool(arr.min() >= info.min and arr.max() <= info.max)
