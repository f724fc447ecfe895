"""The compiler: from the fetches and feeds of a ``Session.run`` to straight-line Python.

- ``prune.py``: the ops the fetches need given the feeds, in execution order;
- ``ir.py``: those ops as IR nodes that passes rewrite without touching the user's graph;
- ``passes/``: constant folding, arithmetic simplification, common-subexpression elimination,
  dead-code removal and memory planning, run by level (``O0``: none; ``O1``: all);
- ``codegen.py``: the IR as one generated Python function (and its traced variant);
- ``plan.py``: ``compile_plan`` and the ``Plan`` a Session caches per signature;
- ``explain.py``: what the passes did and the code that runs, for ``Session.explain``.
"""
