"""The op library: one registry entry per op, grouped by family.

Importing this package registers every op and installs the Tensor operators.
"""

from flowgraph.ops import (  # noqa: F401 - importing a family registers its ops
    activations,
    array,
    assertions,
    broadcast,
    checks,
    clipping,
    control_flow,
    conv,
    derived,
    linalg,
    losses,
    math,
    matrix,
    nd_indexing,
    nn,
    numerics,
    operators,  # noqa: F401 - installs Tensor operators
    ordering,
    pooling,
    random,
    reduce,
    rounding,
    search,
    selection,
    slicing,
    special,
    splitting,
    state,
    statistics,
    summary,
    tiling,
    views,
)
from flowgraph.ops.registry import get_op_def, registered_op_types

__all__ = ["get_op_def", "registered_op_types"]
