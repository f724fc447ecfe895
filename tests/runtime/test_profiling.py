"""Traced runs: per-op timings and bytes in RunMetadata, Chrome trace export, no cost untraced."""

import json

import numpy as np
import pytest

import flowgraph as fg
from flowgraph import errors
from flowgraph.runtime.profiling import OpStats, RunMetadata, RunOptions

FULL = RunOptions(trace_level=RunOptions.FULL_TRACE)


def test_a_traced_run_records_each_op_with_its_name_type_line_time_and_bytes(graph):
    x = fg.placeholder(fg.float32, [None, 4], name="x")
    w = fg.Variable(np.ones((4, 2), np.float32), name="w")
    y = fg.nn.relu(fg.matmul(x, w, name="product"), name="act")
    meta = RunMetadata()
    with fg.Session() as sess:
        sess.run(w.initializer)
        out = sess.run(y, {x: np.ones((3, 4))}, options=FULL, run_metadata=meta)
        np.testing.assert_array_equal(out, np.full((3, 2), 4.0))
    names = [(s.name, s.type) for s in meta.step_stats]
    assert names == [("product", "MatMul"), ("act", "Relu")]
    product = meta.step_stats[0]
    assert isinstance(product, OpStats)
    assert product.output_bytes == 3 * 2 * 4
    assert product.site.startswith("test_profiling.py:")
    assert product.duration_ns > 0 and product.start_ns >= 0
    assert meta.step_stats[1].start_ns >= product.start_ns + product.duration_ns
    assert "MatMul 'product'" in meta.summary()


def test_chrome_trace_is_json_with_complete_events_keyed_by_op_names(graph, tmp_path):
    x = fg.placeholder(fg.float64, [3], name="x")
    y = fg.exp(fg.tanh(x, name="t"), name="e")
    meta = RunMetadata()
    with fg.Session() as sess:
        sess.run(y, {x: [1.0, 2.0, 3.0]}, options=FULL, run_metadata=meta)
    trace = json.loads(meta.chrome_trace())
    events = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert [e["name"] for e in events] == ["t", "e"]
    assert events[0]["args"]["type"] == "Tanh"
    assert events[0]["args"]["created at"].startswith("test_profiling.py:")
    assert events[1]["args"]["in place"] is True  # exp wrote into tanh's dying buffer
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in events)
    path = tmp_path / "step.json"
    meta.save_chrome_trace(path)
    assert json.loads(path.read_text())["traceEvents"] == trace["traceEvents"]


def test_the_traced_plan_is_separate_and_the_plain_one_has_no_timing_code(graph):
    x = fg.placeholder(fg.float32, [2], name="x")
    y = fg.tanh(x)
    with fg.Session() as sess:
        sess.run(y, {x: [0, 1]})
        sess.run(y, {x: [0, 1]}, options=FULL, run_metadata=RunMetadata())
        sess.run(y, {x: [0, 1]}, options=FULL, run_metadata=RunMetadata())
        sess.run(y, {x: [0, 1]}, options=RunOptions(), run_metadata=RunMetadata())
        assert sess.compile_count == 2
        plain, traced = sorted(sess._plans.values(), key=lambda p: p.traced)  # LRU order
    assert "_clock" not in plain.source and "_clock" in traced.source
    assert traced.traced and not plain.traced


def test_tracing_without_metadata_and_errors_in_a_traced_run(graph):
    x = fg.placeholder(fg.float32, [None], name="x")
    y = fg.reshape(fg.exp(x, name="e"), [2], name="r")
    meta = RunMetadata()
    with fg.Session() as sess:
        assert sess.run(y, {x: [0, 0]}, options=FULL).tolist() == [1.0, 1.0]
        with pytest.raises(errors.InvalidArgumentError, match="Reshape op 'r' failed"):
            sess.run(y, {x: [0, 0, 0]}, options=FULL, run_metadata=meta)
    assert [s.name for s in meta.step_stats] == ["e"]  # what ran before the failure
