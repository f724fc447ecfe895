"""Random ops: normal, truncated normal, uniform, shuffle and multinomial draws, seeded as TF1.

Every random op is *stateful*: it draws new values each time it runs, and compiler passes never
fold or merge two of them. Its generator lives in the Session (one per op, made on first use),
so two sessions on the same seeded graph see the same sequences, and each ``run`` moves on.

Seeds follow TF1 (``tf.compat.v1.set_random_seed``): an op's effective seeds are the pair
(graph seed, op seed).

- graph seed and op seed both set: both are used;
- only the graph seed: the op seed is the op's creation index in its graph, so rebuilding the
  same program gives the same values;
- only the op seed: a fixed default graph seed is used with it;
- neither: the op is seeded from the session's own generator (``Session(seed=...)``), so it
  differs from session to session unless that seed is given.

>>> import flowgraph as fg
>>> def build():
...     g = fg.Graph()
...     with g.as_default():
...         set_random_seed(42)
...         return g, random_normal([2], name="x")
>>> (g1, x1), (g2, x2) = build(), build()
>>> a = fg.Session(graph=g1).run(x1)
>>> b = fg.Session(graph=g2).run(x2)
>>> bool((a == b).all()), a.dtype.name, a.shape
(True, 'float32', (2,))

A shape is a list of ints, a TensorShape, a 1-D int tensor known only at run time
(``random_normal(tf.shape(mu))``), or a list mixing ints and scalar int tensors; the kernels
return arrays of exactly the declared dtype.
"""

from __future__ import annotations

import operator

from flowgraph.errors import InvalidArgumentError, ShapeError
from flowgraph.graph import dtypes
from flowgraph.graph.default_stacks import get_default_graph
from flowgraph.graph.dtypes import as_dtype
from flowgraph.graph.shape import TensorShape
from flowgraph.graph.tensor import Tensor
from flowgraph.ops import math, namespace
from flowgraph.ops.convert import convert_to_tensor
from flowgraph.ops.creation import check_dims_input, run_time_dims, shape_arg
from flowgraph.ops.registry import REQUIRED, apply_op, define_op, executing_eagerly

# TF1's default graph-level seed, used when only an op seed is given.
DEFAULT_GRAPH_SEED = 87654321
_SEED_ATTRS = {"seed": None, "seed2": None, "key": ""}
_MASK64 = (1 << 64) - 1

# ---- seeds ----------------------------------------------------------------------------------


def set_random_seed(seed: int | None) -> None:
    """Set the graph-level random seed of the default graph (TF1's ``set_random_seed``).

    Random ops created afterwards in that graph without their own seed get one derived from
    their position in the graph, so the same program gives the same values in every run of it.
    ``None`` clears the seed.
    """
    get_default_graph().seed = None if seed is None else int(seed)


def _root_graph(graph):
    """The outermost graph: function graphs (cond / loop bodies) share their parent's seed."""
    while getattr(graph, "outer_graph", None) is not None:
        graph = graph.outer_graph
    return graph


def _seeds_for(graph, op_seed, op_index: int) -> tuple[int | None, int | None]:
    graph_seed = _root_graph(graph).seed
    if graph_seed is not None:
        return graph_seed, op_index if op_seed is None else int(op_seed)
    if op_seed is not None:
        return DEFAULT_GRAPH_SEED, int(op_seed)
    return None, None


def get_seed(op_seed: int | None) -> tuple[int | None, int | None]:
    """The (graph seed, op seed) pair an op created now in the default graph would use.

    ``(None, None)`` means "seed nondeterministically". As in TF1, with only a graph seed the op
    seed is derived from the graph's op count, so it is the same when the same graph is rebuilt.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     before = get_seed(None)
    ...     set_random_seed(1)
    ...     after = get_seed(7)
    >>> before, after
    ((None, None), (1, 7))
    """
    graph = get_default_graph()
    return _seeds_for(graph, op_seed, graph.version)


