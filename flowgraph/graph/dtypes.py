"""Element types of graph tensors, spelled as in TensorFlow (``float32``, ``int64``, ``bool``).

A :class:`DType` names an element type; it maps to a NumPy dtype only so that values can be
converted when they enter the graph (constants, feeds). The graph itself never holds arrays.

>>> from flowgraph.graph.dtypes import as_dtype, float32
>>> as_dtype("float32") is float32
True
>>> float32.is_floating, float32.name
(True, 'float32')

``string`` tensors hold byte strings (TF's ``tf.string``): their values are NumPy arrays of
dtype ``object`` whose elements are ``bytes``, and a scalar one is fetched as ``bytes``.

>>> as_dtype(bytes) is string, string.as_numpy_dtype
(True, dtype('O'))
"""

from __future__ import annotations

import numpy as np


class DType:
    """One element type. Instances are singletons: compare them with ``is`` or ``==``."""

    __slots__ = ("name", "kind", "size")

    def __init__(self, name: str, kind: str, size: int) -> None:
        self.name = name
        self.kind = kind  # "float", "int", "uint", "bool" or "string"
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
        return self.kind not in ("bool", "string")

    @property
    def is_string(self) -> bool:
        return self.kind == "string"

    @property
    def as_numpy_dtype(self) -> np.dtype:
        # Byte strings of any length live in object arrays (NumPy's "S" dtype pads and trims).
        return np.dtype(object) if self.kind == "string" else np.dtype(self.name)

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
string = DType("string", "string", 8)  # size: one reference per element

ALL_DTYPES = (float16, float32, float64, int8, int16, int32, int64, uint8, bool_, string)
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
    if isinstance(value, np.dtype):  # every constant's value: looked up, not re-derived
        found = _BY_NUMPY.get(value)
        if found is None:
            found = _BY_NUMPY[value] = _as_dtype(value)
        return found
    return _as_dtype(value)


_BY_NUMPY: dict = {}


def _as_dtype(value) -> DType:
    # Python's own types follow TF's choice: float -> float32, int -> int32.
    if value is float:
        return float32
    if value is int:
        return int32
    if value is bool:
        return bool_
    if value in (bytes, str):
        return string
    if isinstance(value, str) and value in _ALIASES:
        return _ALIASES[value]
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    try:
        np_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a flowgraph dtype") from None
    if np_dtype.kind in "OSU":  # object arrays of bytes, np.bytes_, np.str_
        return string
    name = np_dtype.name
    if name not in _BY_NAME:
        supported = ", ".join(_BY_NAME)
        raise TypeError(f"dtype {name!r} is not supported by flowgraph (supported: {supported})")
    return _BY_NAME[name]


def dtype_of_python_value(value) -> DType:
    """The dtype TF gives a Python or NumPy value converted without a hint.

    Python floats become float32 and ints int32 (TF's defaults); NumPy arrays keep their dtype
    (float64 stays float64, as in ``tf.constant(np.zeros(3))``).

    >>> dtype_of_python_value(1.5).name, dtype_of_python_value([b"a", "b"]).name
    ('float32', 'string')
    """
    if isinstance(value, (np.ndarray, np.generic)):
        if value.dtype == object and not is_string_array(value):
            raise TypeError(f"Cannot convert {value!r} to a tensor: elements are not strings")
        return as_dtype(value.dtype)
    if isinstance(value, (bytes, str)):
        return string
    arr = np.asarray(value)
    if arr.dtype.kind in "SU" or (arr.dtype == object and is_string_array(arr)):
        return string
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


def is_string_array(array: np.ndarray) -> bool:
    """Whether every element of ``array`` is ``bytes`` or ``str``."""
    return all(isinstance(v, (bytes, str)) for v in np.asarray(array, dtype=object).flat)


def to_bytes_array(value) -> np.ndarray:
    """``value`` (bytes, str, or nested lists / arrays of them) as an object array of ``bytes``;
    ``str`` is encoded as UTF-8, as TF does. TypeError for anything else.

    >>> to_bytes_array([["a", b"b"]])
    array([[b'a', b'b']], dtype=object)
    """
    source = np.asarray(value, dtype=object) if not isinstance(value, np.ndarray) else value
    if source.dtype.kind in "SU":
        source = source.astype(object)
    out = np.empty(source.shape, dtype=object)
    flat = out.reshape(-1)
    for i, v in enumerate(source.flat):
        if isinstance(v, str):
            v = v.encode("utf-8")
        elif isinstance(v, (bytes, np.bytes_)):
            v = bytes(v)
        else:
            raise TypeError(f"Cannot convert {v!r} ({type(v).__name__}) to a string element")
        flat[i] = v
    return out
