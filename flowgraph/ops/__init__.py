"""The op library: one registry entry per op, grouped by family.

Importing this package registers every op and installs the Tensor operators.
"""

from flowgraph.ops import (  # noqa: F401 - importing a family registers its ops
    activations,
    array,
    broadcast,
    checks,
    composite,
    control,
    control_flow,
    conv,
    linalg,
    losses,
    math,
    nd_indexing,
    nn,
    numerics,
    operators,  # noqa: F401 - installs Tensor operators
    pooling,
    random,
    reduce,
    slicing,
    splitting,
    state,
    summary,
    tiling,
)
from flowgraph.ops.registry import get_op_def, registered_op_types

__all__ = ["get_op_def", "registered_op_types"]
