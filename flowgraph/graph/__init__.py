"""The graph IR: Graph, Operation, Tensor, TensorShape, dtypes, name scopes, collections.

This layer knows nothing about arrays or kernels; the op library builds on it.
"""

from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import (
    get_default_graph,
    get_default_session,
    reset_default_graph,
)
from flowgraph.graph.dtypes import DType, as_dtype
from flowgraph.graph.graph import Graph, GraphKeys
from flowgraph.graph.operation import Operation
from flowgraph.graph.shape import TensorShape, as_shape
from flowgraph.graph.site import CreationSite, user_site
from flowgraph.graph.tensor import Tensor

__all__ = [
    "CreationSite",
    "DType",
    "Graph",
    "GraphKeys",
    "Operation",
    "Tensor",
    "TensorShape",
    "as_dtype",
    "as_shape",
    "dtypes",
    "get_default_graph",
    "get_default_session",
    "reset_default_graph",
    "user_site",
]
