"""The TF1 names issue 13 adds to compat.v1 are aliases of flowgraph's own objects."""

import numpy as np

import flowgraph as fg
import flowgraph.compat.v1 as tf
from flowgraph import losses, metrics
from flowgraph.compat import app, flags, tf_logging
from flowgraph.io import gfile
from flowgraph.ops import initializers

ALIASES = {
    "losses": losses,
    "metrics": metrics,
    "app": app,
    "flags": flags,
    "logging": tf_logging,
    "gfile": gfile,
    "arg_max": fg.argmax,
    "arg_min": fg.argmin,
    "diag": fg.diag,
    "diag_part": fg.diag_part,
    "matrix_determinant": fg.matrix_determinant,
    "matrix_inverse": fg.matrix_inverse,
    "unique": fg.unique,
    "einsum": fg.einsum,
    "norm": fg.norm,
    "count_nonzero": fg.count_nonzero,
    "sequence_mask": fg.sequence_mask,
    "clip_by_global_norm": fg.clip_by_global_norm,
    "tensordot": fg.tensordot,
    "nn.in_top_k": fg.in_top_k,
    "math.in_top_k": fg.in_top_k,
    "linalg.det": fg.matrix_determinant,
    "linalg.inv": fg.matrix_inverse,
    "train.import_meta_graph": fg.train.import_meta_graph,
    "train.Saver": fg.train.Saver,
    "layers.batch_normalization": fg.layers.batch_normalization,
    "layers.conv2d_transpose": fg.layers.conv2d_transpose,
    "glorot_uniform_initializer": initializers.GlorotUniform,
    "glorot_normal_initializer": initializers.GlorotNormal,
    "random_normal_initializer": initializers.RandomNormal,
    "random_uniform_initializer": initializers.RandomUniform,
    "truncated_normal_initializer": initializers.TruncatedNormal,
    "variance_scaling_initializer": initializers.VarianceScaling,
    "zeros_initializer": initializers.Zeros,
    "ones_initializer": initializers.Ones,
    "constant_initializer": initializers.Constant,
}


def _get(path):
    obj = tf
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_new_names_are_aliases_not_copies():
    wrong = {name: _get(name) for name, target in ALIASES.items() if _get(name) is not target}
    assert not wrong


def test_div_family_and_casts_behave_as_in_tf1():
    with tf.Graph().as_default():
        a, b, f = tf.constant([7, -7]), tf.constant([2, 2]), tf.constant([7.5, -7.5])
        ops = {
            "div": tf.div(a, b),  # TF1's div floors integers (Python 2's /)
            "truediv": tf.truediv(a, b),  # int32 / int32 -> float64
            "floordiv": tf.floordiv(a, b),
            "realdiv": tf.realdiv(f, 2.0),
            "to_float": tf.to_float(a),
            "to_int32": tf.to_int32(f),  # casts truncate toward zero
            "to_int64": tf.to_int64(f),
            "to_double": tf.to_double(a),
        }
        with tf.Session() as sess:
            got = sess.run(ops)
    expected = {
        "div": np.array([3, -4], np.int32),
        "truediv": np.array([3.5, -3.5]),
        "floordiv": np.array([3, -4], np.int32),
        "realdiv": np.array([3.75, -3.75], np.float32),
        "to_float": np.array([7.0, -7.0], np.float32),
        "to_int32": np.array([7, -7], np.int32),
        "to_int64": np.array([7, -7], np.int64),
        "to_double": np.array([7.0, -7.0]),
    }
    for name, want in expected.items():
        assert got[name].dtype == want.dtype and np.array_equal(got[name], want), name
    assert tf.flags.FLAGS is tf.app.flags.FLAGS
    assert tf.losses.Reduction.SUM_BY_NONZERO_WEIGHTS == "weighted_sum_by_nonzero_weights"
    assert tf.GraphKeys.REGULARIZATION_LOSSES == "regularization_losses"


def test_tf2_switches_and_compat_v1_inside_compat_v1():
    import pytest

    tf.disable_v2_behavior()
    tf.disable_eager_execution()
    assert tf.executing_eagerly() is False
    with pytest.raises(NotImplementedError, match="flowgraph.dynamic"):
        tf.enable_eager_execution()
    assert tf.compat.v1 is tf
    x = tf.compat.v1.placeholder(tf.float32, [2])
    assert tf.compat.v1.Session().run(x * 2.0, {x: [1.0, 2.0]}).tolist() == [2.0, 4.0]


def test_tf1_legacy_keyword_names():
    import pytest

    x = tf.ones([2, 1, 3])
    assert tf.squeeze(x, squeeze_dims=[1]).shape.as_list() == [2, 3]
    assert tf.expand_dims(tf.ones([2]), dim=1).shape.as_list() == [2, 1]
    assert tf.count_nonzero(x, reduction_indices=2).shape.as_list() == [2, 1]
    with pytest.raises(ValueError, match="exactly one of axis= and dim="):
        tf.expand_dims(x)
    with pytest.raises(ValueError, match="not both"):
        tf.squeeze(x, axis=[1], squeeze_dims=[1])
