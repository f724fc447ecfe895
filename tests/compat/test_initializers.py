"""Initializer objects: values, statistics and the fan computations of VarianceScaling."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.compat.v1 as tf
from flowgraph.ops import initializers


def _value(init, shape, dtype=None):
    return fg.Session().run(init(shape, dtype))


def test_constant_initializers():
    assert _value(tf.zeros_initializer(), [2]).tolist() == [0.0, 0.0]
    assert _value(tf.ones_initializer(dtype=tf.int32), [2]).tolist() == [1, 1]
    assert _value(tf.constant_initializer(7), [2], tf.int64).dtype == np.int64
    np.testing.assert_array_equal(
        _value(tf.constant_initializer([1, 2, 3, 4]), [2, 2]), [[1, 2], [3, 4]]
    )
    with pytest.raises(TypeError, match="Expected Tensor's shape"):
        tf.constant_initializer([1, 2], verify_shape=True)([3])


@pytest.mark.parametrize(
    ("init", "mean", "std"),
    [
        (tf.random_normal_initializer(1.0, 2.0, seed=1), 1.0, 2.0),
        (tf.random_uniform_initializer(-3.0, 3.0, seed=2), 0.0, np.sqrt(3.0)),
        (tf.random_uniform_initializer(seed=3), 0.5, np.sqrt(1 / 12)),
        (tf.truncated_normal_initializer(0.0, 1.0, seed=4), 0.0, 0.8796),
    ],
)
def test_random_initializers_statistics(init, mean, std):
    value = _value(init, [200, 100])
    assert abs(value.mean() - mean) < 0.05 * max(std, 1)
    assert abs(value.std() - std) < 0.05 * std


def test_truncated_normal_stays_within_two_deviations():
    value = _value(tf.truncated_normal_initializer(stddev=0.5, seed=0), [10000])
    assert np.abs(value).max() <= 1.0


@pytest.mark.parametrize(
    ("shape", "fans"), [([], (1, 1)), ([5], (5, 5)), ([3, 7], (3, 7)), ([3, 3, 4, 8], (36, 72))]
)
def test_fans(shape, fans):
    assert initializers._fans(shape) == fans


@pytest.mark.parametrize(
    ("init", "variance"),
    [
        (tf.glorot_uniform_initializer(seed=0), 2.0 / (300 + 200)),
        (tf.glorot_normal_initializer(seed=0), 2.0 / (300 + 200)),
        (tf.variance_scaling_initializer(2.0, "fan_in", "uniform", seed=0), 2.0 / 300),
        (tf.variance_scaling_initializer(1.0, "fan_out", "untruncated_normal", seed=0), 1.0 / 200),
        (initializers.he_normal(seed=0), 2.0 / 300),
        (initializers.lecun_uniform(seed=0), 1.0 / 300),
    ],
)
def test_variance_scaling_hits_its_variance(init, variance):
    value = _value(init, [300, 200])
    assert abs(value.var() / variance - 1) < 0.05


def test_glorot_uniform_bound_and_bad_arguments():
    value = _value(initializers.xavier_initializer(seed=0), [40, 60])
    assert np.abs(value).max() <= np.sqrt(6 / 100)
    with pytest.raises(ValueError, match="mode"):
        tf.variance_scaling_initializer(mode="fan_sideways")
    with pytest.raises(ValueError, match="distribution"):
        tf.variance_scaling_initializer(distribution="cauchy")
    with pytest.raises(ValueError, match="positive"):
        tf.variance_scaling_initializer(scale=0.0)


def test_seeded_initializers_repeat_and_get_resolves_names():
    a = _value(tf.glorot_uniform_initializer(seed=5), [3, 3])
    b = _value(tf.glorot_uniform_initializer(seed=5), [3, 3])
    np.testing.assert_array_equal(a, b)
    assert isinstance(initializers.get("zeros"), initializers.Zeros)
    assert isinstance(initializers.get(initializers.Ones), initializers.Ones)
    assert repr(tf.random_normal_initializer(stddev=2.0)).startswith("RandomNormal(mean=0.0")
    with pytest.raises(ValueError, match="Unknown initializer"):
        initializers.get("nope")
