"""A stand-in for CuPy, so that device placement is tested on machines without a GPU.

Arrays are :class:`DeviceArray`, a NumPy array type of its own (as ``cupy.ndarray`` is), with
CuPy's ``.get()``. Like CuPy, NumPy functions and ufuncs given a device array compute on the
"device" (NEP 13/18 dispatch) and refuse host arrays of rank > 0 mixed in (CuPy raises
``TypeError: Unsupported type <class 'numpy.ndarray'>``). The module itself (``xp``) is NumPy
seen through a wrapper that counts its calls (``calls``) and returns device arrays, so a test
can tell that a kernel was given this namespace and not NumPy.
"""

from __future__ import annotations

import types

import numpy as np

from flowgraph.backends.registry import Backend, register_backend


class DeviceArray(np.ndarray):
    """An array "on the GPU"."""

    def get(self) -> np.ndarray:
        """A host copy (CuPy's spelling)."""
        return np.array(self.view(np.ndarray), copy=True)

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        _refuse_host(inputs + (out or ()))
        if out is not None:
            kwargs["out"] = tuple(_host_view(o) for o in out)
        result = getattr(ufunc, method)(*(_host_view(i) for i in inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _on_device(result)

    def __array_function__(self, func, types_, args, kwargs):
        _refuse_host(_flat(args) + _flat(tuple(kwargs.values())))
        return _on_device(func(*_unwrap(args), **_unwrap(kwargs)))


def _flat(items) -> tuple:
    out = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out.extend(_flat(item))
        else:
            out.append(item)
    return tuple(out)


def _refuse_host(items) -> None:
    for item in _flat(items):
        if type(item) is np.ndarray and item.ndim > 0:
            raise TypeError(f"Unsupported type {type(item)} (a host array given to the device)")


def _host_view(value):
    return value.view(np.ndarray) if isinstance(value, DeviceArray) else value


def _unwrap(value):
    if isinstance(value, DeviceArray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _on_device(value):
    if isinstance(value, DeviceArray):
        return value
    if isinstance(value, np.ndarray):
        return value.view(DeviceArray)
    if isinstance(value, np.generic):  # CuPy's reductions give 0-d arrays, not scalars
        return np.asarray(value).view(DeviceArray)
    if isinstance(value, tuple):
        return tuple(_on_device(v) for v in value)
    return value


class StandInCupy(types.ModuleType):
    """NumPy's functions, returning device arrays, with a count of calls (``calls``)."""

    def __init__(self) -> None:
        super().__init__("stand_in_cupy")
        self.calls = 0
        self.ndarray = DeviceArray

    def __getattr__(self, name):
        target = getattr(np, name)
        if isinstance(target, types.ModuleType):
            return target
        if not callable(target) or isinstance(target, type):
            return target  # dtypes (xp.float32) and constants stay NumPy's

        def on_device(*args, **kwargs):
            self.calls += 1
            _refuse_host(_flat(args))
            return _on_device(target(*_unwrap(args), **_unwrap(kwargs)))

        on_device.__name__ = name
        return on_device

    def asarray(self, value, dtype=None, copy=None):
        """From the host (a copy) or already on the device."""
        self.calls += 1
        if isinstance(value, DeviceArray) and dtype in (None, value.dtype) and not copy:
            return value
        return np.array(_unwrap(value), dtype=dtype, copy=True).view(DeviceArray)

    def asnumpy(self, value) -> np.ndarray:
        return value.get() if isinstance(value, DeviceArray) else np.asarray(value)


def install(monkeypatch) -> StandInCupy:
    """Register the stand-in as the backend of "cuda" tensors for one test; returns it."""
    from flowgraph.dynamic import devices

    xp = StandInCupy()
    backend = Backend("stand_in_cupy", xp, xp.asarray, xp.asnumpy, True, "cuda:0")
    register_backend("stand_in_cupy", lambda: backend)
    monkeypatch.setattr(devices, "CUDA_BACKEND", "stand_in_cupy")
    devices.use_cuda_backend("stand_in_cupy")
    monkeypatch.setattr(devices, "_default", [devices.CPU])
    return xp


def uninstall() -> None:
    from flowgraph.dynamic import devices

    devices.use_cuda_backend("cupy")
