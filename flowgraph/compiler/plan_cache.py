"""A bounded cache of compiled plans, least recently used dropped first.

A Session compiles each distinct (fetches, feeds) signature once; a program that makes many
signatures (a new fetch list per step, say) must not keep every plan forever. Each plan holds
its generated code, bound kernels and constants, and its source in ``linecache``; a dropped
plan releases all of them (see ``compiler/codegen.py``).

>>> cache = PlanCache(maxsize=2)
>>> for key in "abca":
...     _ = cache.get_or_compile(key, lambda: key.upper())
>>> list(cache.keys()), cache.compiled
(['c', 'a'], 4)
"""

from __future__ import annotations

import threading
from collections import OrderedDict

MAX_PLANS = 256  # plans a Session keeps; its compile_count shows when it recompiles


class PlanCache:
    """At most ``maxsize`` plans by key; a hit makes a plan the most recently used.

    Lookups take no lock (one dict read and a move, atomic in CPython); compiling does, so two
    threads asking for the same new signature compile it once.
    """

    def __init__(self, maxsize: int = MAX_PLANS) -> None:
        if maxsize < 1:
            raise ValueError(f"A plan cache holds at least 1 plan, got maxsize={maxsize}")
        self.maxsize = maxsize
        self.compiled = 0  # how many plans were compiled (evicted ones may come back)
        self._plans: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        plan = self._plans.get(key)
        if plan is not None:
            try:
                self._plans.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile: still fine to use
                pass
        return plan

    def get_or_compile(self, key, compile_plan):
        """The plan under ``key``, made by ``compile_plan()`` (once) if it is not cached."""
        plan = self.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key)
                if plan is None:
                    plan = compile_plan()
                    self._plans[key] = plan
                    self.compiled += 1
                    while len(self._plans) > self.maxsize:
                        self._plans.popitem(last=False)
        return plan

    def keys(self):
        return self._plans.keys()

    def values(self):
        return self._plans.values()

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)
