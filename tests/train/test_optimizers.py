"""Optimizers (flowgraph/train) against NumPy implementations of TF1's published updates."""

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import train
from flowgraph.ops.registry import get_op_def

# Every test here runs with plans as generated source and as a table (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("executor")

# Each optimizer's update also runs on the strict array-API namespace (see tests/conftest.py).
pytestmark = pytest.mark.usefixtures("backend")

W0 = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.5]])
GRADS = [
    np.array([[0.1, -0.2, 0.3], [1.0, 0.0, -0.5]]),
    np.array([[-0.4, 0.2, 0.1], [0.5, 2.0, -0.1]]),
    np.array([[0.3, 0.3, -0.3], [-1.0, 0.1, 0.0]]),
    np.array([[0.0, -1.0, 0.2], [0.2, -0.2, 0.7]]),
]
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-13)}

# ---- NumPy references: the formulas of TF1's Apply* ops ------------------------------------------


def sgd_ref(lr):
    def step(w, g, state):
        return w - lr * g

    return step, {}


def momentum_ref(lr, momentum, nesterov=False):
    def step(w, g, s):
        s["accum"] = momentum * s.get("accum", np.zeros_like(w)) + g
        if nesterov:
            return w - lr * g - lr * momentum * s["accum"]
        return w - lr * s["accum"]

    return step, {}


def adam_ref(lr, beta1=0.9, beta2=0.999, eps=1e-8):
    # As in TF1, beta1**t and beta2**t are float32 variables (made from Python floats) that are
    # multiplied by beta1 and beta2 after each step, whatever the dtype of the variables.
    b1, b2 = np.float32(beta1), np.float32(beta2)

    def step(w, g, s):
        b1_t, b2_t = s.get("b1_t", b1), s.get("b2_t", b2)
        s["b1_t"], s["b2_t"] = b1_t * b1, b2_t * b2
        lr_t = lr * np.sqrt(1 - np.float64(b2_t)) / (1 - np.float64(b1_t))
        s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
        s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g * g
        return w - lr_t * s["m"] / (np.sqrt(s["v"]) + eps)

    return step, {}


def rmsprop_ref(lr, decay=0.9, momentum=0.0, eps=1e-10, centered=False):
    def step(w, g, s):
        s["ms"] = decay * s.get("ms", np.ones_like(w)) + (1 - decay) * g * g
        denom = s["ms"] + eps
        if centered:
            s["mg"] = decay * s.get("mg", 0.0) + (1 - decay) * g
            denom = s["ms"] - s["mg"] ** 2 + eps
        s["mom"] = momentum * s.get("mom", 0.0) + lr * g / np.sqrt(denom)
        return w - s["mom"]

    return step, {}


def adagrad_ref(lr, init=0.1):
    def step(w, g, s):
        s["accum"] = s.get("accum", np.full_like(w, init)) + g * g
        return w - lr * g / np.sqrt(s["accum"])

    return step, {}


