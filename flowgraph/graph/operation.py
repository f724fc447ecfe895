"""Graph operations: nodes of the dataflow graph.

An Operation records what to compute (its ``type``, looked up in the op registry), from what
(``inputs``, ``control_inputs``), with which ``attrs``, on which ``device``, and where the user
created it. It never holds values.
"""

from __future__ import annotations

from flowgraph.graph.site import CreationSite
from flowgraph.graph.tensor import Tensor


class FrozenAttrs(dict):
    """An op's attributes: a dict that refuses changes, since passes, plans and caches rely
    on an op never changing once it is created (build a new op instead).

    >>> attrs = FrozenAttrs({"axis": 1})
    >>> attrs["axis"], dict(attrs, axis=2)["axis"]
    (1, 2)
    >>> attrs["axis"] = 2
    Traceback (most recent call last):
    TypeError: an op's attrs are fixed when it is created; build a new op instead
    """

    __slots__ = ()

    def _refuse(self, *args, **kwargs):
        raise TypeError("an op's attrs are fixed when it is created; build a new op instead")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self):  # pickling (Dask ships ops' attrs) rebuilds it without __setitem__
        return FrozenAttrs, (dict(self),)


class Operation:
    """A node of a :class:`~flowgraph.graph.Graph`.

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     c = fg.constant([1.0, 2.0], name="c")
    ...     y = fg.square(c, name="sq")
    >>> y.op.type, y.op.name, [t.name for t in y.op.inputs]
    ('Square', 'sq', ['c:0'])
    """

    __slots__ = (
        "graph",
        "type",
        "name",
        "inputs",
        "control_inputs",
        "attrs",
        "outputs",
        "device",
        "site",
        "_id",
        "__weakref__",
    )

    def __init__(
        self,
        graph,
        op_type: str,
        name: str,
        inputs: list[Tensor],
        attrs: dict,
        output_specs: list,
        control_inputs: list[Operation],
        device: str,
        site: CreationSite,
        op_id: int,
    ) -> None:
        self.graph = graph
        self.type = op_type
        self.name = name
        self.inputs = tuple(inputs)
        self.control_inputs = list(control_inputs)
        self.attrs = FrozenAttrs(attrs)
        self.device = device
        self.site = site
        self._id = op_id  # creation order within the graph; used for stable ordering
        if len(output_specs) == 1:  # most ops: no generator to run
            self.outputs = (Tensor(self, 0, *output_specs[0]),)
        else:
            self.outputs = tuple(
                [Tensor(self, i, dt, shape) for i, (dt, shape) in enumerate(output_specs)]
            )

    def get_attr(self, name: str):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(
                f"Operation {self.name!r} ({self.type}) has no attr {name!r}"
            ) from None

    def _add_control_input(self, op: Operation) -> None:
        """Make this op run after ``op`` (may create a cycle; the compiler reports it)."""
        if op not in self.control_inputs:
            self.control_inputs.append(op)

    def run(self, feed_dict=None, session=None) -> None:
        """Run this op in ``session`` or the default session (TF1's ``Operation.run``)."""
        from flowgraph.graph.default_stacks import get_default_session

        session = session or get_default_session()
        if session is None:
            raise ValueError(
                f"Cannot run operation {self.name!r}: no default session. Use "
                "`with flowgraph.Session() as sess:` or pass session=."
            )
        session.run(self, feed_dict=feed_dict)

    @property
    def original_op(self):
        """For a gradient op, the forward op it differentiates (TF1's ``_original_op``; its
        site is a ``GradientSite``), else None."""
        return getattr(self.site, "forward_op", None)

    def describe(self) -> str:
        """``MatMul op 'dense/MatMul' (created at model.py:12 in build)``: how every error and
        report names a graph op (a gradient op's site also names its forward op)."""
        return f"{self.type} op {self.name!r} (created at {self.site})"

    def __repr__(self) -> str:
        return f"<flowgraph.Operation '{self.name}' type={self.type}>"
