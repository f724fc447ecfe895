"""Device strings and which backend runs each device.

Ops record the device they were created under (``with fg.device("/gpu:0"):``). A Session maps
device strings to backends: by default ``"/cpu:0"`` (and ops with no device) run on the
session's backend and ``"/gpu:0"`` on CuPy; ``Session(device_backends={...})`` changes that, so
two CPU namespaces can stand in for a CPU and a GPU where there is no GPU.

TF spells one device many ways; all of them name the same canonical device:

>>> [canonical_device(d) for d in ("/gpu:0", "/device:GPU:0", "GPU", "/job:w/task:0/cpu:1")]
['/gpu:0', '/gpu:0', '/gpu:0', '/cpu:1']
>>> device_label("/gpu:0"), device_label("/gpu:1"), device_label("/device:strict:0")
('gpu', 'gpu1', 'strict')
"""

from __future__ import annotations

import re
from functools import lru_cache

from flowgraph.backends.registry import Backend, BackendUnavailableError, get_backend
from flowgraph.errors import echo

_DEFAULT_GPU_BACKEND = "cupy"
_SKIPPED_PARTS = ("job:", "replica:", "task:")


@lru_cache(maxsize=256)
def canonical_device(device: str | None) -> str:
    """``"/<kind>:<index>"`` in lower case (``""`` for no device)."""
    if not device:
        return ""
    spec = ""
    for part in device.lower().strip().split("/"):
        if not part or part.startswith(_SKIPPED_PARTS):
            continue
        spec = part[len("device:") :] if part.startswith("device:") else part
    if not spec:
        return ""
    kind, _, index = spec.partition(":")
    if not kind or not re.fullmatch(r"\d*", index):
        raise ValueError(f"Cannot read the device string {echo(device)} (use e.g. '/gpu:0')")
    return f"/{kind}:{int(index or 0)}"


def device_label(device: str) -> str:
    """A short identifier for generated code: ``gpu`` for ``/gpu:0``, ``gpu1`` for ``/gpu:1``."""
    canonical = canonical_device(device) or "/cpu:0"
    kind, index = canonical[1:].split(":")
    kind = re.sub(r"\W", "_", kind)
    return kind if index == "0" else f"{kind}{index}"


class DevicePlacement:
    """Which backend runs each device: ``placement.backend_for("/gpu:0")``.

    ``default``: the session's backend, which runs ops without a device and ``/cpu:*`` ops
    unless ``device_backends`` says otherwise. ``device_backends`` maps device strings to
    backend names, Backends or array namespaces; ``/gpu:0`` defaults to CuPy. A backend is
    created only when an op placed on its device is compiled.

    >>> from flowgraph.backends import get_backend
    >>> p = DevicePlacement(get_backend("numpy"), {"/device:GPU:0": "numpy"})
    >>> p.backend_for("/gpu:0").name, p.backend_for("").name
    ('numpy', 'numpy')
    """

    def __init__(self, default: Backend, device_backends: dict | None = None) -> None:
        self.default = default
        self.mapping = {canonical_device(k): v for k, v in (device_backends or {}).items()}
        self._resolved: dict[str, Backend] = {"": default}

    def backend_for(self, device: str) -> Backend:
        backend = self._resolved.get(device)
        if backend is None:
            backend = self._resolved[device] = self._resolve(device)
        return backend

    def _resolve(self, device: str) -> Backend:
        canonical = canonical_device(device)
        if not canonical:
            return self.default
        choice = self.mapping.get(canonical)
        if choice is None:
            if canonical.startswith("/cpu:"):
                return self.default
            if canonical == "/gpu:0":
                choice = _DEFAULT_GPU_BACKEND
            else:
                raise ValueError(
                    f"No backend runs device {echo(canonical)}; map it with "
                    f"Session(device_backends={{{echo(canonical)}: 'numpy'}}) or similar"
                )
        try:
            return get_backend(choice)
        except BackendUnavailableError as e:
            raise BackendUnavailableError(
                f"Device {echo(canonical)} runs on {choice!r}: {e}"
            ) from e

    @property
    def devices(self) -> dict:
        """The devices resolved so far, with their backends."""
        return dict(self._resolved)
