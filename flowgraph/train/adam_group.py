"""One Adam update for several small variables at once (``ApplyAdamGroup``).

The graph keeps TF1's one ``ApplyAdam`` op per variable (what ``minimize`` builds, what
TensorBoard and the Saver see). The compiler pass ``group_adam_updates``
(``compiler/passes/group_updates.py``) replaces a run of consecutive ``ApplyAdam`` nodes over
small variables (same hyperparameters, dtype and device) by one ``ApplyAdamGroup`` node whose
kernel makes the 12 in-place ufunc passes of TF1's update once over the concatenation of all
of them, as an expert's NumPy step or PyTorch's foreach Adam does: for a bias of 10 floats the
cost of an update is the ~1 us of each ufunc call, not the arithmetic.

For that the variables and their ``m`` / ``v`` slots must be views of flat buffers. The kernel
checks by identity, on every call, that the session's store still holds the views it made;
where it does not (first run, an ``Assign`` or ``Saver.restore`` put a new array there), it
copies the current values into new flat buffers and stores views of them in their place. The
variables stay ordinary variables: reads, ``get_slot``, checkpoints and assignments see the
same values as without grouping, and the arithmetic is element for element the one
``ApplyAdam`` does, so results are bit for bit the same (tests/train/test_adam_group.py).

>>> import numpy as np
>>> from flowgraph.backends import get_backend
>>> from flowgraph.runtime.context import RunContext
>>> ctx = RunContext(get_backend("numpy"))
>>> ctx.variables.update({"b": np.zeros(2, np.float32), "b/m": np.zeros(2, np.float32),
...                       "b/v": np.zeros(2, np.float32), "c": np.ones(1, np.float32),
...                       "c/m": np.zeros(1, np.float32), "c/v": np.zeros(1, np.float32)})
>>> f = np.float32
>>> scalars = [f(0.9), f(0.999), f(0.1), f(0.9), f(0.999), f(1e-8)]
>>> grads = [np.array([1.0, -1.0], f), np.array([2.0], f)]
>>> _apply_adam_group(ctx, *scalars, *grads, var_names=("b", "c"),
...                   slot_names=(("b/m", "b/v"), ("c/m", "c/v")))
>>> ctx.variables["b"].round(4), ctx.variables["c"]  # each moved by about lr, against its gradient
(array([-0.1,  0.1], dtype=float32), array([0.9], dtype=float32))
>>> ctx.variables["b"].base is ctx.variables["c"].base  # views of one flat buffer now
True
"""

from __future__ import annotations

import threading
import weakref

from flowgraph.ops.registry import define_op
from flowgraph.train.adam import _apply_adam
from flowgraph.train.training_ops import stored

# Per session context: {var_names: _Flat}. Weak, so a closed session's buffers go with it.
_LAYOUTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LAYOUT_LOCK = threading.Lock()


class _Flat:
    """Flat buffers for a group's variables and slots, and the views the store holds."""

    __slots__ = ("names", "views", "flat", "shapes")

    def __init__(self, xp, names, arrays) -> None:
        self.names = names  # [var, m, v, var, m, v, ...] store names
        self.shapes = [a.shape for a in arrays[::3]]
        sizes = [a.size for a in arrays[::3]]
        total = sum(sizes)
        self.flat = [xp.empty(total, dtype=arrays[0].dtype) for _ in range(3)]  # var, m, v
        self.views = []
        for k, array in enumerate(arrays):
            i, which = divmod(k, 3)
            start = sum(sizes[:i])
            view = self.flat[which][start : start + sizes[i]].reshape(self.shapes[i])
            view[...] = array
            self.views.append(view)

    def held_by(self, store) -> bool:
        """Whether ``store`` (the session's variables) still holds this layout's views."""
        get = store.get
        return all(get(name) is view for name, view in zip(self.names, self.views))


def _current_layout(ctx, var_names, slot_names):
    """The group's flat buffers, with the store's arrays replaced by views of them if they are
    not views already; None where the variables cannot share buffers (dtypes differ)."""
    per_context = _LAYOUTS.get(ctx)
    layout = per_context.get(var_names) if per_context is not None else None
    if layout is not None and layout.held_by(ctx.variables):
        return layout  # the usual case: one identity check per array
    names = []
    for var, (m, v) in zip(var_names, slot_names):
        names += (var, m, v)
    arrays = [stored(ctx, name) for name in names]  # uninitialized: the usual error
    if len({a.dtype for a in arrays}) != 1:
        return None
    with _LAYOUT_LOCK:  # two threads regrouping at once would each keep half the updates
        arrays = [stored(ctx, name) for name in names]
        layout = _Flat(ctx.xp, names, arrays)
        for name, view in zip(names, layout.views):
            ctx.variables[name] = view
        _LAYOUTS.setdefault(ctx, {})[var_names] = layout
    return layout


def _apply_adam_group(
    ctx,
    beta1_power,
    beta2_power,
    lr,
    beta1,
    beta2,
    epsilon,
    *grads,
    var_names,
    slot_names,
    use_locking=False,
):
    if use_locking:
        every = [n for pair in slot_names for n in pair] + list(var_names)
        with ctx.locked(every):
            return _update(
                ctx,
                (beta1_power, beta2_power, lr, beta1, beta2, epsilon),
                grads,
                var_names,
                slot_names,
            )
    return _update(
        ctx, (beta1_power, beta2_power, lr, beta1, beta2, epsilon), grads, var_names, slot_names
    )


def _update(ctx, scalars, grads, var_names, slot_names) -> None:
    layout = _current_layout(ctx, var_names, slot_names)
    if layout is None or any(g.shape != s for g, s in zip(grads, layout.shapes)):
        # A gradient that broadcasts into its variable, or mixed dtypes: one update per
        # variable, exactly as the ungrouped ops would have made them.
        for var, slots, grad in zip(var_names, slot_names, grads):
            _apply_adam(ctx, *scalars, grad, var_name=var, slot_names=slots)
        return
    xp = ctx.xp
    var, m, v = layout.flat
    both = ctx.scratch(_Shape2(var))  # [work, flat gradient], this thread's
    grad = both[1]
    xp.concatenate([g.reshape(-1) for g in grads], out=grad)
    beta1_power, beta2_power, lr, beta1, beta2, epsilon = (a[()] for a in scalars)
    lr_t = lr * xp.sqrt(1 - beta2_power) / (1 - beta1_power)
    work = both[0]
    # TF1's update, the same 12 passes as ApplyAdam's kernel (train/adam.py), over all at once.
    m *= beta1
    xp.multiply(grad, 1 - beta1, out=work)
    m += work
    v *= beta2
    xp.multiply(grad, grad, out=work)
    work *= 1 - beta2
    v += work
    xp.sqrt(v, out=work)
    work += epsilon
    xp.divide(m, work, out=work)
    work *= lr_t
    var -= work


class _Shape2:
    """What ``ctx.scratch`` needs to make a (2, n) work array like ``flat`` (shape, dtype)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, flat) -> None:
        self.shape, self.dtype = (2, flat.size), flat.dtype


def _group_infer(inputs, attrs):
    """No outputs; built only by the compiler from checked ``ApplyAdam`` ops."""
    return []


define_op(
    "ApplyAdamGroup",
    _group_infer,
    kernel=_apply_adam_group,
    attrs={"var_names": (), "slot_names": (), "use_locking": False},
    stateful=True,
    differentiable=False,
    needs_context=True,
    reads_inputs_only=True,  # the gradients and scalars are read, never kept
)
