"""PyTorch's type promotion for the operands of eager binary ops.

The op library (like TF1) wants both operands of ``Add`` in one dtype; PyTorch promotes. Its
rule: the result's *category* (bool < integer < floating) is the highest among the operands;
within it, the dtype comes from the highest-priority group of operands of that category —
tensors with dimensions first, then 0-d tensors, then Python numbers (which give the default
dtype: float32 or int64). So ``int64[3] + float32[3]`` is float32, ``float32[3] + float64 0-d``
stays float32, and ``int64[3] ** 2.5`` is float32.

>>> import flowgraph.dynamic as torch
>>> (torch.tensor([1, 2]) + torch.tensor([0.5, 0.5])).dtype
flowgraph.float32
>>> (torch.tensor([1.0], dtype=torch.float32) * torch.tensor(2.0, dtype=torch.float64)).dtype
flowgraph.float32
"""

from __future__ import annotations

import numpy as np

from flowgraph.dynamic import tape
from flowgraph.graph import dtypes
from flowgraph.ops import math

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}
_DEFAULT = {0: dtypes.bool_, 1: dtypes.int64, 2: dtypes.float32}


def category(dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating dtypes."""
    return _CATEGORY[np.dtype(dtype.as_numpy_dtype).kind]


def result_dtype(*tensors):
    """The dtype PyTorch gives a binary op of these eager tensors."""
    top = max(category(t.dtype) for t in tensors)
    for dimensioned in (True, False):
        group = [
            t.dtype
            for t in tensors
            if bool(len(t.shape)) is dimensioned and category(t.dtype) == top
        ]
        if group:
            names = [np.dtype(d.as_numpy_dtype) for d in group]
            return dtypes.as_dtype(np.result_type(*names))
    if top == 2:
        from flowgraph.dynamic.torch_functions import default_float

        return default_float()
    return _DEFAULT[top]


def promote(*tensors) -> tuple:
    """The tensors cast (a recorded Cast op, so gradients flow) to their common dtype."""
    target = result_dtype(*tensors)
    return tuple(t if t.dtype is target else tape.call(math.cast, t, target) for t in tensors)


def promoted(a, b) -> tuple:
    """``a, b`` as eager tensors of one dtype, when both are eager tensors of different
    dtypes; otherwise as given (the library converts Python numbers)."""
    if (
        isinstance(a, tape.EagerTensor)
        and isinstance(b, tape.EagerTensor)
        and a.dtype is not b.dtype
    ):
        return promote(a, b)
    return a, b
