"""Plans release what they registered when dropped; a session's plan cache is bounded."""

from __future__ import annotations

import gc
import linecache
import tracemalloc

import numpy as np
import pytest

import flowgraph as fg
from flowgraph.compiler.plan_cache import MAX_PLANS, PlanCache


def _plan_entries() -> int:
    return sum(1 for name in linecache.cache if str(name).startswith("<flowgraph plan"))


def test_two_thousand_sessions_leave_no_linecache_entries_and_no_memory_behind():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [3], name="x")
        y = fg.tanh(x * 2.0, name="y")
        feed = {x: np.ones(3, np.float32)}

        def sessions(n):
            for _ in range(n):
                with fg.Session(level="O0") as sess:  # (no passes: faster, same codegen)
                    sess.run(y, feed)

        sessions(50)  # warm: caches of sites, ufunc checks, the graph's own
        gc.collect()
        entries = _plan_entries()
        tracemalloc.start()
        try:
            sessions(50)
            gc.collect()
            before = tracemalloc.take_snapshot()
            sessions(2000)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    assert _plan_entries() == entries
    # A leak keeps blocks per plan (before: the source lines, the file name... about 13.5 KB
    # a plan). A hash table of CPython's own (interned strings) may be resized meanwhile:
    # one big new block, whose old one was not traced; it is no leak of ours.
    stats = [s for s in after.compare_to(before, "traceback") if s.count_diff > 1]
    blocks = sum(s.count_diff for s in stats)
    grown = sum(s.size_diff for s in stats)
    assert blocks < 1000 and grown < 200_000, f"{blocks} blocks, {grown} bytes kept"


def test_a_dropped_plan_releases_its_source_at_once():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [3], name="x")
        sess = fg.Session()
        sess.run(x * 2.0, {x: [1, 2, 3]})
        (plan,) = sess._plans.values()
        name = plan.code.filename
        assert linecache.getline(name, 2).strip().startswith("Mul = ")
        del plan
        sess.close()
        assert name not in linecache.cache


def test_the_session_plan_cache_is_bounded_and_least_recently_used_goes_first():
    with fg.Graph().as_default():
        x = fg.placeholder(fg.float32, [], name="x")
        ys = [x * float(k) for k in range(6)]
        with fg.Session(config={"plan_cache_size": 3}) as sess:
            for y in ys[:3]:
                sess.run(y, {x: 1.0})
            sess.run(ys[0], {x: 1.0})  # now the most recent: ys[1] goes first
            assert sess.compile_count == 3
            entries = _plan_entries()
            for y in ys[3:]:
                assert sess.run(y, {x: 2.0}) == 2.0 * ys.index(y)
            assert len(sess._plans) == 3 and sess.compile_count == 6
            gc.collect()
            assert _plan_entries() == entries  # evicted plans took their source with them
            assert sess.run(ys[5], {x: 1.0}) == 5.0 and sess.compile_count == 6
            assert sess.run(ys[1], {x: 1.0}) == 1.0 and sess.compile_count == 7


def test_default_bound_and_bad_sizes():
    with fg.Graph().as_default():
        assert fg.Session()._plans.maxsize == MAX_PLANS == 256
    with pytest.raises(ValueError, match="at least 1 plan"):
        PlanCache(0)