def op_key(graph, name: str) -> str:
    """The name the session keys the generator of op ``name`` of ``graph`` by (qualified
    inside function graphs)."""
    parts = [name]
    while getattr(graph, "outer_graph", None) is not None:
        parts.append(getattr(graph, "name", "function"))
        graph = graph.outer_graph
    return "::".join(reversed(parts))


def _random_op(op_type: str, inputs: list, attrs: dict, name: str, seed) -> Tensor:
    """Create a random op, then record its seeds (derived from its creation index) and key.

    Run eagerly (flowgraph.dynamic), an op seed seeds the draw itself, so that the same seeded
    op draws the same values in both modes (an unseeded one uses ``manual_seed``'s generator).
    """
    if executing_eagerly():
        graph_seed, op_seed = get_seed(seed) if seed is not None else (None, None)
        return apply_op(op_type, inputs, {**attrs, "seed": graph_seed, "seed2": op_seed}, name)

    def seeds_and_key(graph, op_index, unique_name):
        graph_seed, op_seed = _seeds_for(graph, seed, op_index)
        return {"seed": graph_seed, "seed2": op_seed, "key": op_key(graph, unique_name)}

    return apply_op(op_type, inputs, attrs, name=name, attrs_at_creation=seeds_and_key)


# ---- kernel helpers -------------------------------------------------------------------------


def _generator(ctx, key: str, seed, seed2):
    # NumPy seed sequences take non-negative entropy; TF seeds are any int64.
    seeds = None if seed is None else (seed & _MASK64, seed2 & _MASK64)
    return ctx.generator_for(key, seeds)


def _to_backend(ctx, host_array):
    """Generators draw NumPy arrays on the host; other backends get a transferred copy."""
    if ctx.backend.name == "numpy":
        return host_array
    return ctx.backend.from_host(host_array)


def _standard_normal(generator, shape, dtype):
    if dtype.size >= 4:
        return generator.standard_normal(shape, dtype=dtype.name)
    return generator.standard_normal(shape, dtype="float32").astype(dtype.name)


def _shape_operand(shape, what: str) -> tuple[tuple | None, list]:
    """``(static dims, [dims tensor] or [])``: a shape known when the graph is built becomes an
    attribute; one known only at run time (``tf.shape(t)``, or a list mixing ints and scalar
    tensors, as a variational autoencoder's noise uses) becomes the op's last input."""
    unknown = isinstance(shape, TensorShape) and not shape.is_fully_defined()
    if unknown or (isinstance(shape, (list, tuple)) and any(d is None for d in shape)):
        raise ValueError(
            f"{what}: the shape must be fully known, got {shape} (pass tf.shape(t) or scalar "
            "int tensors for sizes known only at run time)"
        )
    static, dims = shape_arg(shape, what)
    if static is not None and any(d is not None and d < 0 for d in static):
        raise ValueError(f"{what}: dimensions must be non-negative, got {list(static)}")
    return static, [] if dims is None else [dims]


def _require_float(dtype, what: str):
    dtype = as_dtype(dtype)
    if not dtype.is_floating:
        raise TypeError(f"{what}: dtype must be a floating-point type, got {dtype.name}")
    return dtype


def _from_attrs(inputs, attrs):
    check_dims_input(inputs)
    return [(attrs["dtype"], TensorShape(attrs["shape"]))]


# ---- normal and truncated normal -------------------------------------------------------------


def _standard_normal_kernel(ctx, *dims, shape, dtype, seed, seed2, key):
    shape = run_time_dims(shape, tuple(ctx.to_host(d) for d in dims))
    generator = _generator(ctx, key, seed, seed2)
    return _to_backend(ctx, _standard_normal(generator, shape, dtype))


def _truncated_normal_kernel(ctx, *dims, shape, dtype, seed, seed2, key):
    shape = run_time_dims(shape, tuple(ctx.to_host(d) for d in dims))
    # As TF: values more than 2 standard deviations from the mean are re-drawn.
    generator = _generator(ctx, key, seed, seed2)
    values = _standard_normal(generator, shape, dtype)
    outside = abs(values) > 2
    while outside.any():
        values[outside] = _standard_normal(generator, (int(outside.sum()),), dtype)
        outside = abs(values) > 2
    return _to_backend(ctx, values)


