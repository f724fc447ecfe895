"""Every public name of the documented namespaces has a docstring, and every alias points to a
name that is documented in full (flowgraph/docs/api.py decides which is which)."""

from __future__ import annotations

import pytest

pytest.importorskip("sphinx", reason="the docs extra (in the test extra) provides Sphinx")

from flowgraph.docs.api import NAMESPACES, reference  # noqa: E402


@pytest.fixture(scope="module")
def ref():
    return reference()


def test_every_public_name_has_a_docstring(ref):
    missing = ref.missing_docstrings()
    assert not missing, (
        f"{len(missing)} public name(s) have no docstring of their own (write one where each "
        "is defined; data gets a '#:' comment above its assignment):\n  " + "\n  ".join(missing)
    )


def test_the_documented_namespaces_are_the_ones_the_issue_names(ref):
    for required in (
        "flowgraph",
        "flowgraph.dynamic",
        "flowgraph.compat.v1",
        "flowgraph.train",
        "flowgraph.viz",
        "flowgraph.distributed",
    ):
        assert ref.entries[required], f"{required} has no public names"


def test_aliases_point_to_a_name_documented_in_full(ref):
    homes = {e.qualified for entries in ref.entries.values() for e in entries if not e.is_alias}
    dangling = [
        f"{e.qualified} -> {e.home}"
        for entries in ref.entries.values()
        for e in entries
        if e.is_alias and e.home not in homes
    ]
    assert not dangling, "aliases whose target is not documented: " + ", ".join(dangling)


def test_tf1_names_are_aliases_of_flowgraph_names(ref):
    compat = {e.name: e for e in ref.entries["flowgraph.compat.v1"]}
    assert compat["matmul"].home == "flowgraph.matmul"
    assert compat["Session"].home == "flowgraph.Session"
    assert compat["float32"].home == "flowgraph.float32"
    # and the object's own name is the home within one namespace
    names = {e.name: e for e in ref.entries["flowgraph"]}
    assert names["mod"].home == "flowgraph.floormod"
    assert not names["floormod"].is_alias


def test_a_name_without_a_docstring_is_reported(monkeypatch, ref):
    import flowgraph

    def undocumented(x):
        return x

    monkeypatch.setattr(flowgraph, "brand_new_op", undocumented, raising=False)
    fresh = reference()
    assert "flowgraph.brand_new_op" in fresh.missing_docstrings()
    assert [n for n, _ in NAMESPACES][0] == "flowgraph"
