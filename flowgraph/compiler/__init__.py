"""The compiler: from the fetches and feeds of a ``Session.run`` to straight-line Python.

- ``prune.py``: the ops the fetches need given the feeds, in execution order;
- ``ir.py``: those ops as IR nodes that passes rewrite without touching the user's graph;
- ``passes/``: constant folding, arithmetic simplification, common-subexpression elimination
  (rule tables for the one rewrite driver, ``passes/rewrite.py``), dead-code removal and
  memory planning, run by level (``O0``: none; ``O1``: all);
- ``codegen.py``: the IR as one generated Python function (and its traced variant);
- ``table.py``: a plan of more than 10,000 ops as a table of kernel calls run by one loop
  (generating and compiling source for it would take longer than everything else together);
- ``plan.py``: ``compile_plan`` and the ``Plan`` a Session caches per signature;
- ``explain.py``: what the passes did and the code that runs, for ``Session.explain``.
"""
