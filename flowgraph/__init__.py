"""flowgraph: a TensorFlow-1-style static dataflow-graph engine on NumPy.

Build a graph of placeholders, variables and ops; a Session compiles and runs it.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 3], name="x")
...     y = fg.reduce_sum(x * 2.0, axis=1)
...     with fg.Session() as sess:
...         print(sess.run(y, feed_dict={x: [[1, 2, 3]]}))
[12.]
"""

from flowgraph import config, errors, layers, losses, metrics, train, viz
from flowgraph.autodiff import explain_gradient, gradients
from flowgraph.graph import (
    DType,
    Graph,
    GraphKeys,
    Operation,
    Tensor,
    TensorShape,
    as_dtype,
    get_default_graph,
    get_default_session,
    reset_default_graph,
)
from flowgraph.graph.dtypes import (
    bool_,
    float16,
    float32,
    float64,
    int8,
    int16,
    int32,
    int64,
    string,
    uint8,
)
from flowgraph.ops import initializers, nn
from flowgraph.ops.array import *  # noqa: F403
from flowgraph.ops.assertions import (
    assert_equal,
    assert_greater,
    assert_greater_equal,
    assert_less,
    assert_less_equal,
    assert_negative,
    assert_non_negative,
    assert_positive,
    map_fn,
)
from flowgraph.ops.checks import Assert, is_variable_initialized, report_uninitialized_variables
from flowgraph.ops.clipping import clip_by_global_norm, clip_by_norm, global_norm
from flowgraph.ops.control_flow import case, cond, while_loop
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.derived import eye, reciprocal, reduce_logsumexp
from flowgraph.ops.linalg import matmul
from flowgraph.ops.math import *  # noqa: F403
from flowgraph.ops.matrix import (
    diag,
    diag_part,
    einsum,
    matrix_determinant,
    matrix_inverse,
    norm,
    tensordot,
    trace,
)
from flowgraph.ops.nd_indexing import cumsum, gather_nd, scatter_nd, top_k
from flowgraph.ops.numerics import add_check_numerics_ops, check_numerics
from flowgraph.ops.ordering import Print, control_dependencies, group, no_op
from flowgraph.ops.random import *  # noqa: F403
from flowgraph.ops.reduce import *  # noqa: F403
from flowgraph.ops.registry import RegisterGradient, no_gradient
from flowgraph.ops.rounding import ceil, floor, is_finite, is_inf, is_nan, round
from flowgraph.ops.search import count_nonzero, in_top_k, sequence_mask, unique
from flowgraph.ops.selection import boolean_mask, embedding_lookup
from flowgraph.ops.special import erf
from flowgraph.ops.state import (
    Variable,
    assign,
    assign_add,
    assign_sub,
    constant,
    global_variables,
    global_variables_initializer,
    placeholder,
    placeholder_with_default,
    trainable_variables,
    variables_initializer,
)
from flowgraph.ops.statistics import (
    logical_xor,
    reduce_std,
    reduce_variance,
    unsorted_segment_mean,
    unsorted_segment_sum,
)
from flowgraph.ops.variable_scope import (
    AUTO_REUSE,
    VariableScope,
    get_local_variable,
    get_variable,
    get_variable_scope,
    local_variables,
    local_variables_initializer,
    variable_scope,
)
from flowgraph.ops.views import argsort, linspace, matrix_transpose, reverse, slice, sort
from flowgraph.runtime.config import ConfigProto, GPUOptions
from flowgraph.runtime.profiling import RunMetadata, RunOptions
from flowgraph.runtime.session import InteractiveSession, Session
from flowgraph.testing import check_gradients

bool = bool_  # noqa: A001 - TF spells it flowgraph.bool
newaxis = None
"""Index with ``newaxis`` to insert a dimension of size 1 (``x[:, fg.newaxis]``), as in NumPy."""


def name_scope(name):
    """Context manager prefixing op names with ``name/`` in the default graph."""
    return get_default_graph().name_scope(name)


def device(device_name):
    """Context manager placing ops created inside on ``device_name`` (default graph)."""
    return get_default_graph().device(device_name)


def get_collection(key, scope=None):
    """The values in the default graph's collection ``key`` (names matching ``scope``, if given)."""
    return get_default_graph().get_collection(key, scope)


def add_to_collection(name, value):
    """Add ``value`` to the default graph's collection ``name``."""
    get_default_graph().add_to_collection(name, value)


from flowgraph import summary  # noqa: E402 - TensorBoard summaries (the extra loads lazily)

__version__ = "0.1.0"


def __getattr__(name: str):
    # Tracing (``flowgraph.function``) builds on dynamic mode, which sits above everything
    # here: it is imported on first use, so `import flowgraph` stays fast (~60 ms less).
    if name in ("function", "TensorSpec"):
        from flowgraph.dynamic import tracing

        globals().update(function=tracing.function, TensorSpec=tracing.TensorSpec)
        return globals()[name]
    raise AttributeError(f"module 'flowgraph' has no attribute {name!r}")
