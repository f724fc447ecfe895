"""variable_scope / get_variable with TF1's sharing rules, through flowgraph.compat.v1."""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph.compat.v1 as tf


def test_nested_scopes_name_variables_and_ops():
    with tf.variable_scope("foo"):
        with tf.variable_scope("bar"):
            v = tf.get_variable("v", [1])
            c = tf.constant(1.0, name="c")
    assert v.name == "foo/bar/v:0"
    assert c.name == "foo/bar/c:0"


def test_name_scope_does_not_prefix_get_variable():
    with tf.variable_scope("root"):
        with tf.name_scope("plus"):
            v = tf.get_variable("v", [1])
            s = v + v
    assert v.name == "root/v:0"
    assert s.op.name.startswith("root/plus/")


def test_reuse_true_returns_the_same_variable_and_a_new_name_scope():
    with tf.variable_scope("foo"):
        v = tf.get_variable("v", [1])
        a = v * 2.0
    with tf.variable_scope("foo", reuse=True):
        v1 = tf.get_variable("v", [1])
        b = v1 * 2.0
    assert v1 is v
    assert a.op.name.startswith("foo/") and b.op.name.startswith("foo_1/")
    assert len(tf.global_variables()) == 1


def test_reuse_true_on_a_missing_variable_is_an_error():
    with tf.variable_scope("x", reuse=True):
        with pytest.raises(ValueError) as info:
            tf.get_variable("w", [2])
    assert str(info.value).startswith(
        "Variable x/w does not exist, or was not created with tf.get_variable()"
    )


def test_a_second_variable_of_the_same_name_is_an_error():
    with tf.variable_scope("x"):
        tf.get_variable("w", [2])
    with tf.variable_scope("x"):
        with pytest.raises(ValueError) as info:
            tf.get_variable("w", [2])
    assert str(info.value).startswith(
        "Variable x/w already exists, disallowed. Did you mean to set reuse=True or "
        "reuse=tf.AUTO_REUSE in VarScope?"
    )
    assert "test_variable_scope.py" in str(info.value)  # where it was first defined


def test_variables_made_with_tf_variable_are_not_found():
    with tf.variable_scope("x"):
        tf.Variable(1.0, name="w")
    with tf.variable_scope("x", reuse=True), pytest.raises(ValueError, match="does not exist"):
        tf.get_variable("w", [])


def test_auto_reuse_creates_then_reuses():
    def foo():
        with tf.variable_scope("foo", reuse=tf.AUTO_REUSE):
            return tf.get_variable("v", [1])

    v1, v2 = foo(), foo()
    assert v1 is v2


def test_reuse_is_inherited_and_cannot_be_switched_off_inside():
    with tf.variable_scope("a"):
        w = tf.get_variable("inner/w", [1])
    with tf.variable_scope("a", reuse=True) as outer:
        with tf.variable_scope("inner", reuse=False) as inner:
            assert inner.reuse is True
            assert tf.get_variable("w", [1]) is w
    assert outer.reuse is True
    with tf.variable_scope("b", reuse=tf.AUTO_REUSE):
        with tf.variable_scope("c") as scope:
            assert scope.reuse is tf.AUTO_REUSE


def test_reuse_variables_on_the_scope_object():
    with tf.variable_scope("s") as scope:
        v = tf.get_variable("v", [3])
        scope.reuse_variables()
        assert tf.get_variable("v", [3]) is v
        assert tf.get_variable_scope() is scope


def test_reentering_a_scope_object_reopens_its_name_scope():
    with tf.variable_scope("model") as scope:
        pass
    with tf.variable_scope(scope, reuse=tf.AUTO_REUSE):
        v = tf.get_variable("v", [1])
        c = tf.constant(0.0, name="c")
    assert (v.name, c.name) == ("model/v:0", "model/c:0")


def test_sharing_checks_the_shape_and_an_explicit_dtype():
    with tf.variable_scope("s"):
        tf.get_variable("v", [2, 3])
    with tf.variable_scope("s", reuse=True):
        with pytest.raises(ValueError, match="specified shape"):
            tf.get_variable("v", [3, 3])
        with pytest.raises(ValueError, match="specified dtype float64"):
            tf.get_variable("v", [2, 3], dtype=tf.float64)
        assert tf.get_variable("v").shape.as_list() == [2, 3]


def test_a_new_variable_needs_a_shape():
    with pytest.raises(ValueError, match=r"Shape of a new variable \(v\) must be fully defined"):
        tf.get_variable("v")
    with pytest.raises(ValueError, match="must be fully defined"):
        tf.get_variable("u", [None, 3])


