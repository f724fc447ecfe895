"""BLAS threads as a setting (``tf.config.threading``'s spelling; see
``flowgraph/runtime/threads.py`` for the default and why).

>>> import flowgraph as fg
>>> fg.config.threading.set_intra_op_parallelism_threads(1)
>>> fg.config.threading.get_intra_op_parallelism_threads()
1
"""

from flowgraph.runtime.threads import (
    DEFAULT_INTRA_OP_THREADS,
    get_inter_op_parallelism_threads,
    get_intra_op_parallelism_threads,
    set_inter_op_parallelism_threads,
    set_intra_op_parallelism_threads,
)

__all__ = [
    "DEFAULT_INTRA_OP_THREADS",
    "get_inter_op_parallelism_threads",
    "get_intra_op_parallelism_threads",
    "set_inter_op_parallelism_threads",
    "set_intra_op_parallelism_threads",
]
