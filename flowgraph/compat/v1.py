"""TensorFlow 1's spellings, so that TF1 programs run unchanged: ``import flowgraph.compat.v1
as tf``.

Every name here is an alias of flowgraph's own API (no logic lives in this module); the
namespaces ``tf.nn``, ``tf.train``, ``tf.random`` and ``tf.math`` are modules gathering
aliases too.

>>> import flowgraph.compat.v1 as tf
>>> with tf.Graph().as_default():
...     x = tf.placeholder(tf.float32, [None, 3])
...     with tf.variable_scope("model"):
...         logits = tf.layers.dense(x, 2, kernel_initializer=tf.ones_initializer())
...     with tf.Session() as sess:
...         sess.run(tf.global_variables_initializer())
...         print(sess.run(tf.argmax(logits, 1), {x: [[1.0, 2.0, 3.0]]}), logits.name)
[0] model/dense/BiasAdd:0
"""

import sys as _sys
import types as _types

from flowgraph import (
    ConfigProto,
    DType,
    GPUOptions,
    Graph,
    GraphKeys,
    InteractiveSession,
    Operation,
    Print,
    RegisterGradient,
    RunMetadata,
    RunOptions,
    Session,
    Tensor,
    TensorShape,
    Variable,
    add_check_numerics_ops,
    add_to_collection,
    as_dtype,
    assign,
    assign_add,
    assign_sub,
    case,
    check_numerics,
    cond,
    constant,
    control_dependencies,
    convert_to_tensor,
    device,
    errors,
    float16,
    float32,
    float64,
    get_collection,
    get_default_graph,
    get_default_session,
    global_variables,
    global_variables_initializer,
    gradients,
    group,
    int8,
    int16,
    int32,
    int64,
    layers,
    losses,
    matmul,
    metrics,
    name_scope,
    newaxis,
    no_op,
    placeholder,
    placeholder_with_default,
    reset_default_graph,
    string,
    trainable_variables,
    uint8,
    variables_initializer,
    while_loop,
)
from flowgraph import bool_ as bool
from flowgraph import nn as _fg_nn
from flowgraph import train as _fg_train
from flowgraph.graph import dtypes
from flowgraph.io import export_graph, import_graph
from flowgraph.io import import_graph_dict as import_graph_def  # a GraphDef here is its dict
from flowgraph.ops import initializers
from flowgraph.ops.array import (
    concat,
    expand_dims,
    fill,
    gather,
    identity,
    one_hot,
    ones,
    ones_like,
    pad,
    range,
    rank,
    reshape,
    shape,
    size,
    split,
    squeeze,
    stack,
    stop_gradient,
    strided_slice,
    tile,
    transpose,
    unstack,
    zeros,
    zeros_like,
)
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
from flowgraph.ops.derived import (
    eye,
    reciprocal,
    reduce_logsumexp,
    to_double,
    to_float,
    to_int32,
    to_int64,
)
from flowgraph.ops.math import (
    abs,
    add,
    add_n,
    cast,
    clip_by_value,
    cos,
    divide,
    equal,
    exp,
    floordiv,
    floormod,
    greater,
    greater_equal,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    pow,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    squared_difference,
    subtract,
    tanh,
    truediv,
    where,
    where_v2,
)
from flowgraph.ops.math import real_div as realdiv
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
from flowgraph.ops.random import (
    multinomial,
    random_normal,
    random_shuffle,
    random_uniform,
    set_random_seed,
    truncated_normal,
)
from flowgraph.ops.reduce import (
    argmax,
    argmin,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
)
from flowgraph.ops.registry import no_gradient as NoGradient
from flowgraph.ops.registry import no_gradient as NotDifferentiable
from flowgraph.ops.rounding import ceil, floor, is_finite, is_inf, is_nan, round
from flowgraph.ops.search import count_nonzero, div, in_top_k, sequence_mask, unique
from flowgraph.ops.selection import boolean_mask, embedding_lookup
from flowgraph.ops.special import erf
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
    model_variables,
    variable_scope,
)
from flowgraph.ops.views import argsort, linspace, matrix_transpose, reverse, slice, sort

initialize_all_variables = global_variables_initializer  # TF1's deprecated name
arg_max = argmax  # TF1's deprecated spellings
arg_min = argmin
lin_space = linspace
initialize_variables = variables_initializer
log_sigmoid = _fg_nn.log_sigmoid
verify_tensor_all_finite = check_numerics  # TF1's other name (message as second argument)

# ---- initializers, under their tf.* names ----------------------------------------------------
zeros_initializer = initializers.Zeros
ones_initializer = initializers.Ones
constant_initializer = initializers.Constant
random_normal_initializer = initializers.RandomNormal
truncated_normal_initializer = initializers.TruncatedNormal
random_uniform_initializer = initializers.RandomUniform
glorot_uniform_initializer = initializers.GlorotUniform
glorot_normal_initializer = initializers.GlorotNormal
variance_scaling_initializer = initializers.VarianceScaling


