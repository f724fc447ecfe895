"""TF1's ``tf.assert_*`` checks and ``tf.map_fn``, built from other ops.

Each ``assert_*`` returns an ``Assert`` op: run it, or make other ops depend on it with
``control_dependencies``; it fails the run with InvalidArgumentError listing the message and
the values. ``map_fn`` applies a function to each slice along the first dimension (which must
be known when the graph is built) and stacks the results.

>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None])
...     with fg.control_dependencies([assert_positive(x, message="x > 0 please")]):
...         y = fg.log(x)
...     try:
...         fg.Session().run(y, {x: [1.0, -2.0]})
...     except fg.errors.InvalidArgumentError as e:
...         print("x > 0 please" in str(e))
True
"""

from __future__ import annotations

from flowgraph.ops import array, math, reduce
from flowgraph.ops.checks import Assert
from flowgraph.ops.convert import convert_to_tensor

__all__ = [
    "assert_equal",
    "assert_greater",
    "assert_greater_equal",
    "assert_less",
    "assert_less_equal",
    "assert_negative",
    "assert_non_negative",
    "assert_positive",
    "map_fn",
]


def _check(condition, what, message, tensors, summarize, name):
    data = [message or f"Condition {what} did not hold"]
    for t in tensors:
        data += [f"{t.name} =", t]
    return Assert(reduce.reduce_all(condition), data, summarize, name=name or what)


def _binary_assert(compare, what):
    def check(x, y, data=None, summarize=None, message=None, name=None):
        x, y = convert_to_tensor(x), convert_to_tensor(y)
        if y.dtype is not x.dtype:
            y = math.cast(y, x.dtype)
        return _check(compare(x, y), what, message, [x, y], summarize, name)

    check.__name__ = check.__qualname__ = f"assert_{what}"
    check.__doc__ = f"An Assert op that fails unless ``x {_SYMBOLS[what]} y`` everywhere."
    return check


def _unary_assert(compare, what):
    def check(x, data=None, summarize=None, message=None, name=None):
        x = convert_to_tensor(x)
        return _check(compare(x, array.zeros_like(x)), what, message, [x], summarize, name)

    check.__name__ = check.__qualname__ = f"assert_{what}"
    check.__doc__ = f"An Assert op that fails unless every element of ``x`` is {what}."
    return check


_SYMBOLS = {"equal": "==", "less": "<", "less_equal": "<=", "greater": ">", "greater_equal": ">="}

assert_equal = _binary_assert(math.equal, "equal")
assert_less = _binary_assert(math.less, "less")
assert_less_equal = _binary_assert(math.less_equal, "less_equal")
assert_greater = _binary_assert(math.greater, "greater")
assert_greater_equal = _binary_assert(math.greater_equal, "greater_equal")
assert_positive = _unary_assert(math.greater, "positive")
assert_negative = _unary_assert(math.less, "negative")
assert_non_negative = _unary_assert(math.greater_equal, "non_negative")


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, name=None, **_):
    """``stack([fn(e) for e in unstack(elems)])``: ``fn`` applied to each slice of ``elems``
    along its first dimension (a tensor, or a tuple/list of tensors passed to ``fn`` together).
    The first dimension must be known when the graph is built.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     fg.Session().run(map_fn(lambda row: fg.reduce_sum(row) * 2.0, fg.ones([3, 4])))
    array([8., 8., 8.], dtype=float32)
    """
    several = isinstance(elems, (list, tuple))
    tensors = [convert_to_tensor(e) for e in (elems if several else [elems])]
    sizes = {t.shape.dims[0] if t.shape.rank else None for t in tensors}
    if len(sizes) != 1 or None in sizes:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(
            f"map_fn needs elems whose first dimension is known and equal when the graph is "
            f"built (shapes: {shapes}); for a size known only at run time, use while_loop"
        )
    slices = [array.unstack(t) for t in tensors]
    results = [fn(tuple(parts) if several else parts[0]) for parts in zip(*slices)]
    if isinstance(results[0], (list, tuple)):
        return type(results[0])(
            array.stack([r[i] for r in results], name=name) for i in range(len(results[0]))
        )
    return array.stack(results, name=name or "map")
