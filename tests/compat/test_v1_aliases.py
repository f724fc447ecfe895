"""flowgraph.compat.v1 has TF1's names, and each is an alias of flowgraph's own object."""

from __future__ import annotations

import types

import pytest

import flowgraph as fg
import flowgraph.compat.v1 as tf

TOP_LEVEL = """
float16 float32 float64 int8 int16 int32 int64 uint8 bool as_dtype DType dtypes
placeholder placeholder_with_default Variable get_variable variable_scope AUTO_REUSE constant
add subtract multiply divide truediv floordiv mod pow square sqrt rsqrt exp log log1p sin cos
tanh sigmoid abs sign negative maximum minimum clip_by_value where cast equal not_equal less
less_equal greater greater_equal logical_and logical_or logical_not matmul reduce_sum
reduce_mean reduce_max reduce_min reduce_prod reduce_any reduce_all reduce_logsumexp
squared_difference reciprocal cumsum eye gather_nd boolean_mask Assert is_variable_initialized
report_uninitialized_variables convert_to_tensor argmax argmin reshape transpose concat stack
unstack split expand_dims squeeze tile pad gather one_hot shape size rank zeros ones zeros_like
ones_like fill range identity stop_gradient random_normal truncated_normal random_uniform
random_shuffle multinomial set_random_seed nn train layers initializers zeros_initializer
ones_initializer constant_initializer random_normal_initializer truncated_normal_initializer
glorot_uniform_initializer Session InteractiveSession global_variables_initializer
variables_initializer local_variables_initializer global_variables trainable_variables
gradients name_scope get_default_graph reset_default_graph Graph GraphKeys get_collection
add_to_collection control_dependencies group no_op Print cond case while_loop errors
TensorShape newaxis get_default_session device
""".split()

NN = """relu sigmoid tanh softmax log_softmax softmax_cross_entropy_with_logits_v2
softmax_cross_entropy_with_logits sparse_softmax_cross_entropy_with_logits
sigmoid_cross_entropy_with_logits conv2d max_pool avg_pool bias_add dropout moments l2_loss
top_k embedding_lookup""".split()

TRAIN = """AdamOptimizer GradientDescentOptimizer MomentumOptimizer RMSPropOptimizer
AdagradOptimizer Optimizer get_or_create_global_step get_global_step exponential_decay
piecewise_constant""".split()

LAYERS = "dense conv2d max_pooling2d average_pooling2d flatten dropout".split()


# TF1 keeps its initializer classes at the top level (zeros_initializer); flowgraph keeps them
# in fg.initializers under their class names (Zeros).
INITIALIZERS = [n for n in TOP_LEVEL if n.endswith("_initializer") and n[0].islower()]
INITIALIZERS.remove("global_variables_initializer")
INITIALIZERS.remove("local_variables_initializer")
INITIALIZERS.remove("variables_initializer")
# tf.nn and tf.train are namespaces of their own (TF1 has more names there than flowgraph's
# fg.nn / fg.train modules hold); their names are checked one by one below.
OWN_NAMESPACES = {"nn", "train"}


def _flowgraph_object(name):
    """What ``tf.<name>`` must be: flowgraph's object of that name."""
    if name in INITIALIZERS:
        words = name.removesuffix("_initializer").split("_")
        return getattr(fg.initializers, "".join(w.capitalize() for w in words))
    return getattr(fg, name)


@pytest.mark.parametrize("name", sorted(set(TOP_LEVEL) - OWN_NAMESPACES))
def test_top_level_name_is_flowgraphs_own_object(name):
    assert getattr(tf, name) is _flowgraph_object(name)


@pytest.mark.parametrize(
    ("namespace", "name"),
    [("nn", n) for n in NN] + [("train", n) for n in TRAIN] + [("layers", n) for n in LAYERS],
)
def test_namespace_name_is_flowgraphs_own_object(namespace, name):
    assert isinstance(getattr(tf, namespace), types.ModuleType)
    assert getattr(getattr(tf, namespace), name) is getattr(getattr(fg, namespace), name)


def test_the_alias_check_can_tell_a_copy():
    """A wrapper with the same behaviour is not the object: the checks above would catch it."""

    def placeholder(*args, **kwargs):
        return fg.placeholder(*args, **kwargs)

    assert placeholder is not _flowgraph_object("placeholder")
    assert tf.float32 is fg.float32 and tf.float32 is not fg.float64


def test_v1_defines_no_logic_of_its_own():
    """Everything public is defined elsewhere in flowgraph (the namespaces are modules made of
    aliases)."""
    own = []
    for name in dir(tf):
        value = getattr(tf, name)
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        if getattr(value, "__module__", None) == tf.__name__:
            own.append(name)
    assert not own, f"compat.v1 defines {own} itself; define them in flowgraph proper"


def test_errors_module_has_tf_classes():
    for name in ["InvalidArgumentError", "FailedPreconditionError", "OutOfRangeError", "OpError"]:
        assert issubclass(getattr(tf.errors, name), Exception)
