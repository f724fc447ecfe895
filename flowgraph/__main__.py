"""``python -m flowgraph``: the ``flowgraph`` command (see :mod:`flowgraph.cli`)."""

from flowgraph.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
