"""The op library: one registry entry per op, grouped by family.

Importing this package registers every op and installs the Tensor operators.
"""

from flowgraph.ops import array, control, linalg, math, state  # noqa: F401 - registers ops
from flowgraph.ops import operators  # noqa: F401 - installs Tensor operators
from flowgraph.ops.registry import get_op_def, registered_op_types

__all__ = ["get_op_def", "registered_op_types"]
