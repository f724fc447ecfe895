"""Dynamic mode gives static mode's numbers: values and gradients of random expressions.

Each seeded random expression tree (matmul, broadcasting arithmetic, tanh / relu / sigmoid / exp /
log of positives, softmax, sums and means, reshape, transpose, reused subexpressions) is built
twice from the same op functions: on placeholders in a Graph, run by a Session and
differentiated by ``flowgraph.gradients``; and on eager tensors, differentiated by
``backward()``. Both must agree. A second family spells the dynamic side with PyTorch-style
methods and operators.
"""

from __future__ import annotations

import numpy as np
import pytest

import flowgraph as fg
import flowgraph.dynamic as fd

DIMS = (1, 2, 3, 4)


class Tree:
    """A random expression of a given shape, as nested tuples ``(op, *children, *params)``."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.leaves: list[tuple] = []  # shapes; index = leaf number

    def leaf(self, shape) -> tuple:
        same = [i for i, s in enumerate(self.leaves) if s == shape]
        if same and self.rng.random() < 0.4:  # reuse: two paths into one tensor
            return ("leaf", int(self.rng.choice(same)))
        self.leaves.append(shape)
        return ("leaf", len(self.leaves) - 1)

    def dim(self) -> int:
        return int(self.rng.choice(DIMS))

    def gen(self, shape: tuple, depth: int) -> tuple:
        if depth == 0:
            return self.leaf(shape)
        choices = ["unary", "binary", "broadcast", "reduce"]
        if len(shape) == 2:
            choices += ["matmul", "transpose", "reshape"]
        if len(shape) >= 1:
            choices += ["softmax"]
        kind = self.rng.choice(choices)
        d = depth - 1
        if kind == "unary":
            op = self.rng.choice(["tanh", "relu", "sigmoid", "exp_tanh", "log_positive", "neg"])
            return (op, self.gen(shape, d))
        if kind == "binary":
            op = self.rng.choice(["add", "sub", "mul", "maximum"])
            return (op, self.gen(shape, d), self.gen(shape, d))
        if kind == "broadcast":
            op = self.rng.choice(["add", "mul", "sub"])
            other = tuple(1 if self.rng.random() < 0.5 else n for n in shape)
            if other and self.rng.random() < 0.3:
                other = other[1:]  # fewer dimensions: broadcast adds leading ones
            pair = [self.gen(shape, d), self.gen(other, d)]
            self.rng.shuffle(pair)
            return (op, *pair)
        if kind == "reduce":
            op = self.rng.choice(["sum", "mean"])
            if shape and shape[-1] == 1 and self.rng.random() < 0.5:
                wide = shape[:-1] + (self.dim(),)
                return (op, self.gen(wide, d), -1, True)
            return (op, self.gen(shape + (self.dim(),), d), -1, False)
        if kind == "matmul":
            k = self.dim()
            return ("matmul", self.gen((shape[0], k), d), self.gen((k, shape[1]), d))
        if kind == "transpose":
            return ("transpose", self.gen(shape[::-1], d))
        if kind == "reshape":
            return ("reshape", self.gen((shape[0] * shape[1],), d), shape)
        return ("softmax", self.gen(shape, d))


# Both modes run these same functions: graph ops on placeholders, or eager ops in fd.eager().
LIBRARY = {
    "tanh": fg.tanh,
    "relu": fg.nn.relu,
    "sigmoid": fg.sigmoid,
    "exp_tanh": lambda x: fg.exp(fg.tanh(x)),
    "log_positive": lambda x: fg.log(fg.square(x) + 1.0),
    "neg": fg.negative,
    "add": fg.add,
    "sub": fg.subtract,
    "mul": fg.multiply,
    "maximum": fg.maximum,
    "sum": lambda x, axis, keep: fg.reduce_sum(x, axis, keepdims=keep),
    "mean": lambda x, axis, keep: fg.reduce_mean(x, axis, keepdims=keep),
    "matmul": fg.matmul,
    "transpose": fg.transpose,
    "reshape": fg.reshape,
    "softmax": fg.nn.softmax,
}

# The dynamic side spelled as a PyTorch user would.
TORCH_STYLE = {
    "tanh": lambda x: x.tanh(),
    "relu": fd.relu,
    "sigmoid": lambda x: x.sigmoid(),
    "exp_tanh": lambda x: x.tanh().exp(),
    "log_positive": lambda x: (x * x + 1.0).log(),
    "neg": lambda x: -x,
    "add": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "maximum": fd.maximum,
    "sum": lambda x, axis, keep: x.sum(dim=axis, keepdim=keep),
    "mean": lambda x, axis, keep: x.mean(dim=axis, keepdim=keep),
    "matmul": lambda x, y: x @ y,
    "transpose": lambda x: x.t(),
    "reshape": lambda x, shape: x.view(*shape),
    "softmax": lambda x: fd.softmax(x, dim=-1),
}


def is_tree(item) -> bool:
    return isinstance(item, tuple) and bool(item) and isinstance(item[0], str)


def evaluate(tree, leaves, library):
    op, *rest = tree
    if op == "leaf":
        return leaves[rest[0]]
    args = [evaluate(c, leaves, library) if is_tree(c) else c for c in rest]
    return library[op](*args)


def random_case(seed: int):
    tree = Tree(seed)
    shape = tuple(tree.dim() for _ in range(int(tree.rng.integers(0, 3))))
    expr = tree.gen(shape, depth=int(tree.rng.integers(2, 5)))
    values = [tree.rng.normal(size=s) for s in tree.leaves]
    return expr, values


def static_result(expr, values):
    with fg.Graph().as_default():
        leaves = [fg.placeholder(fg.float64, v.shape) for v in values]
        out = evaluate(expr, leaves, LIBRARY)
        grads = fg.gradients(fg.reduce_sum(out * out), leaves)
        wanted = [out] + [g for g in grads if g is not None]
        results = fg.Session().run(wanted, dict(zip(leaves, values)))
    it = iter(results[1:])
    return results[0], [None if g is None else next(it) for g in grads]


def dynamic_result(expr, values, library):
    leaves = [fd.tensor(v, requires_grad=True) for v in values]
    if library is LIBRARY:
        with fd.eager():
            out = evaluate(expr, leaves, library)
    else:
        out = evaluate(expr, leaves, library)
    (out * out).sum().backward()
    return out, [None if t.grad is None else t.grad.numpy() for t in leaves]


def assert_same(expr, values, library):
    value, grads = static_result(expr, values)
    out, dgrads = dynamic_result(expr, values, library)
    assert out.value.dtype == np.float64 and out.shape == np.shape(value), expr
    np.testing.assert_allclose(out.detach().numpy(), value, rtol=1e-10, atol=1e-12, err_msg=expr)
    for g, dg in zip(grads, dgrads):
        assert (g is None) == (dg is None), expr
        if g is not None:
            np.testing.assert_allclose(dg, g, rtol=1e-9, atol=1e-12, err_msg=str(expr))


@pytest.mark.parametrize("seed", range(50))
def test_random_expressions_agree_with_static_mode(seed):
    assert_same(*random_case(seed), LIBRARY)


@pytest.mark.parametrize("seed", range(50, 70))
def test_pytorch_style_spelling_agrees_with_static_mode(seed):
    assert_same(*random_case(seed), TORCH_STYLE)


def test_the_generator_covers_every_op():
    seen = set()
    for seed in range(70):

        def walk(t):
            if is_tree(t):
                seen.add(t[0])
                for c in t[1:]:
                    walk(c)

        walk(random_case(seed)[0])
    assert set(LIBRARY) <= seen


def test_losses_and_dtype_float32_agree():
    rng = np.random.default_rng(0)
    logits_v = rng.normal(size=(5, 4)).astype(np.float32)
    w_v = rng.normal(size=(4, 4)).astype(np.float32)
    labels = np.eye(4, dtype=np.float32)[[0, 3, 1, 1, 2]]

    def model(logits, w):
        z = fg.matmul(logits, w)
        xent = fg.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=z)
        return fg.reduce_mean(xent)

    with fg.Graph().as_default():
        ph = [fg.placeholder(fg.float32, logits_v.shape), fg.placeholder(fg.float32, w_v.shape)]
        loss = model(*ph)
        fetch = [loss, *fg.gradients(loss, ph)]
        static = fg.Session().run(fetch, dict(zip(ph, [logits_v, w_v])))
    leaves = [fd.tensor(logits_v, requires_grad=True), fd.tensor(w_v, requires_grad=True)]
    with fd.eager():
        loss = model(*leaves)
    loss.backward()
    assert loss.dtype is fd.float32
    np.testing.assert_allclose(loss.item(), static[0], rtol=1e-6)
    for leaf, g in zip(leaves, static[1:]):
        np.testing.assert_allclose(leaf.grad.numpy(), g, rtol=1e-5, atol=1e-7)


def test_convolution_and_pooling_agree():
    # Their gradient rules read the run-time shape of an input (a Shape op's .op.inputs).
    rng = np.random.default_rng(1)
    values = [rng.normal(size=(2, 6, 6, 3)), rng.normal(size=(3, 3, 3, 4))]

    def model(x, w):
        y = fg.nn.conv2d(x, w, strides=[1, 1, 1, 1], padding="SAME")
        y = fg.nn.avg_pool(fg.nn.relu(y), [1, 2, 2, 1], [1, 2, 2, 1], padding="VALID")
        return fg.reduce_sum(fg.square(fg.nn.max_pool(y, [1, 2, 2, 1], [1, 1, 1, 1], "SAME")))

    with fg.Graph().as_default():
        ph = [fg.placeholder(fg.float64, v.shape) for v in values]
        loss = model(*ph)
        static = fg.Session().run([loss, *fg.gradients(loss, ph)], dict(zip(ph, values)))
    leaves = [fd.tensor(v, requires_grad=True) for v in values]
    loss = fd.executing(model, *leaves)
    loss.backward()
    np.testing.assert_allclose(loss.item(), static[0], rtol=1e-12)
    for leaf, g in zip(leaves, static[1:]):
        np.testing.assert_allclose(leaf.grad.numpy(), g, rtol=1e-10, atol=1e-12)
