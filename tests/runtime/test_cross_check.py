"""Cross-check mode: one step op by op on two backends, naming the first op that disagrees."""

import inspect

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import register_backend
from flowgraph.backends import registry as backend_registry
from flowgraph.runtime.cross_check import CrossCheckError, cross_check

pytest.importorskip("array_api_strict")


class _Wrapped:
    """NumPy seen through a wrapper whose functions can be replaced: a backend with a bug."""

    def __init__(self, **replaced):
        self.__name__ = "wrapped_numpy"
        self._replaced = replaced

    def __getattr__(self, name):
        return self._replaced.get(name) or getattr(np, name)


@pytest.fixture
def broken_backend():
    """``broken_backend(**functions)``: the name of a NumPy backend with those replaced."""
    names = []

    def make(**replaced):
        name = f"broken_{len(names)}"
        register_backend(name, lambda: _Wrapped(**replaced))
        names.append(name)
        return name

    yield make
    for name in names:
        backend_registry._FACTORIES.pop(name)
        backend_registry._CACHE.pop(name, None)


def _line_of(marker: str) -> int:
    lines = inspect.getsource(inspect.getmodule(_line_of)).splitlines()
    return next(n for n, text in enumerate(lines, 1) if text.endswith(marker))


def _seed_model():
    fg.set_random_seed(0)
    x = fg.placeholder(fg.float32, [None, 20], name="x")
    y = fg.placeholder(fg.float32, [None, 4], name="y")
    w1 = fg.Variable(fg.random_normal([20, 16], stddev=0.3), name="W1")
    h = fg.nn.relu(fg.matmul(x, w1), name="hidden")
    w2 = fg.Variable(fg.random_normal([16, 4], stddev=0.3), name="W2")
    logits = fg.matmul(h, w2, name="logits")
    loss = fg.reduce_mean(fg.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=logits))
    train = fg.train.AdamOptimizer(0.01).minimize(loss)
    rng = np.random.default_rng(1)
    feed = {x: rng.random((8, 20), dtype=np.float32), y: np.eye(4, dtype=np.float32)[[0, 1] * 4]}
    return loss, train, feed, (w1, w2)


def test_the_seed_step_agrees_on_numpy_and_the_strict_namespace(graph):
    loss, train, feed, weights = _seed_model()
    sess = fg.Session()
    sess.run(fg.global_variables_initializer())
    before = sess.run(list(weights))
    grads = fg.gradients(loss, list(weights))
    report = cross_check([loss, grads, train], feed, session=sess)
    assert report.ok and report.first_mismatch is None
    assert report.backends == ("numpy", "array_api_strict")
    assert len(report.comparisons) > 30  # every intermediate, not just the 3 fetched values
    numpy_loss, strict_loss = report.values["numpy"][0], report.values["array_api_strict"][0]
    np.testing.assert_allclose(strict_loss, numpy_loss, rtol=1e-6)
    np.testing.assert_allclose(numpy_loss, sess.run(loss, feed), rtol=1e-6)
    for old, new in zip(before, sess.run(list(weights))):
        np.testing.assert_array_equal(old, new)  # the session's variables are untouched


def test_initializers_and_random_draws_are_the_same_on_both_sides(graph):
    _seed_model()
    report = cross_check(fg.global_variables_initializer(), seed=7)
    draws = [c for c in report.comparisons if c.op.type == "RandomStandardNormal"]
    assert len(draws) == 2 and all(c.ok and c.max_abs == 0 for c in draws)


def test_a_broken_kernel_is_named_with_its_line_and_error(graph, broken_backend):
    broken = broken_backend(tanh=lambda x, *out: np.tanh(x) + np.float32(1e-2))
    x = fg.placeholder(fg.float32, [None, 3], name="x")
    h = fg.tanh(x * 2.0, name="h")  # line: the broken op
    y = fg.reduce_sum(fg.exp(h), name="y")  # differs too, but only because h does
    with pytest.raises(CrossCheckError) as info:
        cross_check(y, {x: np.ones((2, 3))}, backends=("numpy", broken))
    message = str(info.value)
    first = info.value.report.first_mismatch
    assert (first.op.type, first.op.name) == ("Tanh", "h")
    assert f"Tanh op 'h' (created at test_cross_check.py:{_line_of('# line: the broken op')}" in (
        message
    )
    assert "max abs error 0.01" in message and "6 of 6 elements" in message
    assert "3 disagree" in message  # h, then exp(h) and y because of it
    assert isinstance(info.value, AssertionError)


def test_the_report_can_be_returned_instead(graph, broken_backend):
    broken = broken_backend(negative=lambda x, *out: -x + 1)
    x = fg.placeholder(fg.float64, [2], name="x")
    y = fg.negative(x, name="neg")
    report = cross_check(y, {x: [1.0, 2.0]}, ("numpy", broken), raise_on_mismatch=False)
    assert not report.ok and report.first_mismatch.op.name == "neg"
    assert report.first_mismatch.max_rel == pytest.approx(1.0)
    assert "first: Neg op 'neg'" in str(report)


def test_tolerances_decide(graph, broken_backend):
    broken = broken_backend(exp=lambda x, *out: np.exp(x) * (1 + 1e-7))
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.exp(x, name="e")
    feed = {x: [0.0, 1.0, 2.0]}
    with pytest.raises(CrossCheckError, match="Exp op 'e'"):
        cross_check(y, feed, ("numpy", broken))  # float64 default: rtol 1e-9
    assert cross_check(y, feed, ("numpy", broken), rtol=1e-6).ok


def test_a_dtype_difference_or_a_one_sided_error_is_a_mismatch(graph, broken_backend):
    wide = broken_backend(sqrt=lambda x, *out: np.sqrt(x.astype(np.float64)))
    x = fg.placeholder(fg.float32, [2], name="x")
    y = fg.sqrt(x, name="root")
    with pytest.raises(CrossCheckError, match="float32.2. on one backend, float64.2."):
        cross_check(y, {x: [1.0, 4.0]}, ("numpy", wide))

    def refuse(*args):
        raise TypeError("no sin here")

    failing = broken_backend(sin=refuse)
    z = fg.sin(x, name="s")
    with pytest.raises(CrossCheckError, match="raised on backend 2 only: TypeError: no sin"):
        cross_check(z, {x: [1.0, 4.0]}, ("numpy", failing))


def test_an_error_on_both_sides_is_raised_as_such(graph):
    v = fg.Variable([1.0], name="v")
    with pytest.raises(fg.errors.FailedPreconditionError, match="uninitialized"):
        cross_check(v * 2.0)
    with pytest.raises(ValueError, match="two backends"):
        cross_check(v, backends=("numpy",))
