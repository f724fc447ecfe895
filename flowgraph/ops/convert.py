"""Turning Python values, NumPy arrays and variables into graph tensors: ``convert_to_tensor``,
and the Const op with ``constant``, which it makes for plain values.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     t = convert_to_tensor([[1, 2], [3, 4]])
>>> t.dtype.name, str(t.shape)
('int32', '[2,2]')
>>> with fg.Graph().as_default():
...     n = fg.placeholder(fg.int32, [])
...     packed = convert_to_tensor([[n, 2], [3, n * n]])
...     fg.Session().run(packed, {n: 5})
array([[ 5,  2],
       [ 3, 25]], dtype=int32)
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numpy as np

from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.dtypes import DType, as_dtype, dtype_of_python_value, to_bytes_array
from flowgraph.graph.shape import TensorShape, as_shape
from flowgraph.graph.site import user_site
from flowgraph.graph.tensor import Tensor
from flowgraph.ops.registry import REQUIRED, apply_op, define_op


def convert_to_tensor(value, dtype=None, name: str | None = None) -> Tensor:
    """A Tensor for ``value``: tensors pass through, variables give their value, a (nested) list
    holding tensors is packed with ``stack`` (TF1's auto-packing), others become a Const.

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
    if isinstance(value, (list, tuple)) and first_tensor(value) is not None:
        return _autopack(value, dtype, name)
    if _sharing.constants is not None and name is None and type(value) in _NUMBER and dtype:
        return _shared_constant(value, dtype)
    return constant(value, dtype=dtype, name=name or "Const")


class _Sharing(threading.local):
    constants = None  # {key: Const tensor} inside ``shared_constants``


_sharing = _Sharing()


@contextmanager
def shared_constants():
    """Inside, a Python number converted to a tensor of a given dtype (``1 - y * y``) gives
    one Const per graph, device, dtype, value and line of code, made the first time, instead
    of a new Const each time. ``gradients`` builds its rules inside: the rule of each of a
    chain's 50,000 ``tanh`` ops would otherwise add its own ``1``, which only costs time to
    build and to compile (CSE merges them again). Never shared: a named constant, and one
    made under ``control_dependencies`` (it gets control inputs of its own).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [2], name="x")
    ...     with shared_constants():
    ...         ones = [1 - x, 1 - x * x]   # (one line)
    >>> ones[0].op.inputs[0] is ones[1].op.inputs[0]
    True
    """
    saved = _sharing.constants
    _sharing.constants = {}
    try:
        yield
    finally:
        _sharing.constants = saved


def _shared_constant(value, dtype: DType) -> Tensor:
    graph = get_default_graph()
    if graph.control_inputs_in_effect() or value != value:  # (NaN: no key equals it)
        return constant(value, dtype=dtype)
    site = user_site(3)
    number = value.hex() if type(value) is float else value  # (-0.0 is not 0.0)
    key = (graph, graph.device_in_effect(), dtype, number, site.filename, site.lineno)
    found = _sharing.constants.get(key)
    if found is None:
        found = _sharing.constants[key] = constant(value, dtype=dtype)
    return found


# ---- Const --------------------------------------------------------------------------------


def _const_infer(inputs, attrs):
    value = attrs["value"]
    return [(as_dtype(value.dtype), TensorShape(value.shape))]


define_op(
    "Const",
    _const_infer,
    kernel=lambda xp, *, value: xp.asarray(value),
    attrs={"value": REQUIRED},
    differentiable=False,
    is_constant=True,
)


def constant(value, dtype=None, shape=None, name: str = "Const"):
    """A tensor with a fixed value; ``shape`` broadcasts a scalar or reshapes a same-size value.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     c = fg.constant(0.5, shape=[2, 2])
    ...     fg.Session().run(c)
    array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    dtype = as_dtype(dtype) if dtype is not None else None
    inner = first_tensor(value) if isinstance(value, (list, tuple)) else None
    if inner is not None:  # TF1 refuses this too: a constant is known when the graph is built
        raise TypeError(
            f"constant {name!r}: the value holds the tensor {convert_to_tensor(inner).name!r}, "
            "which is computed at run time; pack tensors with flowgraph.stack(...) or "
            "flowgraph.convert_to_tensor(...) instead"
        )
    array = to_numpy_value(value, dtype)
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        if array.size == 1:
            array = np.broadcast_to(array.reshape(()), shape).copy()
        elif array.size == int(np.prod(shape)):
            array = array.reshape(shape)
        else:
            raise ValueError(
                f"constant {name!r}: cannot make a value with {array.size} elements "
                f"into shape {list(shape)}"
            )
    if array is value or getattr(array, "base", None) is not None:
        array = array.copy()  # never freeze (or alias) the caller's own array
    array.setflags(write=False)  # a graph constant must never change
    return apply_op("Const", [], {"value": array}, name=name)


def first_tensor(value):
    """The first tensor-like element of a nested list/tuple ``value``, or None."""
    stack = [value]
    while stack:
        item = stack.pop()
        if is_tensor_like(item):
            return item
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
    return None


def _autopack(value, dtype, name):
    """A nested list/tuple holding tensors, packed into one tensor as TF1's auto-packing does
    (``tf.concat([v, [i * i + 1]], 0)``): the Python numbers take the first tensor's dtype."""
    from flowgraph.ops.array import stack  # array builds on this module

    inferred = convert_to_tensor(first_tensor(value)).dtype
    if dtype is not None and dtype is not inferred:
        raise TypeError(
            f"Cannot pack {_short(value)} as {dtype.name}: its tensors are {inferred.name}; "
            "use flowgraph.cast to convert them"
        )
    items = [
        _autopack(v, inferred, None)
        if isinstance(v, (list, tuple)) and first_tensor(v) is not None
        else convert_to_tensor(v, inferred)
        for v in value
    ]
    return stack(items, name=name or "packed")


def is_tensor_like(value) -> bool:
    """A graph Tensor, or something that converts to one without a Const (a Variable)."""
    return isinstance(value, Tensor) or hasattr(value, "_as_graph_tensor")


_NUMBER = (int, float)  # exactly these types (not bool)
_WIDE_FLOATS = ("float32", "float64")


def to_numpy_value(value, dtype: DType | None) -> np.ndarray:
    """``value`` as a NumPy array of ``dtype`` (or TF's default dtype), refusing lossy casts."""
    if dtype is None:
        dtype = dtype_of_python_value(value)
    elif type(value) in _NUMBER and dtype.name in _WIDE_FLOATS and abs(value) <= 2**53:
        # A Python number for a float32/64 tensor (``x * 2``; every gradient's ``1 - y``):
        # exact or rounded as the general path below would, without its checks.
        return np.asarray(value, dtype=dtype.as_numpy_dtype)
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
                first = source.flat[np.argmax(((source < info.min) | (source > info.max)).flat)]
                raise TypeError(
                    f"Cannot convert {what} to {dtype.name}: the value {first.item()!r} is out "
                    f"of its range [{info.min}, {info.max}]"
                )


def check_python_ints(values: np.ndarray, dtype: DType, what: str) -> None:
    """For an object array NumPy made from Python values: TypeError naming the first int that
    no NumPy integer holds (``[2**100]``), when converting to ``dtype``; nothing otherwise."""
    for v in values.flat:
        if isinstance(v, int) and not isinstance(v, bool):
            if dtype.is_integer:
                info = np.iinfo(dtype.as_numpy_dtype)
                if not info.min <= v <= info.max:
                    raise TypeError(
                        f"Cannot convert {what} to {dtype.name}: the value {_short(v)} is out "
                        f"of its range [{info.min}, {info.max}]"
                    )


def _short(value) -> str:
    text = repr(value)
    return text if len(text) < 60 else text[:57] + "..."
