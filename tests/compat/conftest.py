"""tests/compat/programs/ holds TF1 scripts that test_programs.py runs one by one; pytest must
not import them itself (``--doctest-modules`` would run each at collection)."""

collect_ignore = ["programs"]
