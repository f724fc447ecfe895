"""Devices as PyTorch names them, mapped onto flowgraph's backends.

``"cpu"`` is the NumPy backend, where every eager tensor lives by default; ``"cuda"`` is the
CuPy backend, available only where CuPy is installed and an NVIDIA GPU answers. Without one,
``cuda.is_available()`` is False and asking for a ``"cuda"`` tensor raises an error that says
what to install, as PyTorch's "Torch not compiled with CUDA enabled" does.

A tensor's device is where its array is: a NumPy array is on the CPU, a CuPy array on the GPU
(a :class:`Placement` per device knows its array type, ``xp`` and kernel context). An op runs
its kernel with its inputs' device's ``xp``; inputs on two devices raise PyTorch's "Expected
all tensors to be on the same device", except 0-d CPU tensors (Python numbers), which join the
other device. ``Tensor.to``/``.cuda()``/``.cpu()`` copy through the host.
``backends.mps.is_available()`` (Apple GPUs) is always False: flowgraph has no Metal backend.

>>> import flowgraph.dynamic as torch
>>> dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
>>> torch.zeros(2, device=dev).device
device(type='cpu')
>>> torch.device("cuda:1").index
1
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np

from flowgraph.backends.registry import GPU_INSTALL_HINT, BackendUnavailableError, get_backend

__all__ = [
    "accelerator", "backends", "cuda", "device", "get_default_device", "set_default_device",
    "use_cuda_backend",
]  # fmt: skip

_TYPES = ("cpu", "cuda", "mps", "meta", "xpu")


class device:  # noqa: N801 - PyTorch's name
    """A device: ``device("cpu")``, ``device("cuda:0")``, ``device("cuda", 0)``.

    Compares equal to another device of the same type and index; ``str(d)`` is ``"cuda:0"``.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string or a device, got {type!r}")
        kind, _, number = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(_TYPES)} device type at start of device string: "
                f"{type!r}"
            )
        if number:
            if index is not None:
                raise RuntimeError(f"device index given twice: {type!r} and index={index}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        self.type = kind
        self.index = None if index is None else int(index)

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"


CPU = device("cpu")


#: The backend "cuda" tensors live on: CuPy. :func:`use_cuda_backend` changes it (tests put a
#: stand-in array module there to exercise devices without a GPU).
CUDA_BACKEND = "cupy"


def use_cuda_backend(name: str = "cupy") -> None:
    """Keep "cuda" tensors on the backend registered as ``name`` (``"cupy"`` by default):
    another GPU array library, or, in tests without a GPU, a stand-in array module
    registered with :func:`flowgraph.backends.register_backend`."""
    global CUDA_BACKEND
    CUDA_BACKEND = name
    _cuda_error.cache_clear()
    for dev in [d for d in _PLACES if d.type == "cuda"]:
        place = _PLACES.pop(dev)
        _BY_ARRAY_TYPE.pop(place.array_type, None)


@functools.lru_cache(maxsize=1)
def _cuda_error() -> str | None:
    """Why CUDA cannot be used here (None when it can); asked once."""
    try:
        get_backend(CUDA_BACKEND)
    except BackendUnavailableError as e:
        return str(e)
    return None


def _cuda_available() -> bool:
    return _cuda_error() is None


def _cuda_count() -> int:
    if not _cuda_available():
        return 0
    if CUDA_BACKEND != "cupy":
        return 1
    import cupy

    return int(cupy.cuda.runtime.getDeviceCount())


def check(requested) -> device:
    """``requested`` (a string, a device or None) as a device this machine can hold tensors
    on (``cuda`` is ``cuda:0``); raises RuntimeError for CUDA without a GPU, saying what to
    install, and for a GPU index that is not there."""
    if requested is None:
        return _default[0]
    d = requested if isinstance(requested, device) else device(requested)
    if d.type == "cpu":
        return CPU
    if d.type == "cuda":
        reason = _cuda_error()
        if reason is not None:
            raise RuntimeError(
                f"CUDA device {str(d)!r} requested, but CUDA is not available here "
                "(torch.cuda.is_available() is False). flowgraph runs 'cuda' tensors on CuPy: "
                f"install it with `{GPU_INSTALL_HINT}` on a machine with an NVIDIA GPU, or use "
                f"device='cpu'. ({reason})"
            )
        index = d.index or 0
        if index >= _cuda_count():
            raise RuntimeError(
                f"CUDA error: invalid device ordinal ({str(d)!r}: this machine has "
                f"{_cuda_count()} GPU(s))"
            )
        if index != 0:
            raise RuntimeError(f"flowgraph.dynamic places tensors on cuda:0 only, not {d}")
        return CUDA0
    raise RuntimeError(f"flowgraph has no backend for device type {d.type!r}; use 'cpu'")


CUDA0 = device("cuda", 0)
_default = [CPU]


class Placement:
    """Where eager tensors of one device keep their arrays: the device, its backend's array
    namespace ``xp`` (the kernels' first argument), the array type its values have, and the
    context ``needs_context`` kernels get there."""

    __slots__ = ("device", "backend", "xp", "array_type", "as_array", "context")

    def __init__(self, dev: device, context) -> None:
        self.device = dev
        self.context = context
        self.backend = context.backend
        self.xp = self.backend.xp
        self.as_array = self.xp.asarray
        self.array_type = type(self.backend.from_host(np.zeros(1)))
        _BY_ARRAY_TYPE[self.array_type] = self
        _PLACES[dev] = self

    def __repr__(self) -> str:
        return f"<Placement {self.device} on {self.backend.name}>"


_BY_ARRAY_TYPE: dict = {}  # array type -> the Placement whose arrays have it
_PLACES: dict = {}  # device -> its Placement


# ---- the context that kernels needing more than ``xp`` get -------------------------------------


class DynamicContext:
    """What ``needs_context`` kernels (random ops, dropout) see in dynamic mode: the backend,
    the module-wide random generator (``manual_seed``), no variables."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.xp = backend.xp
        self.variables: dict = {}
        self.rng = np.random.default_rng()
        self.random_generators: dict = {}

    def seed(self, seed) -> None:
        self.rng = np.random.default_rng(seed)
        self.random_generators.clear()

    def to_host(self, value):
        return self.backend.to_host(value)

    def generator_for(self, key: str, seeds=None):
        """The module generator; an op given its own seed gets a generator for that seed,
        which moves on with every call (as TF's eager ops do)."""
        if seeds is None:
            return self.rng
        seeds = tuple(seeds)
        generator = self.random_generators.get(seeds)
        if generator is None:
            generator = self.random_generators[seeds] = np.random.default_rng(list(seeds))
        return generator

    def call(self, function, args):
        raise NotImplementedError(
            "cond / while_loop ops do not run in flowgraph.dynamic: use Python's if and while, "
            "which define-by-run records as it goes"
        )


class DeviceContext(DynamicContext):
    """The context of ``needs_context`` kernels on a GPU: its backend, and the CPU context's
    random generators (random values are drawn on the host, then moved, so a seed gives the
    same numbers on every device)."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.xp = backend.xp
        self.variables = {}

    rng = property(lambda self: _host().rng)
    random_generators = property(lambda self: _host().random_generators)

    def seed(self, seed) -> None:
        _host().seed(seed)

    def generator_for(self, key: str, seeds=None):
        return _host().generator_for(key, seeds)


def _host() -> DynamicContext:
    return CPU_PLACE.context


CPU_PLACE = Placement(CPU, DynamicContext(get_backend("numpy")))  # where tensors live by default


def placement(requested) -> Placement:
    """The :class:`Placement` of a device (checked as :func:`check` does)."""
    dev = check(requested)
    place = _PLACES.get(dev)
    if place is None:
        place = _PLACES[dev] = Placement(dev, DeviceContext(get_backend(CUDA_BACKEND)))
    return place


def device_of(value) -> device:
    """The device an eager tensor's array is on (by its type: NumPy's is the CPU)."""
    place = _BY_ARRAY_TYPE.get(type(value))
    return CPU if place is None else place.device


def move(value, requested):
    """``value`` (an array) on device ``requested``: itself when it is there already, else a
    copy through the host, as ``Tensor.to`` makes."""
    target = placement(requested)
    source = _BY_ARRAY_TYPE.get(type(value)) or _PLACES[CPU]
    if source is target:
        return value
    host = np.asarray(source.backend.to_host(value))
    return target.backend.from_host(host)


def to_host(value) -> np.ndarray:
    """``value`` as a NumPy array (a copy when it is on a GPU)."""
    place = _BY_ARRAY_TYPE.get(type(value))
    if place is None or place.device is CPU:
        return value if isinstance(value, np.ndarray) else np.asarray(value)
    return np.asarray(place.backend.to_host(value))


def place_of(op_type: str, name: str, inputs, values):
    """The placement an op on ``values`` runs on, and the values to give its kernel: every
    array must be on one device, except 0-d CPU tensors (Python numbers made tensors), which
    join the others' device, as PyTorch allows; else PyTorch's "Expected all tensors to be on
    the same device" error."""
    places = [_BY_ARRAY_TYPE.get(v.__class__) for v in values]
    cpu = _BY_ARRAY_TYPE[np.ndarray]
    chosen = None
    for i, (place, v) in enumerate(zip(places, values)):
        if place is None:  # a NumPy scalar (a reduction's result) is a CPU value
            place = cpu
        if place is cpu and v.ndim == 0:
            continue
        if chosen is None:
            chosen = place
        elif place is not chosen:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two "
                f"devices, {chosen.device} and {place.device}! (when checking argument {i} of "
                f"{op_type} op {name!r})"
            )
    if chosen is None or chosen is cpu:
        return cpu, [v if v.__class__ is np.ndarray else np.asarray(v) for v in values]
    moved = [v if p is chosen else chosen.backend.from_host(np.asarray(v))
             for p, v in zip(places, values)]  # fmt: skip
    return chosen, moved