def test_initializers_defaults_and_values():
    with tf.variable_scope("init", initializer=tf.constant_initializer(0.5)):
        inherited = tf.get_variable("inherited", [2])
        own = tf.get_variable("own", [2], initializer=tf.ones_initializer())
    glorot = tf.get_variable("glorot", [100, 50])
    counter = tf.get_variable("counter", [], dtype=tf.int64)
    from_value = tf.get_variable("from_value", initializer=[[1.0, 2.0]])
    from_tensor = tf.get_variable("from_tensor", initializer=tf.constant([3, 4]))
    as_double = tf.get_variable("as_double", dtype=tf.float64, initializer=[1.0])
    from_class = tf.get_variable("from_class", [2], initializer=tf.zeros_initializer)
    with pytest.raises(ValueError, match="do not specify shape"):
        tf.get_variable("bad", [2], initializer=[1.0, 2.0])

    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(inherited), [0.5, 0.5])
        np.testing.assert_array_equal(sess.run(own), [1.0, 1.0])
        limit = np.sqrt(6.0 / 150)
        g = sess.run(glorot)
        assert np.abs(g).max() <= limit and g.std() > limit / 3
        assert sess.run(counter) == 0 and counter.dtype is tf.int64
        np.testing.assert_array_equal(sess.run(from_value), [[1.0, 2.0]])
        assert from_tensor.dtype is tf.int32 and sess.run(from_tensor).tolist() == [3, 4]
        assert as_double.dtype is tf.float64
        np.testing.assert_array_equal(sess.run(from_class), [0.0, 0.0])
    assert own.initializer.name == "init/own/Assign"
    op_names = {op.name for op in tf.get_default_graph().get_operations()}
    assert "init/own/Initializer/ones" in op_names


def test_trainable_collections_and_local_variables():
    frozen = tf.get_variable("frozen", [1], trainable=False)
    local = tf.get_local_variable("local", [2], initializer=tf.zeros_initializer())
    assert frozen in tf.global_variables() and frozen not in tf.trainable_variables()
    assert tf.local_variables() == [local]
    assert local not in tf.global_variables()
    with tf.Session() as sess:
        sess.run(tf.local_variables_initializer())
        assert sess.run(local).tolist() == [0.0, 0.0]
        assert sess.run(tf.report_uninitialized_variables()).tolist() == [b"frozen"]


def test_local_variables_initializer_without_locals_is_a_no_op():
    init = tf.local_variables_initializer()
    with tf.Session() as sess:
        assert sess.run(init) is None


def test_regularizer_adds_a_loss():
    with tf.variable_scope("r", regularizer=lambda w: tf.reduce_sum(tf.square(w))):
        tf.get_variable("w", [2], initializer=tf.ones_initializer())
    (loss,) = tf.get_collection("regularization_losses")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(loss) == 2.0


def test_default_names_are_unique_and_restart_inside_a_reentered_scope():
    x = tf.placeholder(tf.float32, [None, 3])

    def model(inputs):
        h = tf.layers.dense(inputs, 4, activation=tf.nn.relu)
        return tf.layers.dense(h, 2)

    with tf.variable_scope("model"):
        train_out = model(x)
    with tf.variable_scope("model", reuse=True):
        eval_out = model(x)
    names = [v.name for v in tf.trainable_variables()]
    assert names == [
        "model/dense/kernel:0",
        "model/dense/bias:0",
        "model/dense_1/kernel:0",
        "model/dense_1/bias:0",
    ]
    assert train_out.op.name == "model/dense_1/BiasAdd"
    assert eval_out.op.name == "model_1/dense_1/BiasAdd"
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        feed = {x: np.ones((2, 3))}
        a, b = sess.run([train_out, eval_out], feed)
    np.testing.assert_array_equal(a, b)


def test_named_layer_reuse_and_its_errors():
    x = tf.placeholder(tf.float32, [None, 3])
    first = tf.layers.dense(x, 2, name="out")
    second = tf.layers.dense(x, 2, name="out", reuse=True)
    assert len(tf.trainable_variables()) == 2
    assert first.op.name == "out/BiasAdd" and second.op.name == "out_1/BiasAdd"
    with pytest.raises(ValueError, match="Variable out/kernel already exists"):
        tf.layers.dense(x, 2, name="out")
    with pytest.raises(ValueError, match="Variable other/kernel does not exist"):
        tf.layers.dense(x, 2, name="other", reuse=True)


def test_get_variable_inside_a_cond_branch_lives_in_the_outer_graph():
    flag = tf.placeholder(tf.bool, [])

    def branch():
        with tf.variable_scope("branch", reuse=tf.AUTO_REUSE):
            return tf.get_variable("w", [], initializer=tf.constant_initializer(3.0)) * 2.0

    y = tf.cond(flag, branch, lambda: tf.constant(0.0))
    (w,) = tf.global_variables()
    assert w.graph is tf.get_default_graph()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(y, {flag: True}) == 6.0


def test_variable_scope_argument_errors():
    with pytest.raises(TypeError, match="name_or_scope is required"):
        tf.variable_scope(None)
    with pytest.raises(ValueError, match="reuse=True cannot be used without a name_or_scope"):
        tf.variable_scope(None, default_name="d", reuse=True)
