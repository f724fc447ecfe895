"""Array backends: the namespaces (``xp``) kernels compute with, and host transfers.

>>> from flowgraph.backends import get_backend
>>> b = get_backend("numpy")
>>> b.name, b.xp.__name__
('numpy', 'numpy')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Backend:
    """An array namespace plus the two transfers the runtime needs."""

    name: str
    xp: Any
    from_host: Callable  # NumPy array -> backend array
    to_host: Callable  # backend array -> NumPy array

    def random_generator(self, seed=None):
        return np.random.default_rng(seed)


def _numpy_backend() -> Backend:
    return Backend("numpy", np, np.asarray, np.asarray)


def _cupy_backend() -> Backend:
    try:
        import cupy

        cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - any import or driver failure means "no GPU here"
        raise RuntimeError(
            "The 'cupy' backend needs CuPy and an NVIDIA GPU. Install it with "
            f'`pip install "flowgraph[gpu]"`. It failed here with: {type(e).__name__}: {e}'
        ) from e
    return Backend("cupy", cupy, cupy.asarray, cupy.asnumpy)


_FACTORIES = {"numpy": _numpy_backend, "cupy": _cupy_backend}
_CACHE: dict[str, Backend] = {}


def get_backend(name: str = "numpy") -> Backend:
    """The backend called ``name`` (``"numpy"`` or ``"cupy"``), created on first use."""
    if isinstance(name, Backend):
        return name
    if name not in _CACHE:
        if name not in _FACTORIES:
            raise ValueError(f"Unknown backend {name!r}; available: {sorted(_FACTORIES)}")
        _CACHE[name] = _FACTORIES[name]()
    return _CACHE[name]


def available_backends() -> list[str]:
    """Names of the backends that can be created on this machine."""
    names = []
    for name in _FACTORIES:
        try:
            get_backend(name)
        except RuntimeError:
            continue
        names.append(name)
    return names
