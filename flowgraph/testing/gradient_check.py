"""A numeric gradient checker, like ``torch.autograd.gradcheck``, for graph-mode gradients.

It compares the symbolic gradient (``gradients``) with central differences along random
directions, in float64: for a random output weighting ``w`` and input direction ``v``,

    (f(x + eps*v) - f(x - eps*v)) / (2*eps)   ~=   sum(dx * v),   f(x) = sum(w * y(x)).

>>> import numpy as np
>>> import flowgraph as fg
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float64, [3], name="x")
...     y = fg.tanh(x) * x
...     result = check_gradients(y, [x], {x: np.array([0.1, -0.5, 2.0])})
>>> result.ok
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flowgraph.autodiff import GradientCheckError
from flowgraph.autodiff.gradients import gradients
from flowgraph.graph import dtypes
from flowgraph.ops.state import placeholder
from flowgraph.runtime.session import Session


@dataclass
class GradientCheckResult:
    ok: bool
    max_error: float
    details: list = field(default_factory=list)  # (direction, numeric, symbolic) per check


def check_gradients(
    ys,
    xs,
    feed_dict,
    *,
    directions: int = 3,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
    seed: int = 0,
    raise_on_failure: bool = True,
) -> GradientCheckResult:
    """Check ``gradients(ys, xs)`` numerically at the point given by ``feed_dict``.

    ``xs`` must be float64 tensors fed in ``feed_dict`` (placeholders or any feedable tensor).
    Raises GradientCheckError (or returns ``ok=False`` with ``raise_on_failure=False``) naming
    the worst disagreement.
    """
    ys = list(ys) if isinstance(ys, (list, tuple)) else [ys]
    xs = list(xs)
    for x in xs:
        if x.dtype is not dtypes.float64:
            raise TypeError(f"check_gradients needs float64 inputs; {x.name!r} is {x.dtype.name}")
        if x not in feed_dict:
            raise ValueError(f"check_gradients: give a value for {x.name!r} in feed_dict")
    graph = ys[0].graph
    rng = np.random.default_rng(seed)
    sess = Session(graph=graph)
    base = {k: np.asarray(v, dtype=np.float64) if k in xs else v for k, v in feed_dict.items()}
    y_values = sess.run(ys, base)
    weights = [rng.standard_normal(np.shape(v)) for v in y_values]
    with graph.as_default():
        w_holders = [placeholder(y.dtype, np.shape(v)) for y, v in zip(ys, y_values)]
        symbolic = gradients(ys, xs, grad_ys=w_holders, unconnected_gradients="zero")
    feeds = {**base, **dict(zip(w_holders, weights))}
    grad_values = sess.run(symbolic, feeds)

    def objective(shifted):
        values = sess.run(ys, {**feeds, **shifted})
        return sum(float(np.sum(w * v)) for w, v in zip(weights, values))

    details, worst, ok = [], 0.0, True
    for k in range(directions):
        vs = [rng.standard_normal(np.shape(base[x])) for x in xs]
        plus = {x: base[x] + eps * v for x, v in zip(xs, vs)}
        minus = {x: base[x] - eps * v for x, v in zip(xs, vs)}
        numeric = (objective(plus) - objective(minus)) / (2 * eps)
        analytic = sum(float(np.sum(g * v)) for g, v in zip(grad_values, vs))
        error = abs(numeric - analytic)
        worst = max(worst, error)
        details.append((k, numeric, analytic))
        if error > atol + rtol * abs(analytic):
            ok = False
    sess.close()
    result = GradientCheckResult(ok, worst, details)
    if not ok and raise_on_failure:
        lines = "\n".join(
            f"  direction {k}: numeric {n:.8g}, symbolic {a:.8g}" for k, n, a in details
        )
        names = ", ".join(y.op.type for y in ys)
        raise GradientCheckError(
            f"gradient check failed for {names} (max error {worst:.3g}):\n{lines}"
        )
    return result