# ---- namespaces ------------------------------------------------------------------------------


def _namespace(name: str, *sources, **extra) -> _types.ModuleType:
    """A module holding the public names of ``sources`` (modules) and ``extra``."""
    module = _types.ModuleType(f"{__name__}.{name}")
    module.__doc__ = f"TF1's ``tf.{name}``: aliases of flowgraph's own API."
    for source in sources:
        names = getattr(source, "__all__", None) or [
            n for n in vars(source) if not n.startswith("_")
        ]
        for n in names:
            setattr(module, n, getattr(source, n))
    for n, value in extra.items():
        setattr(module, n, value)
    return module


from flowgraph.layers import rnn as _rnn  # noqa: E402

nn = _namespace(
    "nn",
    _fg_nn,
    rnn_cell=_namespace(
        "nn.rnn_cell",
        **{n: getattr(_rnn, n) for n in _rnn.__all__ if n not in ("static_rnn", "dynamic_rnn")},
    ),
    static_rnn=_rnn.static_rnn,
    dynamic_rnn=_rnn.dynamic_rnn,
    top_k=top_k,
    embedding_lookup=embedding_lookup,
    sigmoid=sigmoid,
    tanh=tanh,
)

train = _namespace("train", _fg_train)  # Saver and checkpoint helpers included

# ---- tf.app, tf.flags, tf.gfile, tf.logging ------------------------------------------------
from flowgraph.compat import app, flags  # noqa: E402
from flowgraph.compat import tf_logging as logging  # noqa: E402
from flowgraph.compat.modes import (  # noqa: E402
    disable_eager_execution,
    disable_v2_behavior,
    enable_eager_execution,
    executing_eagerly,
)
from flowgraph.io import gfile  # noqa: E402

linalg = _namespace(
    "linalg",
    matrix_transpose=matrix_transpose,
    tensordot=tensordot,
    trace=trace,
    det=matrix_determinant,
    inv=matrix_inverse,
    diag_part=diag_part,
    einsum=einsum,
    norm=norm,
    matmul=matmul,
    eye=eye,
    transpose=transpose,
)

random = _namespace(
    "random",
    normal=random_normal,
    truncated_normal=truncated_normal,
    uniform=random_uniform,
    shuffle=random_shuffle,
    multinomial=multinomial,
    set_random_seed=set_random_seed,
)

math = _namespace(
    "math",
    abs=abs,
    add=add,
    add_n=add_n,
    argmax=argmax,
    argmin=argmin,
    cos=cos,
    ceil=ceil,
    count_nonzero=count_nonzero,
    cumsum=cumsum,
    floor=floor,
    is_finite=is_finite,
    is_inf=is_inf,
    is_nan=is_nan,
    round=round,
    logical_xor=logical_xor,
    reduce_std=reduce_std,
    reduce_variance=reduce_variance,
    unsorted_segment_mean=unsorted_segment_mean,
    unsorted_segment_sum=unsorted_segment_sum,
    divide=divide,
    equal=equal,
    exp=exp,
    floordiv=floordiv,
    floormod=floormod,
    greater=greater,
    greater_equal=greater_equal,
    in_top_k=in_top_k,
    l2_normalize=_fg_nn.l2_normalize,
    log_sigmoid=_fg_nn.log_sigmoid,
    less=less,
    less_equal=less_equal,
    log=log,
    log1p=log1p,
    erf=erf,
    logical_and=logical_and,
    logical_not=logical_not,
    logical_or=logical_or,
    maximum=maximum,
    minimum=minimum,
    multiply=multiply,
    negative=negative,
    not_equal=not_equal,
    pow=pow,
    reciprocal=reciprocal,
    reduce_all=reduce_all,
    reduce_any=reduce_any,
    reduce_logsumexp=reduce_logsumexp,
    reduce_max=reduce_max,
    reduce_mean=reduce_mean,
    reduce_min=reduce_min,
    reduce_prod=reduce_prod,
    reduce_sum=reduce_sum,
    rsqrt=rsqrt,
    sigmoid=sigmoid,
    sign=sign,
    sin=sin,
    sqrt=sqrt,
    square=square,
    squared_difference=squared_difference,
    subtract=subtract,
    tanh=tanh,
    top_k=top_k,
    truediv=truediv,
)

from flowgraph import summary  # noqa: E402 - tf.summary: scalar, histogram, ..., FileWriter

Summary, Event = summary.Summary, summary.Event  # tf.Summary(value=[tf.Summary.Value(...)])

# `tf.compat.v1.placeholder` in a program whose import became `import flowgraph.compat.v1 as tf`
compat = _namespace("compat", v1=_sys.modules[__name__])
