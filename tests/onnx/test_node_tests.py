"""ONNX's own backend node tests, run through flowgraph's backend adapter.

Every node test whose ops are all in flowgraph's import table (and whose tensors have dtypes
flowgraph has) must pass, except the few in ``KNOWN_GAPS``, each with its reason — and those
must still fail, so the list cannot go stale. The generated tests are kept in pytest's cache
(``.pytest_cache``), so only the first run pays the ~10 s onnx needs to write them.
"""

from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx")

from flowgraph.onnx import node_tests as nt  # noqa: E402


def _tests(config):
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider
    folder = None if cache is None else str(cache.mkdir("flowgraph-onnx-node-tests"))
    return nt.node_tests(folder)


def pytest_generate_tests(metafunc):
    if "node_test" in metafunc.fixturenames:
        selected, _ = nt.select(_tests(metafunc.config))
        metafunc.parametrize("node_test", selected, ids=[t.name for t in selected])
    if "gap_test" in metafunc.fixturenames:
        gaps = [t for t in _tests(metafunc.config) if t.name in nt.KNOWN_GAPS]
        metafunc.parametrize("gap_test", gaps, ids=[t.name for t in gaps])


def test_node_test_passes(node_test):
    nt.run_node_test(node_test)


def test_known_gap_still_fails(gap_test):
    with pytest.raises(Exception):  # noqa: B017 - any failure: an import refusal or a wrong value
        nt.run_node_test(gap_test)


def test_selection_is_deliberate(request):
    tests = _tests(request.config)
    selected, left_out = nt.select(tests)
    assert len(tests) > 1000, "onnx's node tests were not all found"
    assert len(selected) >= 740
    assert set(nt.KNOWN_GAPS) <= set(left_out), "a known gap names a test that does not exist"
    reasons = {t.name: nt.why_not_selected(t) for t in tests}
    assert reasons["test_relu"] is None
    assert reasons["test_einsum_sum"].startswith("ops not imported: Einsum")
    assert reasons["test_maxpool_2d_ceil"] is None  # ceil_mode: extra end padding
    assert reasons["test_maxpool_2d_dilations"].startswith("pooling with dilations")


def test_coverage_report_counts_what_it_ran(request, capsys):
    from flowgraph.onnx import coverage

    tests = {t.name: t for t in _tests(request.config)}
    chosen = [tests[n] for n in ("test_relu", "test_add", "test_einsum_sum", "test_edge_pad")]
    report = coverage.coverage(tests=chosen)
    assert (report.total_tests, report.selected, report.passed) == (4, 2, 2)
    assert report.left_out == {"ops not imported": 1, nt.KNOWN_GAPS["test_edge_pad"]: 1}
    assert "Relu" in report.supported and "Einsum" in report.unsupported
    text = coverage.format_report(report, list_ops=True)
    assert "node tests: 2 passed of 2 selected (4 in all)" in text
    assert "not supported: " in text and "Einsum" in text.split("not supported: ")[1]
