"""An ONNX backend (``onnx.backend.base.Backend``) running models with flowgraph.

:class:`FlowgraphBackend` imports a model with :func:`flowgraph.onnx.import_model` and runs it
in a flowgraph Session; this is what ONNX's backend tests call (``prepare`` then ``run``).

>>> import numpy as np
>>> from onnx import helper, TensorProto
>>> node = helper.make_node("Add", ["a", "b"], ["c"])
>>> info = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [2]) for n in "abc"]
>>> model = helper.make_model(helper.make_graph([node], "g", info[:2], info[2:]))
>>> FlowgraphBackend.run_model(model, [np.ones(2, np.float32), np.ones(2, np.float32)])
[array([2., 2.], dtype=float32)]
"""

from __future__ import annotations

import numpy as np
from onnx.backend.base import Backend, BackendRep

import flowgraph as fg
from flowgraph.onnx.import_ops import StaticInputNeeded
from flowgraph.onnx.importer import import_model


class FlowgraphRep(BackendRep):
    """A prepared model. When the model feeds a value flowgraph needs at build time (a shape,
    axes, slice bounds) as a graph input, the graph is built per distinct value of those
    inputs, at the first run that feeds it — like ``flowgraph.function`` traces once per
    input signature — and each build keeps its Session (and compiled plan)."""

    def __init__(self, model, **kwargs) -> None:
        self.model, self.kwargs = model, kwargs
        self.input_names = [
            vi.name for vi in model.graph.input
            if vi.name not in {t.name for t in model.graph.initializer}
        ]  # fmt: skip
        self.static_names: list[str] = []
        self._built: dict = {}
        try:
            self._build({})
        except StaticInputNeeded as e:
            self.static_names.append(e.name)

    def _build(self, bind: dict):
        key = tuple((k, v.dtype.str, v.shape, v.tobytes()) for k, v in sorted(bind.items()))
        if key not in self._built:
            imported = import_model(self.model, bind=bind, **self.kwargs)
            session = fg.Session(graph=imported.graph)
            if imported.initializer is not None:
                session.run(imported.initializer)
            self._built[key] = (imported, session)
        return self._built[key]

    def run(self, inputs, **kwargs) -> list:
        """The model's outputs for ``inputs`` (a list in the model's input order, or a dict by
        input name), as NumPy arrays."""
        if not isinstance(inputs, dict):
            inputs = [inputs] if isinstance(inputs, np.ndarray) else list(inputs)
            inputs = dict(zip(self.input_names, inputs))
        while True:
            bind = {k: np.asarray(inputs[k]) for k in self.static_names}
            try:
                imported, session = self._build(bind)
                break
            except StaticInputNeeded as e:
                if e.name in self.static_names or e.name not in inputs:
                    raise
                self.static_names.append(e.name)
        feed = {imported.by_name[k]: v for k, v in inputs.items() if k not in bind}
        return [np.asarray(v) for v in session.run(imported.outputs, feed)]


class FlowgraphBackend(Backend):
    """ONNX's backend interface on flowgraph (CPU: NumPy)."""

    @classmethod
    def prepare(cls, model, device: str = "CPU", **kwargs) -> FlowgraphRep:
        """Check ``model`` and get it ready to run (``kwargs`` go to import_model)."""
        super().prepare(model, device, **kwargs)  # checks the model
        return FlowgraphRep(model, **kwargs)

    @classmethod
    def run_model(cls, model, inputs, device: str = "CPU", **kwargs) -> list:
        """Prepare ``model`` and run it once on ``inputs``."""
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def supports_device(cls, device: str) -> bool:
        """Only the CPU (flowgraph's NumPy backend)."""
        return device.upper().startswith("CPU")


prepare = FlowgraphBackend.prepare
run_model = FlowgraphBackend.run_model
supports_device = FlowgraphBackend.supports_device