CASES = {
    "sgd": (lambda: train.GradientDescentOptimizer(0.1), sgd_ref(0.1)),
    "momentum": (lambda: train.MomentumOptimizer(0.1, 0.9), momentum_ref(0.1, 0.9)),
    "nesterov": (
        lambda: train.MomentumOptimizer(0.05, 0.8, use_nesterov=True),
        momentum_ref(0.05, 0.8, nesterov=True),
    ),
    "adam": (lambda: train.AdamOptimizer(0.01), adam_ref(0.01)),
    "adam_custom": (
        lambda: train.AdamOptimizer(0.2, beta1=0.5, beta2=0.75, epsilon=1e-3),
        adam_ref(0.2, 0.5, 0.75, 1e-3),
    ),
    "rmsprop": (lambda: train.RMSPropOptimizer(0.01), rmsprop_ref(0.01)),
    "rmsprop_momentum": (
        lambda: train.RMSPropOptimizer(0.02, decay=0.8, momentum=0.5, epsilon=1e-6),
        rmsprop_ref(0.02, 0.8, 0.5, 1e-6),
    ),
    "rmsprop_centered": (
        lambda: train.RMSPropOptimizer(0.02, momentum=0.3, centered=True),
        rmsprop_ref(0.02, momentum=0.3, centered=True),
    ),
    "adagrad": (lambda: train.AdagradOptimizer(0.3), adagrad_ref(0.3)),
    "adagrad_init": (
        lambda: train.AdagradOptimizer(0.3, initial_accumulator_value=2.0),
        adagrad_ref(0.3, 2.0),
    ),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", sorted(CASES))
def test_steps_match_the_published_update(graph, case, dtype):
    make_optimizer, (reference, _) = CASES[case]
    state = {}  # the reference's slots, fresh for each test
    w = fg.Variable(W0.astype(dtype), name="w")
    g = fg.placeholder(dtype, W0.shape, name="g")
    train_op = make_optimizer().apply_gradients([(g, w)])
    expected = W0.copy()
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for grad in GRADS:
            sess.run(train_op, {g: grad.astype(dtype)})
            expected = reference(expected, grad, state)
            got = sess.run(w)
            assert got.dtype == dtype
            np.testing.assert_allclose(got, expected, **TOLERANCE[dtype])


def test_constant_gradients_and_a_scalar_variable(graph):
    w = fg.Variable(2.0, name="w")
    train_op = train.AdamOptimizer(0.1).apply_gradients([(fg.constant(0.5), w)])
    step, state = adam_ref(0.1)
    expected = np.float64(2.0)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for _ in range(5):
            sess.run(train_op)
            expected = step(expected, 0.5, state)
        np.testing.assert_allclose(sess.run(w), expected, **TOLERANCE[np.float32])


def test_learning_rate_may_be_a_tensor(graph):
    w = fg.Variable(W0, name="w")
    lr = fg.placeholder(fg.float32, [], name="lr")  # cast to the variable's float64
    g = fg.placeholder(fg.float64, W0.shape)
    train_op = train.MomentumOptimizer(lr, momentum=0.5).apply_gradients([(g, w)])
    expected, accum = W0.copy(), np.zeros_like(W0)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for rate, grad in zip([0.1, 0.2, 0.05, 0.3], GRADS):
            sess.run(train_op, {lr: rate, g: grad})
            accum = 0.5 * accum + grad
            expected = expected - np.float32(rate) * accum
        np.testing.assert_allclose(sess.run(w), expected, rtol=1e-12)


def test_several_variables_each_get_their_own_slots(graph):
    a = fg.Variable([1.0, 2.0], name="a")
    b = fg.Variable([[3.0]], name="layer/b")
    opt = train.AdamOptimizer(0.1)
    train_op = opt.apply_gradients([(fg.constant([1.0, -1.0]), a), (fg.constant([[2.0]]), b)])
    step, sa = adam_ref(0.1)
    _, sb = adam_ref(0.1)
    ea, eb = np.array([1.0, 2.0]), np.array([[3.0]])
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for _ in range(3):
            sess.run(train_op)
            ea, eb = step(ea, np.array([1.0, -1.0]), sa), step(eb, np.array([[2.0]]), sb)
        np.testing.assert_allclose(sess.run(a), ea, **TOLERANCE[np.float32])
        np.testing.assert_allclose(sess.run(b), eb, **TOLERANCE[np.float32])
        # beta powers moved on once per step, not once per variable
        beta1_power, beta2_power = opt._get_beta_accumulators(graph)
        np.testing.assert_allclose(sess.run(beta1_power), 0.9**4, rtol=1e-6)
        np.testing.assert_allclose(sess.run(beta2_power), 0.999**4, rtol=1e-6)


# ---- slots ---------------------------------------------------------------------------------------

SLOTS = [
    (lambda: train.MomentumOptimizer(0.1, 0.9), {"momentum": ("w/Momentum", 0.0)}),
    (lambda: train.AdamOptimizer(), {"m": ("w/Adam", 0.0), "v": ("w/Adam_1", 0.0)}),
    (
        lambda: train.RMSPropOptimizer(0.1),
        {"rms": ("w/RMSProp", 1.0), "momentum": ("w/RMSProp_1", 0.0)},
    ),
    (
        lambda: train.RMSPropOptimizer(0.1, centered=True),
        {"rms": ("w/RMSProp", 1.0), "mg": ("w/RMSProp_1", 0.0), "momentum": ("w/RMSProp_2", 0.0)},
    ),
    (lambda: train.AdagradOptimizer(0.1), {"accumulator": ("w/Adagrad", 0.1)}),
    (lambda: train.GradientDescentOptimizer(0.1), {}),
]


@pytest.mark.parametrize("make_optimizer, slots", SLOTS)
def test_slots_are_initialized_by_global_variables_initializer(graph, make_optimizer, slots):
    w = fg.Variable(np.ones((2, 3), np.float32), name="w")
    opt = make_optimizer()
    opt.apply_gradients([(fg.zeros([2, 3]), w)])
    assert opt.get_slot_names() == sorted(slots)
    global_names = {v.op.name for v in fg.global_variables()}
    trainable = fg.trainable_variables()
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for slot_name, (var_name, fill) in slots.items():
            slot = opt.get_slot(w, slot_name)
            assert slot.op.name == var_name
            assert slot.name in {v.name for v in opt.variables()}
            assert var_name in global_names and slot not in trainable and not slot.trainable
            assert slot.dtype is fg.float32 and slot.shape == w.shape
            np.testing.assert_array_equal(sess.run(slot), np.full((2, 3), fill, np.float32))
    assert trainable == [w]


def test_adam_beta_powers_are_non_trainable_globals(graph):
    w = fg.Variable([1.0], name="w")
    opt = train.AdamOptimizer(beta1=0.8, beta2=0.7)
    opt.apply_gradients([(fg.constant([1.0]), w)])
    names = [v.op.name for v in fg.global_variables()]
    assert "beta1_power" in names and "beta2_power" in names
    assert [v.op.name for v in fg.trainable_variables()] == ["w"]
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        b1, b2 = opt._get_beta_accumulators(graph)
        np.testing.assert_allclose(sess.run([b1, b2]), [0.8, 0.7], rtol=1e-6)


def test_a_second_apply_gradients_reuses_the_slots(graph):
    w = fg.Variable([1.0], name="w")
    opt = train.AdamOptimizer(0.1)
    first = opt.apply_gradients([(fg.constant([1.0]), w)])
    second = opt.apply_gradients([(fg.constant([2.0]), w)])
    assert first.name == "Adam" and second.name == "Adam_1"
    assert len(opt.variables()) == 4  # m, v, beta1_power, beta2_power


def test_update_ops_are_fused_stateful_ops_on_ref_inputs(graph):
    w = fg.Variable([1.0], name="w")
    train_op = train.AdamOptimizer(0.1).apply_gradients([(fg.constant([1.0]), w)])
    (update,) = [op for op in graph.get_operations() if op.type == "ApplyAdam"]
    assert update.name == "Adam/update_w/ApplyAdam"
    assert update.outputs == ()
    assert update in train_op.control_inputs
    for op_type in [
        "ApplyGradientDescent",
        "ApplyMomentum",
        "ApplyAdam",
        "ApplyRMSProp",
        "ApplyCenteredRMSProp",
        "ApplyAdagrad",
    ]:
        op_def = get_op_def(op_type)
        assert op_def.stateful and op_def.needs_context and not op_def.differentiable
        assert op_def.ref_inputs[0] == 0


def test_updates_happen_in_place(graph):
    w = fg.Variable(np.zeros(3), name="w")
    train_op = train.MomentumOptimizer(0.1, 0.9).apply_gradients([(fg.constant(np.ones(3)), w)])
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        stored = sess._context.variables["w"]
        sess.run(train_op)
        assert sess._context.variables["w"] is stored
        np.testing.assert_allclose(stored, -0.1)


def test_running_before_initializing_names_the_variable(graph):
    w = fg.Variable([1.0], name="w")
    train_op = train.AdamOptimizer().apply_gradients([(fg.constant([1.0]), w)])
    with pytest.raises(fg.errors.FailedPreconditionError, match="uninitialized"):
        fg.Session().run(train_op)


def test_gradient_shape_and_dtype_are_checked(graph):
    w = fg.Variable([1.0, 2.0], name="w")
    opt = train.GradientDescentOptimizer(0.1)
    with pytest.raises(fg.errors.ShapeError, match="shape"):
        opt.apply_gradients([(fg.constant([1.0, 2.0, 3.0]), w)])
    with pytest.raises(ValueError, match="dtype"):
        opt.apply_gradients([(fg.constant([1.0, 2.0], fg.float64), w)])
    with pytest.raises(TypeError, match="Variable"):
        opt.apply_gradients([(fg.constant([1.0, 2.0]), fg.constant([0.0, 0.0]))])


def test_adagrad_rejects_a_non_positive_accumulator():
    with pytest.raises(ValueError, match="positive"):
        train.AdagradOptimizer(0.1, initial_accumulator_value=0.0)


# ---- None gradients ------------------------------------------------------------------------------


def test_variables_without_gradient_are_skipped(graph):
    a = fg.Variable([1.0], name="a")
    b = fg.Variable([5.0], name="b")
    opt = train.MomentumOptimizer(0.5, 0.9)
    train_op = opt.apply_gradients([(fg.constant([1.0]), a), (None, b)])
    assert opt.get_slot(b, "momentum") is None
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        sess.run(train_op)
        assert sess.run(a)[0] == pytest.approx(0.5) and sess.run(b)[0] == 5.0


def test_all_none_gradients_raise_in_apply_gradients(graph):
    a = fg.Variable([1.0], name="a")
    with pytest.raises(ValueError, match=r"No gradients provided for any variable.*'a:0'"):
        train.AdamOptimizer().apply_gradients([(None, a)])


def test_minimize_without_any_gradient_explains_why(graph):
    w = fg.Variable([1.0], name="w")
    x = fg.placeholder(fg.float32, [3], name="x")
    loss = fg.reduce_sum(x, name="loss")
    with pytest.raises(ValueError) as info:
        train.GradientDescentOptimizer(0.1).minimize(loss, var_list=[w])
    message = str(info.value)
    assert "No gradients provided for any variable" in message and "w:0" in message
    assert fg.autodiff.explain_gradient(loss, w) in message


def test_compute_gradients_needs_variables(graph):
    x = fg.placeholder(fg.float32, [3])
    with pytest.raises(ValueError, match="No variables to optimize"):
        train.AdamOptimizer().compute_gradients(fg.reduce_sum(x))


def test_apply_gradients_needs_pairs(graph):
    with pytest.raises(ValueError, match="No variables provided"):
        train.AdamOptimizer().apply_gradients([])


# ---- global step ---------------------------------------------------------------------------------


def test_global_step_is_an_int64_non_trainable_variable(graph):
    assert train.get_global_step() is None
    step = train.get_or_create_global_step()
    assert train.get_or_create_global_step() is step and train.get_global_step() is step
    assert step.op.name == "global_step" and step.dtype is fg.int64 and not step.trainable
    assert graph.get_collection(fg.GraphKeys.GLOBAL_STEP) == [step]
    assert step in fg.global_variables() and step not in fg.trainable_variables()
    with pytest.raises(ValueError, match="already exists"):
        train.create_global_step()


def test_apply_gradients_increments_the_global_step_after_the_updates(graph):
    w = fg.Variable([0.0], name="w")
    step = train.get_or_create_global_step()
    train_op = train.GradientDescentOptimizer(1.0).apply_gradients(
        [(fg.constant([1.0]), w)], global_step=step
    )
    assert train_op.type == "AssignAdd" and train_op.name == "GradientDescent"
    (update_group,) = train_op.control_inputs
    assert any(op.type == "ApplyGradientDescent" for op in update_group.control_inputs)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for _ in range(3):
            sess.run(train_op)
        assert sess.run(step) == 3 and sess.run(w)[0] == -3.0


# ---- minimize (needs the gradient rules of Sub, Square and Sum) ----------------------------------


def test_minimize_gradient_descent_on_a_quadratic(graph):
    target = np.array([1.0, -2.0, 3.0])
    w = fg.Variable(np.zeros(3), name="w")
    loss = fg.reduce_sum(fg.square(w - target))
    step = train.get_or_create_global_step()
    train_op = train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    expected = np.zeros(3)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        for _ in range(5):
            sess.run(train_op)
            expected = expected - 0.1 * 2 * (expected - target)
        np.testing.assert_allclose(sess.run(w), expected, rtol=1e-12)
        assert sess.run(step) == 5


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: train.AdamOptimizer(0.1),
        lambda: train.MomentumOptimizer(0.05, 0.9),
        lambda: train.RMSPropOptimizer(0.05),
        lambda: train.AdagradOptimizer(0.5),
    ],
)
def test_minimize_converges_on_a_quadratic(graph, make_optimizer):
    target = np.array([1.0, -2.0, 3.0], np.float32)
    w = fg.Variable(np.zeros(3, np.float32), name="w")
    loss = fg.reduce_sum(fg.square(w - target))
    train_op = make_optimizer().minimize(loss)
    with fg.Session() as sess:
        sess.run(fg.global_variables_initializer())
        start = sess.run(loss)
        for _ in range(300):
            sess.run(train_op)
        assert sess.run(loss) < 1e-2 * start
