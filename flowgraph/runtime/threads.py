"""How many threads BLAS (the library behind NumPy's matmul) uses while flowgraph computes.

A setting, not an accident: with OpenBLAS's default (one thread per core) the seed MLP's small
GEMMs (batch 100) run *slower* on two threads than on one as soon as another process wants a
core: the BLAS threads spin waiting for each other (measured on 2 shared cores: 2.2 ms per step
with 1 thread against 5.0 ms with 2; with a busy neighbour process 4.7 against 6.1 ms). So
flowgraph's default is **one BLAS thread** (:data:`DEFAULT_INTRA_OP_THREADS`), never
pathological; large GEMMs (inference at batch 10,000) gain from more on an idle machine, and
ask for them:

- ``Session(config=ConfigProto(intra_op_parallelism_threads=N))``: N threads around each of that
  session's runs (0, TF1's default, means flowgraph's process setting below);
- ``flowgraph.config.threading.set_intra_op_parallelism_threads(N)``: the process setting, also
  applied to BLAS at once for dynamic mode (like ``torch.set_num_threads``).

Around a run the BLAS thread count is read and changed only when it differs, and the caller's
count is restored after, so NumPy code outside flowgraph keeps its own. It goes through
threadpoolctl, which knows OpenBLAS, MKL and BLIS.

>>> set_intra_op_parallelism_threads(1)
>>> get_intra_op_parallelism_threads()
1
"""

from __future__ import annotations

DEFAULT_INTRA_OP_THREADS = 1

_setting = {"intra": DEFAULT_INTRA_OP_THREADS, "inter": 0}
_blas: list | None = None  # threadpoolctl's controllers of the loaded BLAS libraries


def _blas_libraries() -> list:
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController  # ~10 ms: only when first needed

        _blas = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
    return _blas


def _check(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an int >= 0 (0: flowgraph's default), got {value!r}")
    return value


def set_intra_op_parallelism_threads(num_threads: int) -> None:
    """Use ``num_threads`` BLAS threads from now on (0: flowgraph's default, one): in dynamic
    mode at once, and in every Session whose config does not set its own."""
    _setting["intra"] = _check("intra_op_parallelism_threads", num_threads)
    for lib in _blas_libraries():
        lib.set_num_threads(resolve(0))


def get_intra_op_parallelism_threads() -> int:
    """The process setting of BLAS threads (what ``set_intra_op_parallelism_threads`` set)."""
    return _setting["intra"] or DEFAULT_INTRA_OP_THREADS


def set_inter_op_parallelism_threads(num_threads: int) -> None:
    """Accepted for TF1 programs; flowgraph runs one op at a time, so it changes nothing."""
    _setting["inter"] = _check("inter_op_parallelism_threads", num_threads)


def get_inter_op_parallelism_threads() -> int:
    """The value ``set_inter_op_parallelism_threads`` recorded (0 unless set)."""
    return _setting["inter"]


def resolve(requested: int | None) -> int:
    """The thread count a run uses: ``requested`` when > 0, else the process setting."""
    return requested or _setting["intra"] or DEFAULT_INTRA_OP_THREADS


def enter(num_threads: int):
    """Set BLAS to ``num_threads`` where it differs; returns what :func:`leave` restores."""
    changed = None
    for lib in _blas if _blas is not None else _blas_libraries():
        before = lib.get_num_threads()
        if before != num_threads:
            lib.set_num_threads(num_threads)
            if changed is None:
                changed = []
            changed.append((lib, before))
    return changed


def leave(changed) -> None:
    """Put back the thread counts :func:`enter` changed."""
    if changed:
        for lib, before in changed:
            lib.set_num_threads(before)


def set_num_threads(num_threads: int) -> None:
    """``torch.set_num_threads``'s spelling of :func:`set_intra_op_parallelism_threads`
    (``flowgraph.dynamic.set_num_threads``); must be >= 1 as in PyTorch."""
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {num_threads!r}")
    set_intra_op_parallelism_threads(num_threads)


def get_num_threads() -> int:
    """``torch.get_num_threads``'s spelling of :func:`get_intra_op_parallelism_threads`."""
    return get_intra_op_parallelism_threads()
