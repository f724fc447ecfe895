"""A gradient never runs a stateful op again: inside cond and while_loop it reuses the values
the forward pass produced (TF1 stacks them; flowgraph exports them from the If / While op).

Every stateful op type of the registry is enumerated, as the gradient registry test does: a new
stateful op without a case here fails ``test_every_stateful_op_type_has_a_case``. A case builds,
from a float64 vector ``h``, a pair ``(out, s)`` where ``s`` is made from the op's forward value
and ``d sum(w * out) / dh = w * s``. Each case runs in a cond (taken in the true branch, then in
the false one), in a while_loop, in a cond inside a loop and in a loop inside a cond; the loop
multiplies the ``s`` of its iterations into ``S``, so the gradient must be ``w * S`` with the
forward values, exactly zero where ``S`` is zero (dropped units), and the op's kernel must run
no more often when the gradient is fetched too. Dynamic mode (Python ``if``/``for``, the tape)
obeys the same contract, and with seeded ops a static while_loop and a dynamic Python loop give
the very same numbers.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd
from flowgraph.ops.registry import get_op_def, registered_op_types
from flowgraph.train.training_ops import apply_training_op

N = 6
F64 = fg.float64


def _ones():
    return fg.ones([N], F64)


def _times(h, s):
    return h * s, s


def _after(make_op):
    """``s`` = ones made under a control dependency on the op: a replay that recomputed ``s``
    would run the op again."""

    def build(h, v):
        with fg.control_dependencies([make_op(v)]):
            s = fg.exp(fg.zeros([N], F64))
        return _times(h, s)

    return build


def _dropout(h, v):
    out = fg.nn.dropout(h, rate=0.5, seed=3)
    safe = fg.where(fg.equal(h, 0.0), fg.ones_like(h), h)
    return out, out / safe


def _training_op(op_type):
    """An update of ``v`` by the fused training op, with its slots and scalars made here."""
    op_def = get_op_def(op_type)
    n_slots = len(op_def.ref_inputs) - 1
    params = inspect.signature(op_def.kernel).parameters.values()
    n_scalars = sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in params) - 2  # less ctx, grad

    def make(v):
        slots = [fg.Variable(np.full(N, 0.5), name=f"slot{i}") for i in range(n_slots)]
        scalars = [fg.constant(0.5, F64)] * n_scalars
        return apply_training_op(op_type, v, slots, scalars, fg.ones([N], F64))

    return make


def _nested_cond(h, v):
    s = fg.cond(
        fg.constant(True), lambda: fg.random_uniform([N], dtype=F64, seed=5), lambda: _ones()
    )
    return _times(h, s)


def _nested_while(h, v):
    body = lambda i, r: (i + 1, r * fg.random_uniform([N], 0.5, 1.5, dtype=F64, seed=6))  # noqa: E731
    _, s = fg.while_loop(lambda i, r: i < 2, body, [0, _ones()])
    return _times(h, s)


@dataclass(frozen=True)
class Case:
    build: Callable  # (h, v) -> (out, s)
    dynamic: bool = False  # also runs in flowgraph.dynamic (no variables there)


CASES: dict[str, Case] = {
    "RandomStandardNormal": Case(
        lambda h, v: _times(h, fg.random_normal([N], dtype=F64, seed=1)), dynamic=True
    ),
    "RandomUniform": Case(
        lambda h, v: _times(h, fg.random_uniform([N], dtype=F64, seed=1)), dynamic=True
    ),
    "TruncatedNormal": Case(
        lambda h, v: _times(h, fg.truncated_normal([N], dtype=F64, seed=1)), dynamic=True
    ),
    "RandomUniformInt": Case(
        lambda h, v: _times(h, fg.cast(fg.random_uniform([N], 0, 3, dtype=fg.int32, seed=1), F64)),
        dynamic=True,
    ),
    "RandomShuffle": Case(
        lambda h, v: _times(h, fg.random_shuffle(fg.constant(np.arange(N, dtype=float)), seed=2)),
        dynamic=True,
    ),
    "Multinomial": Case(
        lambda h, v: _times(h, fg.cast(fg.multinomial(fg.zeros([1, N], F64), N, seed=2)[0], F64)),
        dynamic=True,
    ),
    "DropoutMask": Case(_dropout, dynamic=True),
    "Print": Case(lambda h, v: _times(h, fg.Print(_ones() * 2.0, [h], message="fwd ")), True),
    "CheckNumerics": Case(lambda h, v: _times(h, fg.check_numerics(_ones() * 3.0, "bad")), True),
    "Assign": Case(lambda h, v: _times(h, fg.assign(v, v * 2.0))),
    "AssignAdd": Case(lambda h, v: _times(h, fg.assign_add(v, _ones()))),
    "AssignSub": Case(lambda h, v: _times(h, fg.assign_sub(v, _ones() * 0.25))),
    "IsVariableInitialized": Case(
        lambda h, v: _times(h, fg.cast(fg.is_variable_initialized(v), F64) * _ones())
    ),
    "Assert": Case(_after(lambda v: fg.Assert(fg.reduce_all(v > -100.0), [v]))),
    "ReportUninitializedVariables": Case(_after(lambda v: fg.report_uninitialized_variables([v]))),
    "If": Case(_nested_cond),
    "While": Case(_nested_while),
}
for _type in registered_op_types():
    if _type.startswith("Apply"):
        CASES.setdefault(_type, Case(_after(_training_op(_type))))

# Stateful op types that never run inside a function on their own, with the reason.
NOT_IN_FUNCTIONS = {
    "VariableV2": "a variable is created outside; inside, a read is captured as the If/While "
    "op's input (so the gradient gets the same value) and an assignment target is mirrored",
}


def test_every_stateful_op_type_has_a_case():
    stateful = {t for t in registered_op_types() if get_op_def(t).stateful}
    missing = sorted(stateful - set(CASES) - set(NOT_IN_FUNCTIONS))
    assert not missing, f"stateful op types without a cond/while gradient case: {missing}"


def _other_branch(h, v):
    return h * 2.0, _ones() * 2.0


def _loop(build, x, v, iterations=3):
    def body(i, h, total):
        out, s = build(h, v)
        return i + 1, out, total * s

    _, y, total = fg.while_loop(lambda i, h, t: i < iterations, body, [0, x, _ones()])
    return y, total


def _in_cond(build, pred, x, v, taken_first=True):
    first, second = (build, _other_branch) if taken_first else (_other_branch, build)
    return fg.cond(pred, lambda: first(x, v), lambda: second(x, v))


SETTINGS: dict[str, tuple[Callable, bool]] = {
    "cond_true": (lambda b, p, x, v: _in_cond(b, p, x, v, True), True),
    "cond_false": (lambda b, p, x, v: _in_cond(b, p, x, v, False), False),
    "while": (lambda b, p, x, v: _loop(b, x, v), True),
    "cond_in_while": (lambda b, p, x, v: _loop(lambda h, v: _in_cond(b, p, h, v), x, v), True),
    "while_in_cond": (
        lambda b, p, x, v: fg.cond(p, lambda: _loop(b, x, v), lambda: _other_branch(x, v)),
        True,
    ),
}


def _count_kernel_calls(monkeypatch, op_type: str) -> list:
    calls = []
    op_def = get_op_def(op_type)

    @functools.wraps(op_def.kernel)
    def counting(*args, **kwargs):
        calls.append(op_type)
        return op_def.kernel.__wrapped__(*args, **kwargs)

    counting.__wrapped__ = op_def.kernel
    monkeypatch.setattr(op_def, "kernel", counting)
    return calls


@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("op_type", sorted(CASES))
def test_gradient_reuses_forward_values_of_stateful_ops(op_type, setting, monkeypatch, graph):
    make, pred_value = SETTINGS[setting]
    x = fg.placeholder(F64, [N], name="x")
    pred = fg.placeholder(fg.bool, [], name="pred")
    v = fg.Variable(np.full(N, 1.5), name="v")
    y, total = make(CASES[op_type].build, pred, x, v)
    w = np.linspace(0.5, 2.0, N)
    (g,) = fg.gradients(fg.reduce_sum(y * w), [x])
    feed = {x: np.linspace(0.5, 1.5, N), pred: pred_value}
    calls = _count_kernel_calls(monkeypatch, op_type)

    forward_only = fg.Session(seed=0)
    forward_only.run(fg.global_variables_initializer())
    forward_only.run([y, total], feed)
    expected_calls = len(calls)
    assert expected_calls > 0, "the case never ran its op"

    del calls[:]
    with_gradient = fg.Session(seed=0)
    with_gradient.run(fg.global_variables_initializer())
    total_value, grad = with_gradient.run([total, g], feed)
    assert len(calls) == expected_calls, f"the gradient ran {op_type} again"
    np.testing.assert_allclose(grad, w * total_value, rtol=1e-12)
    assert np.all(grad[total_value == 0] == 0.0)
    # The variable changed exactly as often as the forward pass changed it.
    np.testing.assert_array_equal(with_gradient.run(v), forward_only.run(v))


def test_dropout_in_cond_gives_dropped_units_exactly_zero_gradient(graph):
    x = fg.placeholder(F64, [2000])
    training = fg.placeholder(fg.bool, [])
    y = fg.layers.dropout(x, rate=0.5, training=training)
    (g,) = fg.gradients(fg.reduce_sum(y * 3.0), [x])
    with fg.Session() as sess:
        out, grad = sess.run([y, g], {x: np.ones(2000), training: True})
        dropped = out == 0
        assert 800 < dropped.sum() < 1200
        assert np.all(grad[dropped] == 0.0)
        np.testing.assert_array_equal(grad[~dropped], 6.0)
        out, grad = sess.run([y, g], {x: np.ones(2000), training: False})
        np.testing.assert_array_equal(grad, 3.0)


@pytest.mark.parametrize("op_type", sorted(t for t, c in CASES.items() if c.dynamic))
def test_dynamic_mode_obeys_the_same_contract(op_type):
    """Define-by-run records the forward values on its tape: Python ``if`` and ``for`` around
    the same case give the gradient ``w * S`` too (so the two modes agree on the rule)."""
    w = np.linspace(0.5, 2.0, N)
    x = fd.tensor(np.linspace(0.5, 1.5, N), requires_grad=True)
    with fd.eager():
        h, total = x, np.ones(N)
        for _ in range(3):
            if True:  # the taken branch of a cond
                h, s = CASES[op_type].build(h, None)
            total = total * s.detach().numpy()
        (h * fd.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), w * total, rtol=1e-12)
    assert np.all(x.grad.numpy()[total == 0] == 0.0)


def test_replays_survive_a_graph_file_round_trip(tmp_path):
    """The gradient functions keep reusing the forward values after export / import."""
    from flowgraph.io import export_graph, import_graph

    g = fg.Graph()
    with g.as_default():
        x = fg.placeholder(F64, [200], name="x")
        pred = fg.placeholder(fg.bool, [], name="pred")
        y = fg.cond(pred, lambda: fg.nn.dropout(x, rate=0.5), lambda: x, name="c")
        _, z = fg.while_loop(
            lambda i, h: i < 2, lambda i, h: (i + 1, fg.nn.dropout(h, rate=0.3)), [0, y]
        )
        (g_x,) = fg.gradients(fg.reduce_sum(z), [x])
    export_graph(g, tmp_path / "g.json")
    with fg.Graph().as_default() as imported:
        import_graph(tmp_path / "g.json", name="m")
        with fg.Session(graph=imported) as sess:
            out, grad = sess.run(
                [f"m/{z.name}", f"m/{g_x.name}"], {"m/x:0": np.ones(200), "m/pred:0": True}
            )
    assert (out == 0).sum() > 50
    np.testing.assert_allclose(grad, out, rtol=1e-12)  # d out / d x = the scale where kept, else 0


@pytest.mark.parametrize("pred_value", [True, False])
def test_higher_derivatives_reuse_the_forward_values_too(pred_value, monkeypatch, graph):
    """d^k/dx^k of x**3 * r (r a forward draw, x passed through Print) inside a cond: each
    order counts every path once, and neither the draw nor the Print runs again."""
    x = fg.placeholder(F64, [], name="x")
    pred = fg.placeholder(fg.bool, [], name="pred")

    def branch():
        r = fg.random_uniform([], 0.5, 1.5, dtype=F64, seed=4)
        return fg.Print(x, [x], "x=") ** 3 * r, r

    y, r = fg.cond(pred, branch, lambda: (x * x, fg.constant(0.0, F64)))
    (d1,) = fg.gradients(y, [x])
    (d2,) = fg.gradients(d1, [x])
    (d3,) = fg.gradients(d2, [x])
    prints = _count_kernel_calls(monkeypatch, "Print")
    draws = _count_kernel_calls(monkeypatch, "RandomUniform")
    values = fg.Session().run([r, d1, d2, d3], {x: 2.0, pred: pred_value})
    if pred_value:
        r_value = values[0]
        np.testing.assert_allclose(values[1:], [12 * r_value, 12 * r_value, 6 * r_value])
        assert len(prints) == len(draws) == 1
    else:
        np.testing.assert_allclose(values[1:], [4.0, 2.0, 0.0])
        assert not prints and not draws


@pytest.mark.parametrize(
    "op_type",
    sorted(t for t, c in CASES.items() if c.dynamic),
)
def test_static_while_and_dynamic_loop_give_the_same_numbers(op_type, graph):
    """A seeded op draws the same stream in both modes, so a while_loop in a graph and a
    Python loop on the tape give identical forward values and gradients."""
    w = np.linspace(0.5, 2.0, N)
    x_value = np.linspace(0.5, 1.5, N)
    x = fg.placeholder(F64, [N], name="x")
    y, _ = _loop(CASES[op_type].build, x, None)
    (g,) = fg.gradients(fg.reduce_sum(y * w), [x])
    static_y, static_g = fg.Session().run([y, g], {x: x_value})

    fd.manual_seed(0)  # a fresh generator per seed, as a new Session has
    eager_x = fd.tensor(x_value, requires_grad=True)
    with fd.eager():
        h = eager_x
        for _ in range(3):
            h, _ = CASES[op_type].build(h, None)
        (h * fd.tensor(w)).sum().backward()
    np.testing.assert_allclose(h.detach().numpy(), static_y, rtol=1e-12)
    np.testing.assert_allclose(eager_x.grad.numpy(), static_g, rtol=1e-12)
