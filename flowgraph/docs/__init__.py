"""The documentation site, built from the code: ``python -m flowgraph.docs build``.

The guides live in docs/ (MyST notebooks whose code runs at build time); the API reference
(:mod:`flowgraph.docs.api`) and the op catalog (:mod:`flowgraph.docs.catalog`) are generated
from the code at every build, so they cannot drift from it. Needs the ``docs`` extra
(``pip install -e ".[docs]"``); ``import flowgraph`` never imports this package.
"""