_SHAPE_ATTRS = {"shape": REQUIRED, "dtype": REQUIRED, **_SEED_ATTRS}
for _type, _kernel in [
    ("RandomStandardNormal", _standard_normal_kernel),
    ("TruncatedNormal", _truncated_normal_kernel),
]:
    define_op(
        _type,
        _from_attrs,
        kernel=_kernel,
        attrs=_SHAPE_ATTRS,
        stateful=True,
        differentiable=False,
        needs_context=True,
    )


def _is_number(value, number) -> bool:
    return isinstance(value, (int, float)) and value == number


def _scaled(op_type, shape, mean, stddev, dtype, seed, name, default_name):
    dtype = _require_float(dtype, default_name)
    graph = get_default_graph()
    with graph.name_scope(name or default_name) as scope:
        shape, dims = _shape_operand(shape, default_name)
        attrs = {"shape": shape, "dtype": dtype}
        if _is_number(mean, 0) and _is_number(stddev, 1):
            return _random_op(op_type, dims, attrs, scope, seed)
        stddev = convert_to_tensor(stddev, dtype, name="stddev")
        mean = convert_to_tensor(mean, dtype, name="mean")
        rnd = _random_op(op_type, dims, attrs, op_type, seed)
        return math.add(math.multiply(rnd, stddev), mean, name=scope)


def random_normal(
    shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None
) -> Tensor:
    """Values from a normal distribution ``N(mean, stddev**2)`` of ``shape`` (static, or
    a tensor or list with tensors known at run time).

    ``mean`` and ``stddev`` may be Python numbers or scalar tensors; ``seed`` is the op seed.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     w = random_normal([784, 256], stddev=0.01, seed=1)
    >>> w.dtype.name, str(w.shape), w.op.type
    ('float32', '[784,256]', 'Add')
    """
    return _scaled("RandomStandardNormal", shape, mean, stddev, dtype, seed, name, "random_normal")


def truncated_normal(
    shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None
) -> Tensor:
    """Like :func:`random_normal`, but values beyond 2 standard deviations are re-drawn."""
    return _scaled("TruncatedNormal", shape, mean, stddev, dtype, seed, name, "truncated_normal")


# ---- uniform --------------------------------------------------------------------------------


def _uniform_kernel(ctx, *dims, shape, dtype, seed, seed2, key):
    shape = run_time_dims(shape, tuple(ctx.to_host(d) for d in dims))
    generator = _generator(ctx, key, seed, seed2)
    if dtype.size >= 4:
        values = generator.random(shape, dtype=dtype.name)
    else:  # float16: k / 2048 is exact, so the draw stays below 1 after rounding
        values = generator.integers(0, 2048, size=shape).astype(dtype.name) / 2048
    return _to_backend(ctx, values.astype(dtype.name, copy=False))


def _uniform_int_infer(inputs, attrs):
    dtype = attrs["dtype"]
    for t, what in zip(inputs, ("minval", "maxval")):
        if t.dtype is not dtype:
            raise ShapeError(f"{what} has dtype {t.dtype.name}, expected {dtype.name}")
        if t.shape.rank not in (None, 0):
            raise ShapeError(f"{what} must be a scalar, got shape {t.shape}")
    return _from_attrs(inputs[2:], attrs)


def _uniform_int_kernel(ctx, minval, maxval, *dims, shape, dtype, seed, seed2, key):
    shape = run_time_dims(shape, tuple(ctx.to_host(d) for d in dims))
    low, high = int(ctx.to_host(minval)), int(ctx.to_host(maxval))
    if low >= high:
        raise InvalidArgumentError(message=f"Need minval < maxval, got {low} >= {high}")
    generator = _generator(ctx, key, seed, seed2)
    return _to_backend(ctx, generator.integers(low, high, size=shape, dtype=dtype.name))


