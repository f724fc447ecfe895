"""The op catalog agrees with the op registry: one entry and one page per registered op type,
each saying what the registry says."""

from __future__ import annotations

import pytest

pytest.importorskip("sphinx", reason="the docs extra (in the test extra) provides Sphinx")

from flowgraph.docs import catalogpages  # noqa: E402
from flowgraph.docs.build import REPO  # noqa: E402
from flowgraph.docs.catalog import load_all_ops, op_entries  # noqa: E402
from flowgraph.ops import registry  # noqa: E402


@pytest.fixture(scope="module")
def entries():
    return {e.type: e for e in op_entries()}


def test_one_entry_per_registered_op_type(entries):
    load_all_ops()
    assert sorted(entries) == registry.registered_op_types()


def test_entries_say_what_the_registry_says(entries):
    for op_type, e in entries.items():
        op_def = registry.get_op_def(op_type)
        assert e.stateful == op_def.stateful, op_type
        assert sorted(e.attrs) == sorted(op_def.attrs), op_type
        has_rule = registry._GRADIENTS.get(op_type) is not None
        assert e.differentiable == (op_def.differentiable and has_rule), op_type
        assert e.defined_at is not None, f"no definition site found for {op_type}"
        lines = (REPO / e.defined_at.path).read_text().splitlines()
        span = "\n".join(lines[e.defined_at.start - 1 : e.defined_at.end])
        assert f'"{op_type}"' in span, (op_type, e.defined_at)


def test_known_entries(entries):
    matmul = entries["MatMul"]
    assert matmul.functions == ["flowgraph.matmul"]
    assert matmul.tf1_names == ["tf.matmul"]
    assert matmul.attrs == {"transpose_a": "False", "transpose_b": "False"}
    assert matmul.defined_at.path == "flowgraph/ops/linalg.py"
    assert entries["Tanh"].kernel == "xp.tanh"
    variable = entries["VariableV2"]
    assert variable.stateful and "flowgraph.Variable" in variable.functions
    assert not entries["ArgMax"].differentiable
    assert "MaxPool" in entries["MaxPoolGrad"].made_by_gradients_of
    assert entries["Placeholder"].kernel.startswith("none")


def test_a_page_per_op_type(tmp_path, entries):
    pages = catalogpages.write(tmp_path / "ops", REPO)
    assert sorted(p.stem for p in pages if p.stem != "index") == sorted(entries)
    index = (tmp_path / "ops" / "index.rst").read_text()
    assert all(f":doc:`{t}`" in index for t in entries)


def test_recorded_kernel_coverage_is_reported_as_recorded(tmp_path, entries):
    record = {
        "backends": {"numpy": {"ops": ["MatMul"], "recorded": "then", "commit": "abc1234"}},
        "dtypes": {"MatMul": ["in:float32", "out:float32"]},
    }
    folder = tmp_path / ".pytest_cache" / "v" / "flowgraph"
    folder.mkdir(parents=True)
    (folder / "op_coverage").write_text(__import__("json").dumps(record))
    assert catalogpages.coverage_record(tmp_path) == record
    assert catalogpages.ran_on(entries["MatMul"], record) == ["numpy"]
    assert catalogpages.ran_on(entries["Tanh"], record) == []
    page = catalogpages._page(entries["MatMul"], record, REPO)
    assert "inputs: float32; outputs: float32" in page and "numpy" in page
    assert "not recorded" in catalogpages._page(entries["MatMul"], {}, REPO)
