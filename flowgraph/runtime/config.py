"""``ConfigProto``: TF1's session configuration, with the fields flowgraph honours.

>>> import flowgraph as fg
>>> config = fg.ConfigProto(intra_op_parallelism_threads=2, inter_op_parallelism_threads=1)
>>> with fg.Graph().as_default():
...     with fg.Session(config=config) as sess:
...         print(sess.intra_op_parallelism_threads)
2
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class GPUOptions:
    """TF1's ``tf.GPUOptions``: accepted so that ``config.gpu_options.allow_growth = True``
    and friends run; CuPy manages its own memory pool, so they change nothing.

    >>> config = ConfigProto()
    >>> config.gpu_options.allow_growth = True
    """

    allow_growth: bool = False
    per_process_gpu_memory_fraction: float = 0.0
    visible_device_list: str = ""


@dataclass
class ConfigProto:
    """Session options, spelled as TF1's ``tf.ConfigProto`` (keyword arguments only).

    Honoured: ``intra_op_parallelism_threads`` (BLAS threads around each run; 0 means the
    process setting of ``flowgraph.config.threading``, one thread unless changed — see
    ``flowgraph/runtime/threads.py`` for why), ``device_backends`` (flowgraph's map of devices
    to backends) and ``flush_denormals`` (flowgraph's own, default True: flush-to-zero and
    denormals-are-zero while a run computes, as TF does; see ``flowgraph/runtime/fpenv.py``)
    and ``plan_cache_size`` (flowgraph's own: how many compiled plans a session keeps, least
    recently used dropped first; 0 means the default, 256).
    Accepted so TF1 programs run, with no effect: ``inter_op_parallelism_threads`` (ops run one
    at a time), ``allow_soft_placement``, ``log_device_placement``, ``device_count``,
    ``gpu_options``, ``graph_options``, ``operation_timeout_in_ms``. An unknown field is a
    TypeError, as TF1's is a ValueError.
    """

    intra_op_parallelism_threads: int = 0
    inter_op_parallelism_threads: int = 0
    allow_soft_placement: bool = False
    log_device_placement: bool = False
    device_count: dict = field(default_factory=dict)
    gpu_options: GPUOptions = field(default_factory=GPUOptions)
    graph_options: Any = None
    operation_timeout_in_ms: int = 0
    device_backends: dict | None = None
    flush_denormals: bool = True
    plan_cache_size: int = 0

    def __post_init__(self) -> None:
        for name in ("intra_op_parallelism_threads", "inter_op_parallelism_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"ConfigProto({name}={value!r}): expected an int >= 0")
