# The programs here are plain scripts run by tests/dynamic/test_programs.py, not test modules:
# importing them (as --doctest-modules would) would train their models at collection time.
collect_ignore_glob = ["*.py"]
