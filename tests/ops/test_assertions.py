"""tf.assert_* and tf.map_fn (ops/assertions.py)."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.errors import InvalidArgumentError
from flowgraph.ops import assertions
from flowgraph.testing import check_gradients


@pytest.mark.parametrize(
    "check, ok, bad",
    [
        (assertions.assert_equal, ([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0])),
        (assertions.assert_less, ([1.0], [2.0]), ([2.0], [2.0])),
        (assertions.assert_less_equal, ([2.0], [2.0]), ([3.0], [2.0])),
        (assertions.assert_greater, ([3.0], [2.0]), ([2.0], [2.0])),
        (assertions.assert_greater_equal, ([2.0], [2.0]), ([1.0], [2.0])),
        (assertions.assert_positive, ([1.0, 2.0],), ([1.0, 0.0],)),
        (assertions.assert_negative, ([-1.0],), ([0.0],)),
        (assertions.assert_non_negative, ([0.0, 1.0],), ([-1.0],)),
    ],
)
def test_assertions_pass_and_fail_with_the_message(check, ok, bad):
    xs = [fg.placeholder(fg.float32, [None]) for _ in ok]
    op = check(*xs, message="my check")
    sess = fg.Session()
    sess.run(op, dict(zip(xs, ok)))
    with pytest.raises(InvalidArgumentError, match="my check"):
        sess.run(op, dict(zip(xs, bad)))


def test_map_fn_matches_a_python_loop_and_differentiates():
    v = np.random.default_rng(0).uniform(-1, 1, (4, 3))
    x = fg.placeholder(fg.float64, [4, 3])
    out = assertions.map_fn(lambda row: fg.reduce_sum(row * row), x)
    np.testing.assert_allclose(fg.Session().run(out, {x: v}), (v * v).sum(1))
    check_gradients(fg.reduce_sum(out), [x], {x: v})
    a, b = assertions.map_fn(lambda pair: (pair[0] + pair[1], pair[0] * pair[1]), (x, x))
    got_a, got_b = fg.Session().run([a, b], {x: v})
    np.testing.assert_allclose(got_a, 2 * v)
    np.testing.assert_allclose(got_b, v * v)
    with pytest.raises(ValueError, match="first dimension is known"):
        assertions.map_fn(lambda r: r, fg.placeholder(fg.float32, [None, 3]))
