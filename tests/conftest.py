"""Shared fixtures: every test starts from an empty default graph."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import flowgraph


@pytest.fixture(autouse=True)
def _fresh_default_graph() -> None:
    """Reset the process-wide default graph so no test sees another test's ops."""
    flowgraph.reset_default_graph()


@pytest.fixture
def graph() -> Iterator[flowgraph.Graph]:
    """A new, empty Graph, entered as the default graph for the test's duration."""
    g = flowgraph.Graph()
    with g.as_default():
        yield g
