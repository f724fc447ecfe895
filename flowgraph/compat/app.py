"""TF1's ``tf.app``: ``run`` parses the command-line flags and calls the program's ``main``.

>>> from flowgraph.compat import app
>>> app.flags.DEFINE_integer("app_doctest_steps", 1, "steps")
>>> def main(argv):
...     print(argv, app.flags.FLAGS.app_doctest_steps)
>>> try:
...     app.run(main, argv=["prog.py", "--app_doctest_steps=3", "extra"])
... except SystemExit as e:
...     print("exit status", e.code)
['prog.py', 'extra'] 3
exit status None
"""

from __future__ import annotations

import sys

from flowgraph.compat import flags
from flowgraph.compat.flags import FlagError

__all__ = ["flags", "run"]


def run(main=None, argv=None):
    """Parse flags from ``argv`` (default ``sys.argv``), then ``sys.exit(main(rest))``.

    ``rest`` is the program name followed by every argument that is not a defined flag, as in
    TF1. ``main`` defaults to the ``main`` function of the ``__main__`` module. ``--help``
    prints the flags and exits with status 0; a bad flag value prints the error and exits
    with status 1.
    """
    argv = list(sys.argv if argv is None else argv)
    if "--help" in argv[1:] or "--helpfull" in argv[1:] or "-h" in argv[1:]:
        print(f"usage: {argv[0] if argv else 'program'} [flags]\n{flags.FLAGS.help_text()}")
        sys.exit(0)
    try:
        rest = flags.FLAGS(argv, known_only=True)
    except FlagError as e:
        print(f"FATAL Flags parsing error: {e}", file=sys.stderr)
        sys.exit(1)
    if main is None:
        main = getattr(sys.modules["__main__"], "main", None)
        if main is None:
            raise ValueError("tf.app.run: no main= was given and __main__ defines no main()")
    sys.exit(main(rest))