def set_default_device(requested) -> None:
    """The device creation functions use when given none (``None`` resets to ``"cpu"``)."""
    _default[0] = CPU if requested is None else check(requested)


def get_default_device() -> device:
    """The device creation functions use when given none."""
    return _default[0]


#: ``torch.cuda``: whether CuPy and a GPU are here (``is_available()``), and how many.
cuda = SimpleNamespace(
    is_available=_cuda_available,
    device_count=_cuda_count,
    manual_seed=lambda seed: None,
    manual_seed_all=lambda seed: None,
    __doc__="``torch.cuda``: whether CuPy and a GPU are here (``is_available()``), and how many.",
)


def _no_accelerator() -> bool:
    return False


#: ``torch.backends``: ``cuda``, ``mps`` and ``cudnn`` with ``is_available()``.
backends = SimpleNamespace(
    cuda=SimpleNamespace(is_available=_cuda_available, is_built=_cuda_available),
    mps=SimpleNamespace(is_available=_no_accelerator, is_built=_no_accelerator),
    cudnn=SimpleNamespace(
        is_available=_no_accelerator, enabled=False, benchmark=False, deterministic=False
    ),
    __doc__="``torch.backends``: ``cuda``, ``mps`` and ``cudnn`` with ``is_available()``.",
)


def _current_accelerator():
    return device("cuda") if _cuda_available() else None


#: ``torch.accelerator``: the GPU if one is usable (``current_accelerator()``), else None.
accelerator = SimpleNamespace(
    is_available=_cuda_available,
    current_accelerator=_current_accelerator,
    device_count=_cuda_count,
    __doc__="``torch.accelerator``: the GPU if one is usable (``current_accelerator()``), else "
    "None.",
)
