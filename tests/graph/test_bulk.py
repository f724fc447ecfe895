"""The collector pause around bulk graph work: the caller's GC settings are restored, and the
many objects a big block made end in the oldest generation (no young collection rescans them)."""

import gc

import pytest

from flowgraph.graph.bulk import PROMOTE_AFTER, collector_paused


@pytest.fixture
def collector_state():
    """Leave the collector as the test found it, whatever the test does."""
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    (gc.enable if enabled else gc.disable)()


def _make_objects(n):
    return [[i] for i in range(n)]  # one tracked list each


def _in_oldest_generation(obj) -> bool:
    return any(o is obj for o in gc.get_objects(generation=2))


def test_big_block_promotes_what_it_made_and_restores_the_settings(collector_state):
    gc.enable()
    gc.set_threshold(900, 11, 12)
    with collector_paused():
        assert not gc.isenabled()
        kept = _make_objects(PROMOTE_AFTER + 10_000)
    assert gc.isenabled() and gc.get_threshold() == (900, 11, 12)
    # Without the promotion the youngest generation would hold them all (then the next
    # allocation scans them): its count would exceed PROMOTE_AFTER.
    assert gc.get_count()[0] < 1_000
    assert _in_oldest_generation(kept[0]) and _in_oldest_generation(kept[-1])


def test_small_block_leaves_the_young_generation_alone(collector_state):
    gc.enable()
    gc.collect()
    with collector_paused():
        kept = _make_objects(5_000)
    # Young collections free a small block's cycles soon: nothing is moved.
    assert not _in_oldest_generation(kept[-1])


def test_collector_disabled_by_the_caller_stays_disabled(collector_state):
    gc.disable()
    with collector_paused():
        kept = _make_objects(PROMOTE_AFTER + 10_000)
    assert not gc.isenabled()
    assert gc.get_count()[0] > PROMOTE_AFTER  # nothing moved: the caller manages collection
    del kept


def test_objects_the_caller_froze_stay_frozen(collector_state):
    gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            kept = _make_objects(PROMOTE_AFTER + 10_000)
        assert gc.get_freeze_count() == frozen
        del kept
    finally:
        gc.unfreeze()


def test_nested_blocks_resume_collection_once(collector_state):
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
