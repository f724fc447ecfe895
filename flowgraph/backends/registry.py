"""The backend registry: array namespaces by name, created on first use.

A :class:`Backend` is an array namespace ``xp`` (what kernels compute with) plus what the
runtime needs around it: moving arrays from and to the host (NumPy), a random generator, and
whether its ufuncs take ``out=`` (then memory planning may compute in place). Built in:

- ``"numpy"``: the default;
- ``"cupy"``: CuPy on an NVIDIA GPU, imported only when first asked for (``pip install
  "flowgraph[gpu]"``);
- ``"array_api_strict"``: the strict reference namespace of the array API standard, which
  refuses everything the standard does not promise; CI runs the op tests on it, so a kernel
  that quietly depends on NumPy-only behaviour fails there;
- any other array-API namespace, given as the module itself: ``get_backend(torch_like_xp)``.

>>> b = get_backend("numpy")
>>> b.name, b.xp.__name__, b.supports_out, b.device
('numpy', 'numpy', True, 'cpu')
>>> with default_backend("numpy"):
...     current_default_backend().name
'numpy'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

GPU_INSTALL_HINT = 'pip install "flowgraph[gpu]"'


@dataclass(frozen=True, eq=False)
class Backend:
    """An array namespace plus the transfers and facts the runtime needs.

    ``from_host``: NumPy array -> backend array; ``to_host``: backend array -> NumPy array.
    ``supports_out``: its elementwise functions take an ``out`` array (NumPy, CuPy), so
    generated code may compute into a dying buffer. ``device``: where its arrays live
    (``"cpu"``, ``"cuda:0"``).
    """

    name: str
    xp: Any
    from_host: Callable
    to_host: Callable
    supports_out: bool = False
    device: str = "cpu"

    def random_generator(self, seed=None) -> np.random.Generator:
        """A NumPy generator on the host: random ops draw there, then move the values with
        ``from_host``, so every backend sees the same numbers for the same seed."""
        return np.random.default_rng(seed)

    def __repr__(self) -> str:
        return f"<Backend {self.name!r} on {self.device}>"


def _numpy_backend() -> Backend:
    return Backend("numpy", np, np.asarray, np.asarray, supports_out=True, device="cpu")


def _cupy_backend() -> Backend:
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
        if count < 1:
            raise RuntimeError("CUDA reports no GPU")
        cupy.zeros(1).sum()  # a kernel launch: fails here, not in the first op, without a GPU
    except Exception as e:  # noqa: BLE001 - any import or driver failure means "no GPU here"
        raise BackendUnavailableError(
            "The 'cupy' backend needs CuPy and an NVIDIA GPU with a working CUDA driver. "
            f"Install CuPy with `{GPU_INSTALL_HINT}` (it pulls the cupy wheel for CUDA 12). "
            f"Here it failed with: {type(e).__name__}: {e}"
        ) from e
    device = f"cuda:{cupy.cuda.runtime.getDevice()}"
    from_host = strings_stay_on_host(cupy.asarray)
    return Backend("cupy", cupy, from_host, cupy.asnumpy, supports_out=True, device=device)


def _is_object_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "O"


def strings_stay_on_host(from_host: Callable) -> Callable:
    """``from_host`` that leaves object arrays (string tensors' bytes) as NumPy arrays: no
    accelerator or array-API namespace holds Python objects, and the ops that read strings
    (summaries) run on the host anyway, as TF keeps string tensors in host memory."""

    def move(value):
        return value if _is_object_array(value) else from_host(value)

    return move


def _array_api_strict_backend() -> Backend:
    try:
        import array_api_strict
    except ImportError as e:
        raise BackendUnavailableError(
            "The 'array_api_strict' backend needs the array-api-strict package "
            '(`pip install array-api-strict`, or `pip install -e ".[test]"`).'
        ) from e
    return namespace_backend(array_api_strict, "array_api_strict")


def namespace_backend(xp, name: str | None = None) -> Backend:
    """A backend for any array-API namespace ``xp`` (a module, or an object with the
    standard's functions as attributes); host transfers go through DLPack when ``xp`` offers
    ``from_dlpack``.

    >>> namespace_backend(np).supports_out
    True
    """
    name = name or getattr(xp, "__name__", type(xp).__name__)
    if xp is np:
        return _numpy_backend()

    def to_host(value):
        if isinstance(value, np.ndarray):
            return value
        try:
            return np.asarray(value)
        except (TypeError, ValueError, RuntimeError):
            return np.from_dlpack(value)

    def from_host(value):
        return value if _is_object_array(value) else xp.asarray(value)

    supports_out = _takes_out(xp)
    return Backend(name, xp, from_host, to_host, supports_out=supports_out, device="cpu")


def _takes_out(xp) -> bool:
    add = getattr(xp, "add", None)
    return getattr(add, "nout", None) == 1 and getattr(add, "nin", None) == 2


class BackendUnavailableError(RuntimeError):
    """A backend that cannot be created on this machine (its library or device is missing)."""


_FACTORIES: dict[str, Callable[[], Backend]] = {
    "numpy": _numpy_backend,
    "cupy": _cupy_backend,
    "array_api_strict": _array_api_strict_backend,
}
_CACHE: dict[str, Backend] = {}
_LOCK = threading.Lock()


def register_backend(name: str, factory: Callable[[], Backend | Any]) -> None:
    """Make ``get_backend(name)`` call ``factory()`` (once, on first use). The factory returns
    a Backend or an array namespace (then wrapped by :func:`namespace_backend`)."""
    with _LOCK:
        _FACTORIES[name] = factory
        _CACHE.pop(name, None)


def get_backend(name: str | Backend | Any = None) -> Backend:
    """The backend called ``name`` (``"numpy"``, ``"cupy"``, ``"array_api_strict"`` or a
    registered name), a Backend itself, or an array-API namespace (a module) wrapped as one.
    ``None``: the current default (:func:`default_backend`).

    Raises ValueError for an unknown name and BackendUnavailableError (a RuntimeError) when
    the backend's library or device is missing here, saying what to install.
    """
    if name is None:
        return current_default_backend()
    if isinstance(name, Backend):
        return name
    if not isinstance(name, str):
        if not hasattr(name, "asarray"):
            raise TypeError(f"Expected a backend name or an array namespace, got {name!r}")
        return _wrapped(name)
    backend = _CACHE.get(name)
    if backend is None:
        factory = _FACTORIES.get(name)
        if factory is None:
            raise ValueError(f"Unknown backend {name!r}; available: {sorted(_FACTORIES)}")
        made = factory()
        backend = made if isinstance(made, Backend) else namespace_backend(made, name)
        with _LOCK:
            backend = _CACHE.setdefault(name, backend)
    return backend


_WRAPPED: dict[int, tuple[Any, Backend]] = {}


def _wrapped(xp) -> Backend:
    entry = _WRAPPED.get(id(xp))
    if entry is None or entry[0] is not xp:
        entry = _WRAPPED[id(xp)] = (xp, namespace_backend(xp))
    return entry[1]


def available_backends() -> list[str]:
    """Names of the registered backends that can be created on this machine."""
    names = []
    for name in list(_FACTORIES):
        try:
            get_backend(name)
        except RuntimeError:
            continue
        names.append(name)
    return names


# ---- the default backend --------------------------------------------------------------------

_DEFAULT_STACK: list[Backend] = []


@contextmanager
def default_backend(name):
    """Make ``name`` the backend of Sessions created inside (``Session(backend=None)``).

    >>> import flowgraph as fg
    >>> with default_backend("numpy"), fg.Graph().as_default():
    ...     fg.Session().backend.name
    'numpy'
    """
    backend = get_backend(name)
    _DEFAULT_STACK.append(backend)
    try:
        yield backend
    finally:
        _DEFAULT_STACK.remove(backend)


def current_default_backend() -> Backend:
    """The innermost :func:`default_backend`, else NumPy."""
    return _DEFAULT_STACK[-1] if _DEFAULT_STACK else get_backend("numpy")


def to_numpy(value):
    """``value`` (an array of any backend, or a scalar) as a NumPy array on the host."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    get = getattr(value, "get", None)  # CuPy arrays copy to the host with .get()
    if callable(get) and type(value).__module__.startswith("cupy"):
        return get()
    try:
        return np.asarray(value)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(value)
