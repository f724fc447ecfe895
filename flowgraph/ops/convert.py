"""Turning Python values, NumPy arrays and variables into graph tensors.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     t = convert_to_tensor([[1, 2], [3, 4]])
>>> t.dtype.name, str(t.shape)
('int32', '[2,2]')
"""

from __future__ import annotations

import numpy as np

from flowgraph.graph.dtypes import DType, as_dtype, dtype_of_python_value, to_bytes_array
from flowgraph.graph.tensor import Tensor


def convert_to_tensor(value, dtype=None, name: str | None = None) -> Tensor:
    """A Tensor for ``value``: tensors pass through, variables give their value, others a Const.

    With ``dtype``, a tensor of another dtype is a TypeError (no silent casts, as in TF), and a
    Python value is converted to ``dtype`` only if it fits exactly (1.5 never becomes int 1).
    """
    dtype = as_dtype(dtype) if dtype is not None else None
    if isinstance(value, Tensor):
        if dtype is not None and value.dtype is not dtype:
            raise TypeError(
                f"Tensor conversion requested dtype {dtype.name} for Tensor {value.name!r} "
                f"with dtype {value.dtype.name}; use flowgraph.cast to convert."
            )
        return value
    as_tensor = getattr(value, "_as_graph_tensor", None)
    if as_tensor is not None:
        return convert_to_tensor(as_tensor(), dtype, name)
    from flowgraph.ops.state import constant  # state builds on this module

    return constant(value, dtype=dtype, name=name or "Const")


def is_tensor_like(value) -> bool:
    """A graph Tensor, or something that converts to one without a Const (a Variable)."""
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_tensor")


def to_numpy_value(value, dtype: DType | None) -> np.ndarray:
    """``value`` as a NumPy array of ``dtype`` (or TF's default dtype), refusing lossy casts."""
    if dtype is None:
        dtype = dtype_of_python_value(value)
    if dtype.is_string:
        try:
            return to_bytes_array(value)
        except TypeError as e:
            raise TypeError(f"Cannot convert {_short(value)} to a string tensor: {e}") from None
    source = np.asarray(value)
    if source.dtype.kind in "SU":
        raise TypeError(f"Cannot convert {_short(value)} to a tensor of dtype {dtype.name}")
    if source.dtype == object:
        raise TypeError(f"Cannot convert {_short(value)} to a tensor of dtype {dtype.name}")
    check_lossless(source, dtype, what=_short(value))
    return np.asarray(source, dtype=dtype.as_numpy_dtype)


def check_lossless(source: np.ndarray, dtype: DType, what: str) -> None:
    """TypeError if converting ``source`` to ``dtype`` would change a value or its kind."""
    kind = source.dtype.kind
    if dtype.is_bool and kind != "b":
        raise TypeError(f"Cannot convert {what} (dtype {source.dtype}) to bool")
    if dtype.is_integer:
        if kind == "f" and source.size and not np.all(np.mod(source, 1) == 0):
            raise TypeError(
                f"Cannot convert {what} to {dtype.name}: it has fractional values "
                "(cast explicitly if truncation is intended)"
            )
        if kind in "fiu" and source.size:
            info = np.iinfo(dtype.as_numpy_dtype)
            lo, hi = source.min(), source.max()
            if lo < info.min or hi > info.max:
                raise TypeError(f"Cannot convert {what} to {dtype.name}: values out of range")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."
