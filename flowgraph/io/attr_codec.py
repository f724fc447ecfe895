"""Op attributes as tagged JSON values, for graph files: every value says what it is.

======================================  ==================================================
Python value                            JSON
======================================  ==================================================
``None``                                ``{"type": "none"}``
``True``                                ``{"type": "bool", "value": true}``
``3``                                   ``{"type": "int", "value": 3}``
``0.5`` (``nan``, ``inf``, ``-inf``)    ``{"type": "float", "value": 0.5}`` (``"nan"``, ...)
``"SAME"``                              ``{"type": "str", "value": "SAME"}``
``[1, 2]`` / ``(1, 2)``                 ``{"type": "list" / "tuple", "items": [...]}``
``{"a": 1}`` (string keys)              ``{"type": "dict", "items": {"a": ...}}``
``flowgraph.float32``                   ``{"type": "dtype", "name": "float32"}``
``TensorShape([None, 3])``              ``{"type": "shape", "dims": [null, 3]}`` (null: rank)
``np.array([[1, 2]], np.int32)``        ``{"type": "ndarray", "dtype": "int32", "shape": [1, 2],
                                        "data": <base64 of the raw little-endian bytes>}``
``np.float32(0.5)``                     ``{"type": "scalar", "dtype": "float32", "data": ...}``
a string tensor's value (bytes objects)  ``{"type": "strings", "shape": [2], "items": [<base64
                                        of each element's bytes>, ...]}``
a traced function (If / While)          ``{"type": "function", ...}`` (see graph_json.py)
======================================  ==================================================

Decoding never runs code from the file: it checks each value against its tag, refuses
unknown tags, object dtypes and arrays whose data does not match ``dtype`` x ``shape``, and
charges every array's bytes to a :class:`Budget`.

>>> import numpy as np
>>> from flowgraph.graph.shape import TensorShape
>>> value = (1, 2.5, None, "x", TensorShape([None, 3]), np.arange(3, dtype=np.int64))
>>> doc = encode(value)
>>> doc["items"][4]
{'type': 'shape', 'dims': [None, 3]}
>>> back = decode(doc, Budget(1000))
>>> back[:5], back[5].tolist()
((1, 2.5, None, 'x', TensorShape([None, 3])), [0, 1, 2])
"""

from __future__ import annotations

import base64
import binascii
import math

import numpy as np

from flowgraph.graph.dtypes import DType, as_dtype
from flowgraph.graph.shape import TensorShape

MAX_DEPTH = 32  # nesting of lists / tuples / dicts
MAX_RANK = 32
MAX_ELEMENTS = 2**40  # of a fully known shape: bigger is refused as hostile
_INT_RANGE = (-(2**63), 2**64)  # int64 and uint64 values
ARRAY_DTYPES = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
    "float16 float32 float64 complex64 complex128".split()
)
_FLOAT_WORDS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


class AttrError(ValueError):
    """A value that cannot be encoded, or a JSON value that is not a valid tagged value."""