define_op(
    "RandomUniform",
    _from_attrs,
    kernel=_uniform_kernel,
    attrs=_SHAPE_ATTRS,
    stateful=True,
    differentiable=False,
    needs_context=True,
)
define_op(
    "RandomUniformInt",
    _uniform_int_infer,
    kernel=_uniform_int_kernel,
    attrs=_SHAPE_ATTRS,
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def random_uniform(
    shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None
) -> Tensor:
    """Values uniform in ``[minval, maxval)`` of ``shape`` (as for :func:`random_normal`).

    Floats default to ``[0, 1)``; integer dtypes (int32, int64) need ``maxval``.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     dice = random_uniform([3], 1, 7, dtype=fg.int64, seed=3)
    ...     values = fg.Session().run(dice)
    >>> values.dtype.name, bool(((values >= 1) & (values < 7)).all())
    ('int64', True)
    """
    dtype = as_dtype(dtype)
    graph = get_default_graph()
    shape, dims = _shape_operand(shape, "random_uniform")
    attrs = {"shape": shape, "dtype": dtype}
    if dtype.is_integer:
        if dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"random_uniform: integer dtype must be int32 or int64, not {dtype}")
        if maxval is None:
            raise ValueError(f"random_uniform: maxval must be given for dtype {dtype.name}")
        with graph.name_scope(name or "random_uniform") as scope:
            low = convert_to_tensor(minval, dtype, name="min")
            high = convert_to_tensor(maxval, dtype, name="max")
            return _random_op("RandomUniformInt", [low, high, *dims], attrs, scope, seed)
    dtype = _require_float(dtype, "random_uniform")
    maxval = 1 if maxval is None else maxval
    with graph.name_scope(name or "random_uniform") as scope:
        if _is_number(minval, 0) and _is_number(maxval, 1):
            return _random_op("RandomUniform", dims, attrs, scope, seed)
        low = convert_to_tensor(minval, dtype, name="min")
        high = convert_to_tensor(maxval, dtype, name="max")
        rnd = _random_op("RandomUniform", dims, attrs, "RandomUniform", seed)
        return math.add(math.multiply(rnd, math.subtract(high, low)), low, name=scope)


# ---- shuffle --------------------------------------------------------------------------------


def _shuffle_kernel(ctx, value, *, seed, seed2, key):
    if value.ndim == 0:
        return value
    generator = _generator(ctx, key, seed, seed2)
    order = _to_backend(ctx, generator.permutation(value.shape[0]))
    return ctx.xp.take(value, order, axis=0)


