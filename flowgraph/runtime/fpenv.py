"""Flush-to-zero (FTZ) and denormals-are-zero (DAZ) on the thread that computes, as TF does.

Why: float arithmetic on denormal numbers (|x| < 1.2e-38 in float32) is 10-100x slower on most
CPUs. Adam's second moments drift into that range after a few hundred steps of the seed model,
and every step then costs ~3.5x more. TensorFlow sets FTZ/DAZ on its compute threads for each
kernel; flowgraph sets them around each ``Session.run`` (and each dynamic-mode backward pass and
optimizer step) on the calling thread, and restores the caller's floating-point state after, so
NumPy code outside flowgraph keeps IEEE denormals.

How: C's ``fegetenv``/``fesetenv`` (libm, through ctypes) read and write the whole
floating-point environment; flowgraph flips the FTZ/DAZ bits in the saved copy. This is a few
lines rather than a dependency: the one PyPI package for it (``daz``) is a compiled extension
last released in 2018. The bits live in a field whose place in ``fenv_t`` is fixed by the C
library's ABI, known here for Linux (glibc and musl) on:

- x86-64: ``fenv_t`` is the 28-byte x87 environment followed by MXCSR (32-bit word 7);
  FTZ is MXCSR bit 15, DAZ bit 6 (SSE/AVX arithmetic, which NumPy uses, obeys MXCSR);
- aarch64: ``fenv_t`` is ``{fpcr, fpsr}``; FPCR bit 24 (FZ) flushes both inputs and outputs.

Elsewhere (macOS, Windows, other CPUs) :func:`enter` is a no-op that warns once.
BLAS worker threads (more than one BLAS thread) keep their own state; the elementwise kernels
where denormals arise (optimizer updates, activations) run on the calling thread.

>>> import numpy as np
>>> tiny = np.float32(1e-30)
>>> saved = enter()
>>> inside = tiny * np.float32(1e-10)  # 1e-40 is denormal: flushed to 0 where supported
>>> leave(saved)
>>> float(tiny * np.float32(1e-10)) > 0  # the caller's state is back
True
>>> not supported() or float(inside) == 0.0
True
"""

from __future__ import annotations

import ctypes
import platform
import sys
import threading
import warnings
from contextlib import contextmanager

# (number of 32-bit words in fenv_t, the word holding the flags, the FTZ/DAZ bits, the
# control bits of that word: MXCSR's low 6 bits are sticky exception flags, not settings)
_LAYOUTS = {
    "x86_64": (8, 7, (1 << 15) | (1 << 6), ~0x3F),
    "amd64": (8, 7, (1 << 15) | (1 << 6), ~0x3F),
    "aarch64": (2, 0, 1 << 24, ~0),
    "arm64": (2, 0, 1 << 24, ~0),
}


def _load():
    """``(fegetenv, fesetenv, words, index, bits)`` for this platform, or None."""
    layout = _LAYOUTS.get(platform.machine().lower())
    if layout is None or not sys.platform.startswith("linux"):
        return None
    # Not ctypes.util.find_library: it runs `ldconfig -p` (~10 ms at import). glibc's libm is
    # libm.so.6; musl has the functions in libc, which CDLL(None) (the process) reaches.
    for name in ("libm.so.6", None):
        try:
            libm = ctypes.CDLL(name)
            get, set_ = libm.fegetenv, libm.fesetenv
            break
        except (OSError, AttributeError):
            continue
    else:
        return None
    get.restype = set_.restype = ctypes.c_int
    return (get, set_, *layout)


_IMPL = _load()
_WARNED = False


class _Cache(threading.local):
    """Per thread: a buffer to read the environment into, and the last caller state seen
    with its flushing variant, so a run usually costs one read and two writes (~0.6 us)."""

    scratch = None
    key = None
    saved = None
    flushing = None


_cache = _Cache()


def supported() -> bool:
    """Whether flowgraph can set flush-to-zero on this platform (Linux on x86-64 or aarch64).

    >>> isinstance(supported(), bool)
    True
    """
    return _IMPL is not None


def enter():
    """Set FTZ and DAZ on the calling thread; returns what :func:`leave` needs to restore the
    caller's state (None when nothing was changed)."""
    if _IMPL is None:
        _warn_once()
        return None
    get, set_, words, index, bits, control = _IMPL
    cache = _cache
    current = cache.scratch
    if current is None:
        current = cache.scratch = (ctypes.c_uint32 * words)()
    if get(current) != 0 or current[index] & bits == bits:
        return None  # already flushing (a nested run, or the caller's own choice)
    key = (current[0] & 0xFFFF, current[index] & control)  # the settings, not sticky flags
    if key != cache.key:
        cache.saved = (ctypes.c_uint32 * words).from_buffer_copy(current)
        flushing = (ctypes.c_uint32 * words).from_buffer_copy(current)
        flushing[index] |= bits
        cache.key, cache.flushing = key, flushing
    set_(cache.flushing)
    return cache.saved


def leave(saved) -> None:
    """Restore the floating-point settings :func:`enter` saved (rounding, exception masks,
    FTZ/DAZ; the sticky exception flags come back as they were when those settings were
    first seen, which NumPy does not rely on: it clears them before each check)."""
    if saved is not None:
        _IMPL[1](saved)


@contextmanager
def flushing(enabled: bool = True):
    """FTZ/DAZ inside the block (when ``enabled``), the caller's state restored after; what
    dynamic mode's ``backward()`` and ``optimizer.step()`` run under."""
    saved = enter() if enabled else None
    try:
        yield
    finally:
        leave(saved)


def set_flush_denormal(mode: bool) -> bool:
    """Turn FTZ/DAZ on or off for the calling thread until changed again, like
    ``torch.set_flush_denormal``; returns False where unsupported.

    >>> import numpy as np
    >>> if set_flush_denormal(True):
    ...     print(np.float32(1e-30) * np.float32(1e-10))
    0.0
    >>> set_flush_denormal(False) == supported()
    True
    """
    if _IMPL is None:
        return False
    get, set_, words, index, bits, _ = _IMPL
    env = (ctypes.c_uint32 * words)()
    get(env)
    env[index] = (env[index] | bits) if mode else (env[index] & ~bits)
    set_(env)
    return True


def _warn_once() -> None:
    global _WARNED
    if not _WARNED:
        _WARNED = True
        warnings.warn(
            f"flowgraph cannot set flush-to-zero on {sys.platform}/{platform.machine()}: runs "
            "keep IEEE denormals, which can make long trainings slower (see "
            "flowgraph/runtime/fpenv.py)",
            RuntimeWarning,
            stacklevel=3,
        )
