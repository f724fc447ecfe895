"""Very large plans are split into parts that compile in linear time, with the same results."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.compiler import chunking
from flowgraph.compiler.plan import compile_plan


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK_SIZE", 7)
    monkeypatch.setattr("flowgraph.compiler.codegen.CHUNK_THRESHOLD", 10)


def _chain(x, n):
    y = x
    for _ in range(n):
        y = fg.tanh(y) + x
    return y


def test_a_chunked_plan_gives_the_same_values_and_gradients(graph, small_chunks):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = _chain(x, 40)
    (dx,) = fg.gradients(fg.reduce_sum(y * y), [x])
    plan = compile_plan([y, dx], [x])
    assert plan.source.count("def _part") > 5
    value = np.array([0.1, -0.2, 0.3])
    chunked = fg.Session().run([y, dx], {x: value})
    chunking.CHUNK_SIZE = 10**9  # one part: the reference
    single = fg.Session().run([y, dx], {x: value})
    np.testing.assert_array_equal(chunked[0], single[0])
    np.testing.assert_array_equal(chunked[1], single[1])


def test_errors_in_a_chunked_plan_still_name_the_op(graph, small_chunks):
    a = fg.placeholder(fg.float32, [None, None], name="a")
    b = fg.placeholder(fg.float32, [None, None], name="b")
    y = _chain(fg.placeholder(fg.float32, [2], name="x"), 20)
    bad = fg.matmul(a, b, name="late_product") + fg.reduce_sum(y)
    with pytest.raises(errors.InvalidArgumentError, match="MatMul op 'late_product'"):
        fg.Session().run(bad, {a: np.ones((2, 3)), b: np.ones((4, 5)), "x:0": np.ones(2)})
