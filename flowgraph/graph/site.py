"""Where in the user's code an op was created (``model.py:12 in mnist_model``).

Errors quote this site so a message points at the user's line, not at the library's
internals. Finding it (the first stack frame outside flowgraph) is
:func:`flowgraph.ops.execution.user_site`'s job.
"""

from __future__ import annotations

import os
from typing import NamedTuple


class CreationSite(NamedTuple):
    """A file, line and function of the user's code; ``str()`` gives ``model.py:12 in f``."""

    filename: str
    lineno: int
    function: str

    def __str__(self) -> str:
        return f"{os.path.basename(self.filename)}:{self.lineno} in {self.function}"


UNKNOWN_SITE = CreationSite("<unknown>", 0, "<unknown>")
