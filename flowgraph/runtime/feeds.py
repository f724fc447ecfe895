"""Checking and converting ``feed_dict`` values before anything runs.

Values are converted to the fed tensor's dtype the way TF does (``[1, 2]`` feeds a float32
placeholder), but a conversion that would change values (1.5 into an int32 placeholder) and a
shape that does not fit the tensor's static shape raise at once, naming the tensor.
"""

from __future__ import annotations

import numpy as np

from flowgraph.errors import echo
from flowgraph.graph.dtypes import to_bytes_array
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.convert import check_lossless, check_python_ints


def feed_key(key, graph) -> Tensor:
    """The Tensor a feed_dict key names (a Tensor, a Variable, or a ``'name:0'`` string)."""
    as_tensor = getattr(key, "_as_graph_tensor", None)
    if as_tensor is not None:
        key = as_tensor()
    if isinstance(key, str):
        try:
            key = graph.get_tensor_by_name(key)
        except (KeyError, ValueError) as e:
            raise ValueError(f"Cannot feed {echo(key)}: {e.args[0]}") from None
    if not isinstance(key, Tensor):
        raise TypeError(
            f"The key {echo(key)} of feed_dict must be a Tensor, a tensor name or a Variable, "
            f"not a {type(key).__name__}"
        )
    if key.graph is not graph:
        from flowgraph.runtime.fetches import other_graph_message

        raise ValueError(other_graph_message("Feed key", key))
    return key


def feed_value(tensor: Tensor, value) -> np.ndarray:
    """``value`` as an array of ``tensor``'s dtype, checked against its static shape."""
    if type(value) is np.ndarray and value.dtype.kind != "O":
        # The usual feed, an array of the right dtype, in a fraction of a microsecond: part
        # of the fixed cost of every run. Anything else takes the full path below.
        target = _NUMPY_DTYPES.get(tensor.dtype)
        if target is None:
            target = _NUMPY_DTYPES[tensor.dtype] = tensor.dtype.as_numpy_dtype
        if value.dtype == target:
            return _checked_shape(tensor, value)
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
        what = f"the value fed to {tensor.name!r}"
        if array.dtype == object or array.dtype.kind in "SU":
            if array.dtype == object:
                check_python_ints(array, tensor.dtype, what)  # [2**100]: too big for any dtype
            raise TypeError(
                f"Cannot feed {_short(value)} to {tensor.name!r} of dtype {tensor.dtype.name}"
            )
        # Values are checked whenever the conversion may change them: another kind, or a
        # narrower integer (int64 -> int32 would wrap 2**40 to 0).
        if array.dtype.kind != target.kind or (
            target.kind in "iu" and array.dtype.itemsize > target.itemsize
        ):
            check_lossless(array, tensor.dtype, what=what)
        array = array.astype(target)
    return _checked_shape(tensor, array)


_NUMPY_DTYPES: dict = {}  # flowgraph DType -> NumPy dtype (DTypes are singletons)


def _checked_shape(tensor: Tensor, array: np.ndarray) -> np.ndarray:
    """``array``, if its shape fits ``tensor``'s static shape; ValueError otherwise."""
    dims = tensor.shape.dims
    if dims is None or dims == array.shape:
        return array
    if len(dims) == array.ndim:
        for d, n in zip(dims, array.shape):
            if d is not None and d != n:
                break
        else:
            return array
    raise ValueError(
        f"Cannot feed value of shape {list(array.shape)} for tensor {tensor.name!r}, "
        f"which has shape {tensor.shape}"
    )


def _short(value) -> str:
    return echo(value, 60)
