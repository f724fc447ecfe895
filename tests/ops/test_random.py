"""Random ops (flowgraph/ops/random.py): dtypes, shapes, distributions and TF1 seed semantics."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.backends import Backend
from flowgraph.errors import ShapeError
from flowgraph.ops import random as rnd
from flowgraph.ops.registry import get_op_def

RANDOM_OP_TYPES = [
    "RandomStandardNormal",
    "TruncatedNormal",
    "RandomUniform",
    "RandomUniformInt",
    "RandomShuffle",
    "Multinomial",
]
N = 200_000  # large samples: moment checks below use tolerances of several standard errors


def run(tensor, session=None):
    return (session or fg.Session()).run(tensor)


# ---- registry flags ----------------------------------------------------------------------------


@pytest.mark.parametrize("op_type", RANDOM_OP_TYPES)
def test_random_ops_are_stateful_not_differentiable_and_use_the_context(op_type):
    op_def = get_op_def(op_type)
    assert op_def.stateful  # compiler passes must never fold or merge them
    assert not op_def.differentiable
    assert op_def.needs_context


def test_module_exports():
    for name in ["random_normal", "truncated_normal", "random_uniform", "random_shuffle"]:
        assert name in rnd.__all__
    for name in ["multinomial", "categorical", "set_random_seed", "get_seed"]:
        assert name in rnd.__all__


# ---- dtypes and shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [rnd.random_normal, rnd.truncated_normal, rnd.random_uniform])
@pytest.mark.parametrize("dtype", [fg.float16, fg.float32, fg.float64])
def test_float_ops_produce_exactly_the_declared_dtype_and_shape(graph, fn, dtype, require_dtype):
    require_dtype(dtype)
    out = fn([3, 4, 5], dtype=dtype, seed=1)
    assert out.dtype is dtype
    assert out.shape == fg.TensorShape([3, 4, 5])
    value = run(out)
    assert value.dtype == dtype.as_numpy_dtype
    assert value.shape == (3, 4, 5)


@pytest.mark.parametrize("fn", [rnd.random_normal, rnd.truncated_normal, rnd.random_uniform])
def test_float_ops_with_mean_and_scale_keep_dtype(graph, fn):
    uniform = fn is rnd.random_uniform
    kwargs = {"minval": -2.0, "maxval": 5.0} if uniform else {"mean": 1.0, "stddev": 3.0}
    out = fn([7], dtype=fg.float64, seed=2, **kwargs)
    assert run(out).dtype == np.float64 and out.dtype is fg.float64


@pytest.mark.parametrize("dtype", [fg.int32, fg.int64])
def test_uniform_int_dtype_shape_and_range(graph, dtype):
    out = rnd.random_uniform([N], minval=-3, maxval=4, dtype=dtype, seed=3)
    value = run(out)
    assert out.dtype is dtype and value.dtype == dtype.as_numpy_dtype and value.shape == (N,)
    assert value.min() == -3 and value.max() == 3  # maxval is excluded, every value appears
    counts = np.bincount(value + 3)
    np.testing.assert_allclose(counts / N, 1 / 7, atol=0.01)


def test_uniform_int_needs_maxval(graph):
    with pytest.raises(ValueError, match="maxval"):
        rnd.random_uniform([2], dtype=fg.int32)


def test_uniform_int_with_empty_range_fails_at_run_time(graph):
    out = rnd.random_uniform([2], minval=5, maxval=5, dtype=fg.int32)
    with pytest.raises(fg.errors.InvalidArgumentError, match="minval < maxval"):
        run(out)


def test_normal_rejects_integer_dtype(graph):
    with pytest.raises(TypeError, match="floating"):
        rnd.random_normal([2], dtype=fg.int32)


def test_shape_must_be_fully_known(graph):
    with pytest.raises(ValueError, match="fully known"):
        rnd.random_normal([None, 3])
    with pytest.raises(ValueError, match="non-negative"):
        rnd.random_normal([2, -1])
    with pytest.raises(ShapeError, match="integer"):
        rnd.random_normal(fg.placeholder(fg.float32, [2]))


@pytest.mark.parametrize(
    "make",
    [
        lambda s: rnd.random_normal(s, mean=1.0, seed=1),
        lambda s: rnd.random_uniform(s, seed=1),
        lambda s: rnd.random_uniform(s, 0, 5, dtype=fg.int32, seed=1),
        lambda s: rnd.truncated_normal(s, seed=1),
        lambda s: fg.zeros(s),
        lambda s: fg.ones(s, fg.int64),
        lambda s: fg.fill(s, 2.5),
    ],
)
def test_shape_may_be_known_only_at_run_time(make, graph):
    """TF1 programs (a VAE's noise) size random and constant tensors by tf.shape(t), or by a
    list mixing ints and scalar int tensors."""
    t = fg.placeholder(fg.float32, [None, 3])
    whole, mixed = make(fg.shape(t)), make([fg.shape(t)[0], 4, 1])
    assert whole.shape.as_list() == [None, 3] and mixed.shape.as_list() == [None, 4, 1]
    with fg.Session() as sess:
        a, b = sess.run([whole, mixed], {t: np.zeros((5, 3))})
    assert a.shape == (5, 3) and b.shape == (5, 4, 1)


def test_shape_may_be_a_constant_tensor_or_tensorshape(graph):
    assert run(rnd.random_normal(fg.constant([2, 3]))).shape == (2, 3)
    assert run(rnd.random_uniform(fg.TensorShape([4]))).shape == (4,)
    assert run(rnd.random_normal([])).shape == ()


# ---- distributions -------------------------------------------------------------------------------


def test_normal_moments(graph):
    value = run(rnd.random_normal([N], mean=3.0, stddev=2.0, dtype=fg.float64, seed=4))
    assert abs(value.mean() - 3.0) < 5 * 2.0 / np.sqrt(N)
    assert abs(value.std() - 2.0) < 0.02
    # skewness ~ 0 and kurtosis ~ 3 for a normal distribution
    z = (value - value.mean()) / value.std()
    assert abs(np.mean(z**3)) < 0.03
    assert abs(np.mean(z**4) - 3.0) < 0.08


def test_normal_with_tensor_mean_and_stddev(graph):
    mean = fg.placeholder(fg.float32, [])
    out = rnd.random_normal([N], mean=mean, stddev=fg.constant(0.5), seed=5)
    value = fg.Session().run(out, {mean: -1.0})
    assert abs(value.mean() + 1.0) < 0.01 and abs(value.std() - 0.5) < 0.01


def test_truncated_normal_bound_and_moments(graph):
    value = run(rnd.truncated_normal([N], mean=1.0, stddev=2.0, dtype=fg.float64, seed=6))
    assert np.all(np.abs(value - 1.0) <= 4.0)  # within 2 standard deviations
    assert abs(value.mean() - 1.0) < 0.02
    # The standard normal truncated to [-2, 2] has standard deviation 0.87962566...
    assert abs(value.std() - 2.0 * 0.8796256610) < 0.015


def test_truncated_normal_float16_respects_the_bound(graph, require_dtype):
    require_dtype(fg.float16)
    value = run(rnd.truncated_normal([N], dtype=fg.float16, seed=7))
    assert value.dtype == np.float16 and np.all(np.abs(value) <= 2.0)


@pytest.mark.parametrize("dtype", [fg.float16, fg.float32, fg.float64])
def test_uniform_moments_and_bounds(graph, dtype, require_dtype):
    require_dtype(dtype)
    value = run(rnd.random_uniform([N], minval=-1.0, maxval=3.0, dtype=dtype, seed=8))
    assert value.min() >= -1.0 and value.max() < 3.0
    assert abs(value.astype(np.float64).mean() - 1.0) < 0.02
    assert abs(value.astype(np.float64).var() - 16 / 12) < 0.03


def test_default_uniform_is_in_zero_one(graph, require_dtype):
    require_dtype(fg.float16)
    value = run(rnd.random_uniform([N], dtype=fg.float16, seed=9))
    assert value.min() >= 0 and value.max() < 1


def test_shuffle_permutes_the_first_dimension(graph):
    data = np.arange(40, dtype=np.float32).reshape(20, 2)
    out = rnd.random_shuffle(data, seed=10)
    assert out.shape == fg.TensorShape([20, 2]) and out.dtype is fg.float32
    sess = fg.Session()
    first, second = sess.run(out), sess.run(out)
    for value in (first, second):
        np.testing.assert_array_equal(np.sort(value[:, 0]), data[:, 0])
        np.testing.assert_array_equal(value[:, 1], value[:, 0] + 1)  # rows stay whole
    assert not np.array_equal(first, second)


def test_shuffle_of_a_scalar_and_of_an_empty_tensor(graph):
    assert run(rnd.random_shuffle(5.0)) == 5.0
    assert run(rnd.random_shuffle(np.zeros((0, 3), np.float32))).shape == (0, 3)


@pytest.mark.parametrize("fn", [rnd.multinomial, rnd.categorical])
def test_multinomial_frequencies_follow_softmax(graph, fn):
    logits = np.log(np.array([[0.2, 0.3, 0.5], [0.7, 0.0001, 0.2999]]))
    out = fn(logits.astype(np.float32), N // 2, seed=11)
    assert out.dtype is fg.int64 and out.shape == fg.TensorShape([2, N // 2])
    value = run(out)
    assert value.dtype == np.int64 and value.shape == (2, N // 2)
    for row, probs in zip(value, np.exp(logits)):
        freq = np.bincount(row, minlength=3) / row.size
        np.testing.assert_allclose(freq, probs / probs.sum(), atol=0.006)


def test_multinomial_never_draws_impossible_classes(graph):
    logits = fg.constant([[0.0, -np.inf, 0.0, -np.inf]])
    value = run(rnd.multinomial(logits, 1000, seed=12, output_dtype=fg.int32))
    assert value.dtype == np.int32
    assert set(np.unique(value)) == {0, 2}


def test_multinomial_with_placeholder_logits_and_tensor_count(graph):
    logits = fg.placeholder(fg.float64, [None, 5])
    count = fg.placeholder(fg.int32, [])
    out = rnd.categorical(logits, count, dtype=fg.int32, seed=13)
    assert out.shape.as_list() == [None, None]
    value = fg.Session().run(out, {logits: np.zeros((3, 5)), count: 7})
    assert value.shape == (3, 7) and value.dtype == np.int32
    assert value.min() >= 0 and value.max() <= 4


# ---- seeds ---------------------------------------------------------------------------------------


def build(graph_seed=None, op_seed=None, extra_ops_before=0):
    """A new graph with (optionally) a graph seed and two random ops."""
    g = fg.Graph()
    with g.as_default():
        if graph_seed is not None:
            rnd.set_random_seed(graph_seed)
        for _ in range(extra_ops_before):
            fg.constant(0.0)
        a = rnd.random_normal([5], seed=op_seed, name="a")
        b = rnd.random_uniform([5], seed=op_seed, name="b")
    return g, a, b


def values(g, tensors, runs=2, seed=None):
    sess = fg.Session(graph=g, seed=seed)
    return [sess.run(list(tensors)) for _ in range(runs)]


def test_graph_seed_makes_a_rebuilt_graph_repeat_its_values():
    g1, a1, b1 = build(graph_seed=42)
    g2, a2, b2 = build(graph_seed=42)
    first, second = values(g1, [a1, b1]), values(g2, [a2, b2])
    for (x1, y1), (x2, y2) in zip(first, second):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


def test_each_run_draws_new_values():
    g, a, b = build(graph_seed=42)
    (a1, b1), (a2, b2) = values(g, [a, b])
    assert not np.array_equal(a1, a2) and not np.array_equal(b1, b2)


def test_two_sessions_on_one_seeded_graph_see_the_same_sequence():
    g, a, _ = build(graph_seed=1)
    s1, s2 = fg.Session(graph=g), fg.Session(graph=g)
    seq1 = [s1.run(a) for _ in range(3)]
    seq2 = [s2.run(a) for _ in range(3)]
    for x, y in zip(seq1, seq2):
        np.testing.assert_array_equal(x, y)


def test_with_only_a_graph_seed_ops_get_different_derived_seeds():
    g = fg.Graph()
    with g.as_default():
        rnd.set_random_seed(3)
        a = rnd.random_normal([5])
        b = rnd.random_normal([5])
        assert a.op.attrs["seed"] == 3 and a.op.attrs["seed2"] != b.op.attrs["seed2"]
    x, y = fg.Session(graph=g).run([a, b])
    assert not np.array_equal(x, y)


def test_derived_op_seed_depends_on_the_op_position():
    g1, a1, _ = build(graph_seed=5)
    g2, a2, _ = build(graph_seed=5, extra_ops_before=1)
    assert a1.op.attrs["seed2"] != a2.op.attrs["seed2"]
    assert not np.array_equal(fg.Session(graph=g1).run(a1), fg.Session(graph=g2).run(a2))


def test_op_seed_alone_uses_the_default_graph_seed():
    g1, a1, _ = build(op_seed=7)
    g2, a2, _ = build(op_seed=7, extra_ops_before=3)  # the position no longer matters
    assert a1.op.attrs["seed"] == rnd.DEFAULT_GRAPH_SEED and a1.op.attrs["seed2"] == 7
    np.testing.assert_array_equal(fg.Session(graph=g1).run(a1), fg.Session(graph=g2).run(a2))


def test_graph_seed_and_op_seed_are_both_used():
    g1, a1, _ = build(graph_seed=1, op_seed=7)
    g2, a2, _ = build(graph_seed=2, op_seed=7)
    g3, a3, _ = build(graph_seed=1, op_seed=7, extra_ops_before=2)
    v1, v2, v3 = (fg.Session(graph=g).run(a) for g, a in [(g1, a1), (g2, a2), (g3, a3)])
    assert not np.array_equal(v1, v2)
    np.testing.assert_array_equal(v1, v3)


def test_two_ops_with_the_same_seeds_repeat_each_other(graph):
    rnd.set_random_seed(9)
    a = rnd.random_normal([4], seed=1)
    b = rnd.random_normal([4], seed=1)
    x, y = fg.Session().run([a, b])
    np.testing.assert_array_equal(x, y)


def test_unseeded_ops_differ_between_sessions_unless_the_session_is_seeded():
    g, a, _ = build()
    assert a.op.attrs["seed"] is None and a.op.attrs["seed2"] is None
    assert not np.array_equal(fg.Session(graph=g).run(a), fg.Session(graph=g).run(a))
    np.testing.assert_array_equal(
        fg.Session(graph=g, seed=123).run(a), fg.Session(graph=g, seed=123).run(a)
    )


def test_get_seed_follows_tf1(graph):
    assert rnd.get_seed(None) == (None, None)
    assert rnd.get_seed(5) == (rnd.DEFAULT_GRAPH_SEED, 5)
    rnd.set_random_seed(11)
    assert rnd.get_seed(5) == (11, 5)
    graph_seed, op_seed = rnd.get_seed(None)
    assert graph_seed == 11 and op_seed == graph.version
    rnd.set_random_seed(None)
    assert graph.seed is None


def test_negative_seeds_are_accepted(graph):
    out = rnd.random_normal([3], seed=-5)
    assert run(out).shape == (3,)


def test_variable_initialized_from_a_seeded_op_is_reproducible():
    def init_value():
        g = fg.Graph()
        with g.as_default():
            rnd.set_random_seed(0)
            w = fg.Variable(rnd.random_normal([3, 2]), name="w")
            with fg.Session() as sess:
                sess.run(fg.global_variables_initializer())
                return sess.run(w)

    np.testing.assert_array_equal(init_value(), init_value())


# ---- backends ------------------------------------------------------------------------------------


def test_non_numpy_backends_get_the_draws_through_from_host(graph):
    transferred = []

    def from_host(array):
        transferred.append(array.shape)
        return np.asarray(array)

    backend = Backend("recording", np, from_host, np.asarray)
    out = rnd.random_normal([2, 3], seed=1)
    value = fg.Session(backend=backend).run(out)
    assert value.shape == (2, 3) and (2, 3) in transferred
