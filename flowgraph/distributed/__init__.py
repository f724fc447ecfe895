"""Running plans on an existing distributed engine: Dask (``dask.distributed``).

Needs the ``distributed`` extra (``pip install flowgraph[distributed]``). See
:mod:`flowgraph.distributed.session` for placement, data movement and failure guarantees,
and :mod:`flowgraph.distributed.replicate` for data-parallel training.
"""

from flowgraph.distributed.partition import device_task
from flowgraph.distributed.replicate import DataParallel, data_parallel
from flowgraph.distributed.session import DistributedSession, local_cluster

Session = DistributedSession  # flowgraph.distributed.Session(client): TF1's Session(target=...)

__all__ = [
    "DataParallel",
    "DistributedSession",
    "Session",
    "data_parallel",
    "device_task",
    "local_cluster",
]
