"""Array backends: the namespaces (``xp``) kernels compute with, devices, and host transfers.

Kernels never import an array library: they get ``xp`` (NumPy, CuPy, or any array-API
namespace) from the backend that runs them. ``registry`` names the backends, ``devices`` maps
``with fg.device(...)`` strings to them. Backends sit beside the graph, below the ops: they
import nothing of flowgraph but its errors. (Running one plan on two backends to find the first
op whose results disagree compiles and runs plans, so it is the runtime's:
:func:`flowgraph.runtime.cross_check.cross_check`.)

>>> from flowgraph.backends import get_backend
>>> b = get_backend("numpy")
>>> b.name, b.xp.__name__
('numpy', 'numpy')
"""

from __future__ import annotations

from flowgraph.backends.devices import DevicePlacement, canonical_device, device_label
from flowgraph.backends.registry import (
    GPU_INSTALL_HINT,
    Backend,
    BackendUnavailableError,
    available_backends,
    current_default_backend,
    default_backend,
    get_backend,
    namespace_backend,
    register_backend,
    to_numpy,
)

__all__ = [
    "GPU_INSTALL_HINT",
    "Backend",
    "BackendUnavailableError",
    "DevicePlacement",
    "available_backends",
    "canonical_device",
    "current_default_backend",
    "default_backend",
    "device_label",
    "get_backend",
    "namespace_backend",
    "register_backend",
    "to_numpy",
]