define_op(
    "RandomShuffle",
    lambda inputs, attrs: [(inputs[0].dtype, inputs[0].shape)],
    kernel=_shuffle_kernel,
    attrs=dict(_SEED_ATTRS),
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def random_shuffle(value, seed=None, name=None) -> Tensor:
    """``value`` with its first dimension shuffled (a new order on every run).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     out = fg.Session().run(random_shuffle([[1, 2], [3, 4], [5, 6]], seed=0))
    >>> sorted(out.tolist())
    [[1, 2], [3, 4], [5, 6]]
    """
    value = convert_to_tensor(value)
    return _random_op("RandomShuffle", [value], {}, name or "RandomShuffle", seed)


# ---- multinomial / categorical ---------------------------------------------------------------

# Sampling compares each draw with every class's cumulative probability; rows are taken in
# chunks so the comparison never holds more than this many elements at once.
_CHUNK_ELEMENTS = 1 << 22


def _multinomial_infer(inputs, attrs):
    logits, num_samples = inputs
    if not logits.dtype.is_floating:
        raise ShapeError(f"logits must be floating-point, got {logits.dtype.name}")
    if logits.shape.rank not in (None, 2):
        raise ShapeError(f"logits must be 2-D [batch_size, num_classes], got shape {logits.shape}")
    if not num_samples.dtype.is_integer or num_samples.shape.rank not in (None, 0):
        raise ShapeError("num_samples must be an integer scalar")
    batch = logits.shape[0] if logits.shape.rank == 2 else None
    return [(attrs["output_dtype"], TensorShape([batch, attrs["static_samples"]]))]


def _multinomial_kernel(
    ctx, logits, num_samples, *, output_dtype, static_samples, seed, seed2, key
):
    xp = ctx.xp
    count = int(ctx.to_host(num_samples))
    batch, classes = logits.shape
    out_dtype = namespace.dtype_of(xp, output_dtype)
    if count < 0:
        raise InvalidArgumentError(message=f"num_samples must be >= 0, got {count}")
    if classes == 0 and batch and count:
        raise InvalidArgumentError(message="logits must have at least one class")
    generator = _generator(ctx, key, seed, seed2)
    draws = _to_backend(ctx, generator.random((batch, count)))
    z = namespace.astype(xp, logits, xp.float64)
    z = xp.exp(z - xp.max(z, axis=1, keepdims=True)) if classes else z
    cdf = namespace.fn(xp, "cumulative_sum", "cumsum")(z, axis=1)
    cdf = cdf / cdf[:, -1:] if classes else cdf
    # Class k is drawn when cdf[k-1] <= u < cdf[k]: count the bounds at or below u.
    bounds = cdf[:, :-1]
    out = xp.zeros((batch, count), dtype=out_dtype)
    rows = max(1, _CHUNK_ELEMENTS // max(1, count * classes))
    for start in range(0, batch, rows):
        stop = min(batch, start + rows)  # in bounds: the array API does not clip slices
        below = draws[start:stop, :, None] >= bounds[start:stop, None, :]
        if namespace.numpy_like(xp):
            out[start:stop, ...] = xp.sum(below, axis=-1, dtype=out_dtype)
        else:  # the array API sums numbers only
            out[start:stop, ...] = namespace.astype(xp, xp.count_nonzero(below, axis=-1), out_dtype)
    return out


define_op(
    "Multinomial",
    _multinomial_infer,
    kernel=_multinomial_kernel,
    attrs={"output_dtype": dtypes.int64, "static_samples": None, **_SEED_ATTRS},
    stateful=True,
    differentiable=False,
    needs_context=True,
)


def multinomial(logits, num_samples, seed=None, name=None, output_dtype=None) -> Tensor:
    """Draw ``num_samples`` class indices per row of ``logits`` ``[batch, classes]``, with
    probabilities ``softmax(logits)``; the result is ``[batch, num_samples]`` (int64 default).

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     s = multinomial([[0.0, -1e9], [-1e9, 0.0]], 4, seed=1)
    ...     fg.Session().run(s).tolist()
    [[0, 0, 0, 0], [1, 1, 1, 1]]
    """
    output_dtype = as_dtype(output_dtype or dtypes.int64)
    if output_dtype not in (dtypes.int32, dtypes.int64):
        raise TypeError(f"multinomial: output_dtype must be int32 or int64, not {output_dtype}")
    logits = convert_to_tensor(logits)
    if isinstance(num_samples, Tensor):
        samples = num_samples
        static = int(samples.op.attrs["value"]) if samples.op.type == "Const" else None
    else:
        static = operator.index(num_samples)
        samples = convert_to_tensor(static, dtypes.int32, name="num_samples")
    attrs = {"output_dtype": output_dtype, "static_samples": static}
    return _random_op("Multinomial", [logits, samples], attrs, name or "Multinomial", seed)


def categorical(logits, num_samples, dtype=None, seed=None, name=None) -> Tensor:
    """TF2's name for :func:`multinomial`: class indices drawn from ``softmax(logits)``."""
    return multinomial(
        logits, num_samples, seed=seed, name=name or "categorical", output_dtype=dtype
    )


__all__ = [
    "categorical",
    "get_seed",
    "multinomial",
    "random_normal",
    "random_shuffle",
    "random_uniform",
    "set_random_seed",
    "truncated_normal",
]
