"""Array backends: the namespaces (``xp``) kernels compute with, devices, and host transfers.

Kernels never import an array library: they get ``xp`` (NumPy, CuPy, or any array-API
namespace) from the backend that runs them. ``registry`` names the backends, ``devices`` maps
``with fg.device(...)`` strings to them, and :func:`cross_check` runs one plan on two
backends and names the first op whose results disagree.

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


def cross_check(
    fetches,
    feed_dict=None,
    backends=("numpy", "array_api_strict"),
    rtol: float | None = None,
    atol: float | None = None,
    graph=None,
    session=None,
    seed: int = 0,
    raise_on_mismatch: bool = True,
):
    """Run the unoptimized plan of ``fetches`` op by op on two backends and compare every
    intermediate; see :func:`flowgraph.runtime.cross_check.cross_check`.

    It lives in the runtime (it compiles and executes plans); this is its name among the
    backends, where a user asking "is my GPU result right?" looks for it.
    """
    from flowgraph.runtime.cross_check import cross_check as run_cross_check

    return run_cross_check(
        fetches,
        feed_dict,
        backends=backends,
        rtol=rtol,
        atol=atol,
        graph=graph,
        session=session,
        seed=seed,
        raise_on_mismatch=raise_on_mismatch,
    )


__all__ = [
    "GPU_INSTALL_HINT",
    "Backend",
    "BackendUnavailableError",
    "DevicePlacement",
    "available_backends",
    "canonical_device",
    "cross_check",
    "current_default_backend",
    "default_backend",
    "device_label",
    "get_backend",
    "namespace_backend",
    "register_backend",
    "to_numpy",
]
