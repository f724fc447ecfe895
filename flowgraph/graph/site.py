"""Where in the user's code an op was created: the first stack frame outside flowgraph.

Errors quote this site (``model.py:12 in mnist_model``) so a message points at the user's line,
not at the library's internals.
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class CreationSite(NamedTuple):
    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno} in {self.function}"


UNKNOWN_SITE = CreationSite("<unknown>", 0, "<unknown>")


def user_site(skip: int = 1) -> CreationSite:
    """The innermost frame whose file is not part of the flowgraph package.

    Walks frames with ``sys._getframe`` (cheap; a 100,000-op graph pays it per op).
    """
    frame = sys._getframe(skip)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) or filename.endswith("_test.py"):
            return CreationSite(filename, frame.f_lineno, frame.f_code.co_name)
        frame = frame.f_back
    return UNKNOWN_SITE


def user_stacklevel() -> int:
    """The ``stacklevel`` for a ``warnings.warn`` made by the caller of this function that
    attributes the warning to the innermost frame outside flowgraph (the user's loop line),
    however deep in the library the warning is raised."""
    level, frame = 1, sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_PACKAGE_DIR) or filename.endswith("_test.py"):
            return level
        frame, level = frame.f_back, level + 1
    return 1