class Budget:
    """How many more bytes of array data a file may hold; :meth:`take` refuses more."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def take(self, nbytes: int) -> None:
        if nbytes > self.left:
            raise AttrError(
                f"the file's arrays hold more than {self.limit} bytes in all, the limit "
                "(raise max_constant_bytes to accept it)"
            )
        self.left -= nbytes


# ---- encoding -----------------------------------------------------------------------------


def _no_functions(fn):
    raise AttrError("a traced function attribute needs a graph exporter to encode it")


def encode(value, encode_function=_no_functions) -> dict:
    """The tagged JSON form of ``value``; AttrError naming the type if it has none.

    ``encode_function(fn)`` encodes a traced control-flow Function (graph_json supplies it).
    """
    if value is None:
        return {"type": "none"}
    if isinstance(value, bool):
        return {"type": "bool", "value": value}
    if isinstance(value, np.ndarray) and value.dtype == object:
        return _encode_strings(value)
    if isinstance(value, np.ndarray):
        return _encode_array(value)
    if isinstance(value, np.generic):  # before int/float: np.float64 is a float
        doc = _encode_array(np.asarray(value))
        del doc["shape"]
        return dict(doc, type="scalar")
    if isinstance(value, int):
        return {"type": "int", "value": int(value)}
    if isinstance(value, float):
        value = float(value)
        if not math.isfinite(value):
            return {"type": "float", "value": "nan" if math.isnan(value) else repr(value)}
        return {"type": "float", "value": value}
    if isinstance(value, str):
        return {"type": "str", "value": value}
    if isinstance(value, DType):
        return {"type": "dtype", "name": value.name}
    if isinstance(value, TensorShape):
        return {"type": "shape", "dims": None if value.rank is None else list(value.dims)}
    if isinstance(value, (list, tuple)):
        tag = "list" if isinstance(value, list) else "tuple"
        return {"type": tag, "items": [encode(v, encode_function) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"type": "dict", "items": {k: encode(v, encode_function) for k, v in value.items()}}
    if _is_function(value):
        return encode_function(value)
    raise AttrError(f"values of type {type(value).__name__} have no JSON form")


def _is_function(value) -> bool:
    from flowgraph.ops.control_flow import Function

    return isinstance(value, Function)


def _encode_array(array: np.ndarray) -> dict:
    if array.dtype.name not in ARRAY_DTYPES:
        raise AttrError(f"arrays of dtype {array.dtype} have no JSON form")
    little = np.asarray(array, order="C").astype(array.dtype.newbyteorder("<"), copy=False)
    data = base64.b64encode(little.tobytes()).decode("ascii")
    return {"type": "ndarray", "dtype": array.dtype.name, "shape": list(array.shape), "data": data}


def _encode_strings(array: np.ndarray) -> dict:
    if not all(isinstance(v, bytes) for v in array.flat):
        raise AttrError("object arrays have a JSON form only when every element is bytes")
    items = [base64.b64encode(v).decode("ascii") for v in array.flat]
    return {"type": "strings", "shape": list(array.shape), "items": items}


# ---- decoding -----------------------------------------------------------------------------

_KEYS = {
    "none": set(),
    "bool": {"value"},
    "int": {"value"},
    "float": {"value"},
    "str": {"value"},
    "list": {"items"},
    "tuple": {"items"},
    "dict": {"items"},
    "dtype": {"name"},
    "shape": {"dims"},
    "ndarray": {"dtype", "shape", "data"},
    "scalar": {"dtype", "data"},
    "strings": {"shape", "items"},
}


def _no_function_decoder(doc):
    raise AttrError("a function attribute is only allowed in an op of a graph file")


def decode(doc, budget: Budget, decode_function=_no_function_decoder, depth: int = 0):
    """The Python value of the tagged JSON ``doc``; AttrError saying what is wrong."""
    if depth > MAX_DEPTH:
        raise AttrError(f"values are nested more than {MAX_DEPTH} deep")
    if not isinstance(doc, dict) or not isinstance(doc.get("type"), str):
        raise AttrError(f"expected a tagged value {{'type': ...}}, got {_short(doc)}")
    tag = doc["type"]
    if tag == "function":
        return decode_function(doc)
    if tag not in _KEYS:
        raise AttrError(f"unknown type tag {tag!r} (known: {', '.join(sorted(_KEYS))}, function)")
    if set(doc) != _KEYS[tag] | {"type"}:
        raise AttrError(f"a {tag!r} value has keys {sorted(doc)}, expected {sorted(_KEYS[tag])}")
    if tag == "none":
        return None
    if tag in ("list", "tuple"):
        items = _expect(doc["items"], list, tag)
        values = [decode(v, budget, decode_function, depth + 1) for v in items]
        return values if tag == "list" else tuple(values)
    if tag == "dict":
        items = _expect(doc["items"], dict, tag)
        return {k: decode(v, budget, decode_function, depth + 1) for k, v in items.items()}
    if tag == "ndarray":
        return _decode_array(doc, budget)
    if tag == "scalar":
        return _decode_array(dict(doc, shape=[]), budget)[()]
    if tag == "strings":
        return _decode_strings(doc, budget)
    return _SCALARS[tag](doc)


def _decode_strings(doc, budget: Budget) -> np.ndarray:
    """An object array of bytes (a string tensor's value), each element checked and charged."""
    shape, items = doc["shape"], _expect(doc["items"], list, "strings")
    if not isinstance(shape, list) or len(shape) > MAX_RANK:
        raise AttrError(f"a string array's shape must be a list of at most {MAX_RANK} ints")
    if not all(type(d) is int and 0 <= d <= MAX_ELEMENTS for d in shape):
        raise AttrError(f"a string array's shape must hold non-negative ints, got {_short(shape)}")
    if math.prod(shape) != len(items):
        raise AttrError(f"a string array of shape {shape} needs {math.prod(shape)} items")
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise AttrError(f"a string array's items must be base64 text, got {_short(item)}")
        budget.take(len(item))
        try:
            out[i] = base64.b64decode(item, validate=True)
        except (binascii.Error, ValueError) as e:
            raise AttrError(f"a string array's item is not valid base64: {e}") from None
    out = out.reshape(shape)
    out.setflags(write=False)
    return out


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _expect(value, kind, what):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise AttrError(f"a {what!r} value must hold a {kind.__name__}, got {_short(value)}")
    return value


def _decode_int(doc) -> int:
    value = doc["value"]
    if type(value) is not int or not _INT_RANGE[0] <= value < _INT_RANGE[1]:
        raise AttrError(f"an 'int' value must be a 64-bit integer, got {_short(value)}")
    return value


def _decode_float(doc) -> float:
    value = doc["value"]
    if isinstance(value, str) and value in _FLOAT_WORDS:
        return _FLOAT_WORDS[value]
    if type(value) not in (int, float):
        raise AttrError(f"a 'float' value must be a number, 'nan', 'inf' or '-inf', got {value!r}")
    return float(value)


def decode_dtype(name) -> DType:
    """The DType named exactly ``name`` (``"float32"``, not an alias); AttrError otherwise."""
    try:
        dtype = as_dtype(name) if isinstance(name, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.name != name:
        raise AttrError(f"unknown dtype {_short(name)}")
    return dtype


def decode_shape(dims) -> TensorShape:
    """A TensorShape from JSON ``dims`` (null, or a list of ints / nulls), refusing huge ones."""
    if dims is None:
        return TensorShape(None)
    if not isinstance(dims, list) or len(dims) > MAX_RANK:
        raise AttrError(
            f"a shape must be null or a list of at most {MAX_RANK} dims, got {_short(dims)}"
        )
    for d in dims:
        if d is not None and (type(d) is not int or not 0 <= d <= MAX_ELEMENTS):
            raise AttrError(
                f"a shape's dims must be null or ints in [0, 2**40], got {_short(dims)}"
            )
    check_elements([d for d in dims if d is not None], "shape")
    return TensorShape(dims)


def check_elements(dims, what: str) -> None:
    """Refuse a shape of more than MAX_ELEMENTS elements (a hostile file's allocation bomb)."""
    n = 1
    for d in dims:
        n *= max(d, 1)
        if n > MAX_ELEMENTS:
            raise AttrError(f"{what} {_short(dims)} has more than 2**40 elements")


_SCALARS = {
    "bool": lambda doc: _expect(doc["value"], bool, "bool"),
    "int": _decode_int,
    "float": _decode_float,
    "str": lambda doc: _expect(doc["value"], str, "str"),
    "dtype": lambda doc: decode_dtype(doc["name"]),
    "shape": lambda doc: decode_shape(doc["dims"]),
}


def _decode_array(doc, budget: Budget) -> np.ndarray:
    name, shape, data = doc["dtype"], doc["shape"], doc["data"]
    if not isinstance(name, str) or name not in ARRAY_DTYPES:
        raise AttrError(
            f"an array's dtype must be one of {sorted(ARRAY_DTYPES)}, got {_short(name)}"
        )
    if not isinstance(shape, list) or len(shape) > MAX_RANK:
        raise AttrError(f"an array's shape must be a list of at most {MAX_RANK} ints")
    if not all(type(d) is int and 0 <= d <= MAX_ELEMENTS for d in shape):
        raise AttrError(f"an array's shape must hold non-negative ints, got {_short(shape)}")
    check_elements(shape, "array shape")
    dtype = np.dtype(name).newbyteorder("<")
    nbytes = math.prod(shape) * dtype.itemsize
    budget.take(nbytes)
    # Check the text's length before decoding it, so a huge string is refused unread.
    if not isinstance(data, str) or len(data) != 4 * ((nbytes + 2) // 3):
        size = len(data) if isinstance(data, str) else type(data).__name__
        raise AttrError(
            f"an array of dtype {name} and shape {shape} needs {nbytes} bytes of data "
            f"({4 * ((nbytes + 2) // 3)} base64 characters), got {size}"
        )
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise AttrError(f"an array's data is not valid base64: {e}") from None
    if len(raw) != nbytes:
        raise AttrError(
            f"an array of dtype {name} and shape {shape} needs {nbytes} bytes, got {len(raw)}"
        )
    array = np.frombuffer(raw, dtype=dtype).reshape(shape)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
        array.setflags(write=False)
    return array
