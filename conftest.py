"""Collection rules for the whole repository (tests/conftest.py has the shared fixtures).

flowgraph/onnx is an optional layer (the ``flowgraph[onnx]`` extra): its modules import
``onnx``, so their doctests are collected only where it is installed — as tests/onnx skips
itself with ``pytest.importorskip``.
"""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("onnx") else ["flowgraph/onnx/*"]
