"""ONNX: export a trained graph for other engines, and import ONNX models as graphs.

An extra: ``pip install "flowgraph[onnx]"`` (``onnx`` and ``onnxruntime``). ``import
flowgraph`` never imports this package, so flowgraph works without ONNX installed.

- :func:`export` writes the pruned inference subgraph of a graph as an ``onnx.ModelProto``,
  with the variables' current values (from a Session) frozen into initializers;
- :func:`import_model` builds a flowgraph Graph from an ONNX model, which runs in a Session,
  draws with :func:`flowgraph.viz.draw` and differentiates with :func:`flowgraph.gradients`;
- :class:`flowgraph.onnx.backend.FlowgraphBackend` runs ONNX's own backend node tests;
  ``python -m flowgraph.onnx.coverage`` reports which ONNX ops import and how many of the
  node tests pass.

>>> import numpy as np, flowgraph as fg, flowgraph.onnx
>>> with fg.Graph().as_default():
...     x = fg.placeholder(fg.float32, [None, 2], name="x")
...     y = fg.nn.relu(fg.matmul(x, fg.constant([[1.0], [-1.0]])), name="y")
...     model = flowgraph.onnx.export([y], [x])
>>> [n.op_type for n in model.graph.node]
['MatMul', 'Relu']
>>> g = flowgraph.onnx.import_model(model)
>>> fg.Session(graph=g.graph).run(g.outputs[0], {g.inputs[0]: [[3.0, 1.0]]})
array([[2.]], dtype=float32)
"""

try:
    import onnx  # noqa: F401 - the extra's presence is checked here, once
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "flowgraph.onnx needs the 'onnx' package: pip install \"flowgraph[onnx]\""
    ) from e

from flowgraph.onnx.errors import ONNXExportError, ONNXImportError
from flowgraph.onnx.exporter import DEFAULT_OPSET, export
from flowgraph.onnx.importer import ImportedModel, import_model

__all__ = [
    "DEFAULT_OPSET",
    "ImportedModel",
    "ONNXExportError",
    "ONNXImportError",
    "export",
    "import_model",
]
