"""Every op test runs on each backend of ``--backends`` (see tests/conftest.py)."""

import pytest


@pytest.fixture(autouse=True)
def _on_each_backend(backend):
    """Sessions created by the test run on ``backend``."""
    return backend
