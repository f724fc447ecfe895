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


# ---- the same search, cheap enough for every eager op ---------------------------------------

#: The flowgraph package's directory: frames under it are the library's, not the user's.
PACKAGE_DIR = _PACKAGE_DIR
_library_code: dict = {}  # code object -> whether it is flowgraph's own (not the user's)


def _is_library(code) -> bool:
    library = _library_code.get(code)
    if library is None:
        filename = code.co_filename
        library = filename.startswith(_PACKAGE_DIR) and not filename.endswith("_test.py")
        if len(_library_code) > 100_000:  # code made on the fly (exec) without end
            _library_code.clear()
        _library_code[code] = library
    return library


def user_frame(skip: int = 1):
    """``(code, line)`` of the innermost frame outside flowgraph, or None: what an eager op
    keeps (:func:`user_site`'s search, made cheap by remembering which code objects are the
    library's), turned into a :class:`CreationSite` by :func:`site_of` only when a message
    needs it."""
    frame = sys._getframe(skip)
    while frame is not None:
        if not _is_library(frame.f_code):
            return frame.f_code, frame.f_lineno
        frame = frame.f_back
    return None


def site_of(frame) -> CreationSite:
    """The :class:`CreationSite` of a :func:`user_frame` result (UNKNOWN_SITE for None)."""
    if frame is None:
        return UNKNOWN_SITE
    code, line = frame
    return CreationSite(code.co_filename, line, code.co_name)
