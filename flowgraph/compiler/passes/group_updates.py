"""Grouping the Adam updates of small variables into one (``ApplyAdamGroup``).

TF1's ``AdamOptimizer.minimize`` builds one ``ApplyAdam`` per variable; each makes 12 ufunc
passes over its variable. For the seed MLP's biases and small layer (10 to 2,560 floats) those
passes cost their call overhead, not their arithmetic: three small updates took ~17 us alone
where one update of their concatenation takes ~11 us. This pass replaces each run of
*consecutive* ``ApplyAdam`` nodes (nothing runs between them, so nothing is reordered) that
share their hyperparameter inputs, dtype, device and ``use_locking``, over variables of a
known shape of at most :data:`GROUP_MAX_ELEMENTS` elements each, by one ``ApplyAdamGroup``
node (``train/adam_group.py``). Larger variables keep their own update: copying their gradient
into a flat buffer would add a 13th pass over memory to save one call.

Only backends whose ufuncs take ``out`` (NumPy, CuPy) group, and never an update the user
fetched by itself. The user's graph is untouched: the grouping exists only in the plan.

>>> import flowgraph as fg
>>> from flowgraph.compiler.passes import optimized
>>> with fg.Graph().as_default():
...     w, b = fg.Variable([1.0, 2.0], name="w"), fg.Variable([0.5], name="b")
...     loss = fg.reduce_sum(w * w) + fg.reduce_sum(b)
...     step = fg.train.AdamOptimizer(0.1).minimize(loss)
>>> ir, results = optimized([step], [], passes=[group_adam_updates])
>>> print(results[0].changes[0])
ApplyAdamGroup 'Adam/update_w/ApplyAdam' updates 2 variables at once: b, w
"""

from __future__ import annotations

from math import prod

from flowgraph.compiler.ir import Node
from flowgraph.ops.registry import get_op_def

GROUP_MAX_ELEMENTS = 65536  # per variable; 256 KiB of float32


def group_adam_updates(ir) -> list[str]:
    """Replace runs of consecutive, compatible small ``ApplyAdam`` nodes by one
    ``ApplyAdamGroup`` each; returns one line per group made."""
    if not any(n.type == "ApplyAdam" for n in ir.nodes):
        return []
    required = set(ir.required)
    nodes, changes, run = [], [], []
    for node in ir.nodes:
        if run and _key(node, required) == _key(run[0], required) and not _reads(node, run):
            run.append(node)
            continue
        _flush(run, nodes, changes)
        run = [node] if _key(node, required) is not None else []
        if not run:
            nodes.append(node)
    _flush(run, nodes, changes)
    if changes:
        replaced = {m: g for g in nodes if g.type == "ApplyAdamGroup" for m in g.attrs["_members"]}
        for node in nodes:
            if any(c in replaced for c in node.control_inputs):
                node.control_inputs = list(
                    dict.fromkeys(replaced.get(c, c) for c in node.control_inputs)
                )
        ir.nodes = nodes
    return changes


def _key(node, required):
    """What nodes must share to be grouped, or None for a node that is not groupable."""
    if node.type != "ApplyAdam" or node in required:
        return None
    backend = node.backend
    if backend is None or not backend.supports_out:
        return None
    grad = node.inputs[-1]
    dtype, shape = grad[0].specs[grad[1]]
    var_shape = node.origin.inputs[0].shape
    if not var_shape.is_fully_defined() or prod(var_shape.as_list()) > GROUP_MAX_ELEMENTS:
        return None
    scalars = tuple(node.inputs[:-1])
    return (id(backend), dtype, scalars, bool(node.attrs.get("use_locking")))


def _reads(node, run) -> bool:
    """Whether ``node`` depends on an update of ``run`` (then it must run after it)."""
    return any(c in run for c in node.control_inputs)


def _flush(run, nodes, changes) -> None:
    if len(run) < 2:
        nodes.extend(run)
        return
    first = run[0]
    control = list(dict.fromkeys(c for n in run for c in n.control_inputs))
    attrs = {
        "var_names": tuple(n.attrs["var_name"] for n in run),
        "slot_names": tuple(tuple(n.attrs["slot_names"]) for n in run),
        "use_locking": bool(first.attrs.get("use_locking")),
        "_members": tuple(run),  # codegen passes only attrs not starting with "_"
    }
    inputs = list(first.inputs[:-1]) + [n.inputs[-1] for n in run]
    group = Node(
        "ApplyAdamGroup",
        get_op_def("ApplyAdamGroup"),
        inputs,
        control,
        attrs,
        (),
        first.origin,
        first.name,
        first.backend,
    )
    nodes.append(group)
    names = ", ".join(sorted(attrs["var_names"]))
    changes.append(
        f"ApplyAdamGroup {first.origin_name!r} updates {len(run)} variables at once: {names}"
    )
