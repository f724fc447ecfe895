"""ONNX's backend node tests: load them, choose those flowgraph should pass, run one.

The ``onnx`` package's node tests are one-node models with inputs and expected outputs. A
source checkout of onnx keeps them as folders (``onnx/backend/test/data/node/<test>/model.onnx``
and ``test_data_set_*/{input,output}_*.pb``); the wheels ship the scripts that write those
folders instead (``onnx.backend.test.case.node``). :func:`node_tests` reads the folders when
the installed onnx has them and otherwise runs the scripts in memory — the same models and
data either way.

A test is selected when every op of its model is in flowgraph's import table and every tensor
it feeds or expects has a dtype flowgraph has; :data:`KNOWN_GAPS` lists, with the reason, the
tests of imported ops that flowgraph does not pass (attribute values it refuses to import).

>>> tests = {t.name: t for t in node_tests()}
>>> selected, skipped = select(tests.values())
>>> run_node_test(tests["test_relu"])  # raises AssertionError when an output differs
>>> "test_relu" in {t.name for t in selected}
True
"""

from __future__ import annotations

import functools
import glob
import os
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from flowgraph.onnx.backend import FlowgraphBackend
from flowgraph.onnx.import_ops import _DTYPES, IMPORTERS

# Tests of imported ops that flowgraph does not pass, and why (each refused with a clear
# ONNXImportError when imported): filled in from running the whole selection.
KNOWN_GAPS: dict[str, str] = {}


@dataclass
class NodeTest:
    name: str
    model: onnx.ModelProto
    data_sets: list  # [(inputs, expected outputs)], lists of arrays
    rtol: float = 1e-3
    atol: float = 1e-7

    @property
    def op_types(self) -> set[str]:
        return {n.op_type for n in self.model.graph.node}


@functools.cache
def node_tests() -> tuple[NodeTest, ...]:
    """Every node test of the installed onnx package (from its data folders or its scripts)."""
    folder = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "node")
    if os.path.isdir(folder):
        return tuple(_from_folder(d) for d in sorted(glob.glob(os.path.join(folder, "test_*"))))
    from onnx.backend.test.case.node import collect_testcases

    return tuple(
        NodeTest(c.name, c.model, [(list(i), list(o)) for i, o in c.data_sets], c.rtol, c.atol)
        for c in collect_testcases()
    )


def _from_folder(path: str) -> NodeTest:
    model = onnx.load(os.path.join(path, "model.onnx"))
    data_sets = []
    for ds in sorted(glob.glob(os.path.join(path, "test_data_set_*"))):
        def read(kind, ds=ds):
            files = sorted(glob.glob(os.path.join(ds, f"{kind}_*.pb")), key=_index)
            return [numpy_helper.to_array(onnx.load_tensor(f)) for f in files]

        data_sets.append((read("input"), read("output")))
    return NodeTest(os.path.basename(path), model, data_sets)


def _index(path: str) -> int:
    return int(path.rsplit("_", 1)[1].split(".")[0])


def _dtype_ok(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.name in _DTYPES


def why_not_selected(test: NodeTest) -> str | None:
    """Why ``test`` is left out of the selection (None when it is selected)."""
    missing = sorted(test.op_types - set(IMPORTERS))
    if missing:
        return "ops not imported: " + ", ".join(missing)
    if any(n.domain not in ("", "ai.onnx") for n in test.model.graph.node):
        return "an op outside the default ONNX domain"
    for inputs, outputs in test.data_sets:
        if not all(_dtype_ok(v) for v in [*inputs, *outputs]):
            return "a tensor of a dtype flowgraph lacks (or a sequence/optional)"
    return KNOWN_GAPS.get(test.name)


def select(tests) -> tuple[list[NodeTest], dict[str, str]]:
    """(the tests flowgraph must pass, {left-out test name: reason})."""
    selected, left_out = [], {}
    for t in tests:
        reason = why_not_selected(t)
        if reason is None:
            selected.append(t)
        else:
            left_out[t.name] = reason
    return selected, left_out


def run_node_test(test: NodeTest) -> None:
    """Run ``test`` through :class:`FlowgraphBackend`; AssertionError on a wrong output."""
    from onnx.backend.test.runner import Runner

    rep = FlowgraphBackend.prepare(test.model)
    for inputs, expected in test.data_sets:
        outputs = rep.run(inputs)
        Runner.assert_similar_outputs(expected, outputs, test.rtol, test.atol)
