"""Where in the user's code an op was created: the first stack frame outside flowgraph.

Errors quote this site (``model.py:12 in mnist_model``) so a message points at the user's line,
not at the library's internals.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import NamedTuple

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class CreationSite(NamedTuple):
    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno} in {self.function}"


def in_package(filename: str) -> bool:
    """Whether code from ``filename`` is flowgraph's own (not the user's)."""
    return filename.startswith(_PACKAGE_DIR) and not filename.endswith("_test.py")


UNKNOWN_SITE = CreationSite("<unknown>", 0, "<unknown>")


class GradientSite(CreationSite):
    """Where a gradient op was created -- the user's ``gradients`` (or ``minimize``) line --
    and ``forward_op``, the op it differentiates (TF1's ``_original_op``). ``str`` names both,
    so every message that quotes an op's site says which forward op a failing gradient op
    belongs to:

    >>> import flowgraph as fg
    >>> with fg.Graph().as_default():
    ...     x = fg.placeholder(fg.float64, [2], name="x")
    ...     y = fg.log(x, name="log_x")
    ...     (dx,) = fg.gradients(y, [x])
    >>> print(dx.op.site)  # doctest: +ELLIPSIS
    <doctest ...>:4 in <module> (gradient of Log 'log_x' created at <doctest ...>:3 in <module>)
    >>> dx.op.original_op.name
    'log_x'
    """

    # No __slots__: the tuple subclass gets a __dict__ to hold ``forward_op``.
    def __new__(cls, site: CreationSite, forward_op) -> GradientSite:
        self = super().__new__(cls, *site)
        self.forward_op = forward_op
        return self

    def __str__(self) -> str:
        op = self.forward_op
        return f"{CreationSite.__str__(self)} ({gradient_of(op)})"

    def __eq__(self, other) -> bool:
        return tuple.__eq__(self, other) and self.forward_op is getattr(other, "forward_op", None)

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((tuple(self), id(self.forward_op)))

    def __reduce__(self):  # pickled (a Dask worker's copy) as the plain site
        return CreationSite, tuple(self)


def gradient_of(op) -> str:
    """``gradient of Log 'log_x' created at model.py:4 in <module>``."""
    return f"gradient of {op.type} {op.name!r} created at {op.site}"


class _Pinned(threading.local):
    site = None  # returned by user_site as it is (gradients of built-in rules)
    forward_op = None  # wraps what user_site finds (gradients made by a user's rule)


_pinned = _Pinned()


class gradient_sites:  # noqa: N801 - used as a function: ``with gradient_sites(op, site):``
    """Ops created inside are gradient ops of ``forward_op``: their site is a GradientSite of
    ``site`` (found once by the caller: the walk up the stack is then skipped for each op,
    which matters on a 100,000-op graph) or, without ``site``, of the user's frame as usual.
    (A class, not a generator: entered once per forward op of a gradient.)"""

    __slots__ = ("forward_op", "site", "saved")

    def __init__(self, forward_op, site: CreationSite | None = None) -> None:
        self.forward_op = forward_op
        self.site = GradientSite(site, forward_op) if site is not None else None

    def __enter__(self) -> None:
        self.saved = _pinned.site, _pinned.forward_op
        _pinned.site, _pinned.forward_op = self.site, self.forward_op

    def __exit__(self, *exc) -> None:
        _pinned.site, _pinned.forward_op = self.saved


def user_site(skip: int = 1) -> CreationSite:
    """The innermost frame whose file is not part of the flowgraph package (inside
    :func:`gradient_sites`, a GradientSite).

    Walks frames with ``sys._getframe`` (cheap; a 100,000-op graph pays it per op).
    """
    pinned = _pinned.site
    if pinned is not None:
        return pinned
    frame = sys._getframe(skip)
    while frame is not None:
        code = frame.f_code
        if not _is_library(code):
            key = (code, frame.f_lineno)
            site = _sites.get(key)
            if site is None:  # (a loop building 100,000 ops shares one site per line)
                if len(_sites) > 100_000:  # code made on the fly (exec) without end
                    _sites.clear()
                site = _sites[key] = CreationSite(code.co_filename, key[1], code.co_name)
            forward_op = _pinned.forward_op
            return site if forward_op is None else GradientSite(site, forward_op)
        frame = frame.f_back
    return UNKNOWN_SITE


_sites: dict = {}  # (code, line) -> its CreationSite (immutable, so shared)


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
