"""Checking and converting ``feed_dict`` values before anything runs.

Values are converted to the fed tensor's dtype the way TF does (``[1, 2]`` feeds a float32
placeholder), but a conversion that would change values (1.5 into an int32 placeholder) and a
shape that does not fit the tensor's static shape raise at once, naming the tensor.
"""

from __future__ import annotations

import numpy as np

from flowgraph.graph.dtypes import to_bytes_array
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.convert import check_lossless


def feed_key(key, graph) -> Tensor:
    """The Tensor a feed_dict key names (a Tensor, a Variable, or a ``'name:0'`` string)."""
    as_tensor = getattr(key, "_as_graph_tensor", None)
    if as_tensor is not None:
        key = as_tensor()
    if isinstance(key, str):
        try:
            key = graph.get_tensor_by_name(key)
        except (KeyError, ValueError) as e:
            raise ValueError(f"Cannot feed {key!r}: {e.args[0]}") from None
    if not isinstance(key, Tensor):
        raise TypeError(
            f"The key {key!r} of feed_dict must be a Tensor, a tensor name or a Variable, "
            f"not a {type(key).__name__}"
        )
    if key.graph is not graph:
        raise ValueError(f"Cannot feed {key.name!r}: it is not an element of this session's graph.")
    return key


def feed_value(tensor: Tensor, value) -> np.ndarray:
    """``value`` as an array of ``tensor``'s dtype, checked against its static shape."""
    target = tensor.dtype.as_numpy_dtype
    if isinstance(value, Tensor):
        raise TypeError(
            f"The value fed to {tensor.name!r} is a symbolic Tensor ({value.name!r}); "
            "feed NumPy arrays or Python values (run the tensor first to get its value)."
        )
    if tensor.dtype.is_string:
        try:
            array = to_bytes_array(value)
        except TypeError as e:
            message = f"Cannot feed {_short(value)} to string tensor {tensor.name!r}: {e}"
            raise TypeError(message) from None
    else:
        array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype != target:
        if array.dtype == object or array.dtype.kind in "SU":
            raise TypeError(
                f"Cannot feed {_short(value)} to {tensor.name!r} of dtype {tensor.dtype.name}"
            )
        if array.dtype.kind != target.kind:
            check_lossless(array, tensor.dtype, what=f"the value fed to {tensor.name!r}")
        array = array.astype(target)
    dims = tensor.shape.dims
    if dims is not None and (
        array.ndim != len(dims) or any(d is not None and d != n for d, n in zip(dims, array.shape))
    ):
        raise ValueError(
            f"Cannot feed value of shape {list(array.shape)} for tensor {tensor.name!r}, "
            f"which has shape {tensor.shape}"
        )
    return array


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."
