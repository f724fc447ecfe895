"""Pausing Python's cyclic garbage collector while many graph objects are created at once.

Each collection of the oldest generation scans every live object; a 100,000-op graph holds
millions of them, and building its gradient triggers many collections, which made the build
grow faster than linearly (measured: 100k-op gradients 7.4 s with the collector running, 2.9 s
paused, and linear in the op count when paused). The objects made here are kept by the graph
(or the plan), so pausing frees nothing late; collection resumes on exit.

Resuming alone is not enough: the millions of objects made while paused are all still in the
youngest generation, and the first collection after the block scans every one of them (0.46 s
after compiling a 300,000-op plan), then the next generation's collection scans them again.
They are known to be long-lived, so on leaving the block they are moved straight into the
oldest generation (``gc.freeze()`` then ``gc.unfreeze()``: two list splices, no scan), as
objects that survived the young collections would be. Full collections still happen when
Python's own rule calls for them. Only a block that made many objects (a big graph's gradient,
a big plan) does this: after a small one the young collections are cheap, and they are what
frees the cycles of a discarded graph soon. A program that froze objects itself
(``gc.freeze()``, e.g. before forking workers) keeps them frozen: then nothing is moved.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager

#: Objects a paused block must have made (net) for them to be promoted when it ends.
PROMOTE_AFTER = 100_000


@contextmanager
def collector_paused():
    """Pause the cyclic GC for the block (nestable; restores the previous state), then move
    what a big block made into the oldest generation (see above).

    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_count()[0] > PROMOTE_AFTER:
                promote_young_objects()
            gc.enable()


def promote_young_objects() -> None:
    """Move every object of the young generations into the oldest one without scanning them
    (nothing happens if the program has frozen objects of its own: unfreezing would release
    them too)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
