"""Keeping Python's cycle collector off a large graph's objects.

A load, a snapshot reload, a question over a whole taxonomy and a big view each make tens
of thousands to millions of small objects that form no reference cycles. With the collector
on, the collections their allocations trigger go over those objects (and over whatever else
is alive) again and again, for nothing: a third to a half of the time. Counting references
still frees garbage as usual while it is paused.

Objects a store keeps for as long as it lives are frozen out of the collector's sight
(``gc.freeze``), at once after a load or reload, and as questions add more (relationships
built from their packed facts, the name index): see :func:`kept`.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["FREEZE_EVERY", "collector_paused", "keep_out_of_collections", "kept"]

FREEZE_EVERY = 10_000
"""Long-lived objects made after a graph was settled, up to which the collector may go over
them; at this many :func:`kept` freezes what is alive."""

_kept = 0
_kept_lock = threading.Lock()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cycle collector for a block (``with collector_paused():``) or a function
    (``@collector_paused()``); nested pauses leave it as the outermost found it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def kept(count: int = 1) -> None:
    """Note that ``count`` objects were made that a store keeps as long as it lives (a
    relationship built from its packed facts, the name index). Once ``FREEZE_EVERY`` have
    been noted, garbage is collected and what is alive is frozen (``gc.freeze``).

    Without this, a long-running server builds the relationships its questions read one by
    one, and every full collection goes over all of them again: 250 ms at L once 170k are
    built, landing on whichever question allocates at that moment. The collection before
    the freeze is cheap, since what was alive at the freeze before is out of its sight, and
    it leaves no garbage to freeze. Frozen objects are still freed by reference counting;
    only a reference cycle alive at a freeze that becomes garbage later is never collected.
    While the collector is paused (a load), nothing is collected or frozen: the next note
    after the pause does both.
    """
    global _kept
    with _kept_lock:
        _kept += count
        if _kept < FREEZE_EVERY or not gc.isenabled():
            return
        _kept = 0
    gc.collect()
    gc.freeze()


def keep_out_of_collections() -> None:
    """Move every object alive now (the modules, the app, above all a graph just opened or
    loaded) out of the cycle collector's reach, as a server does when it opens its store:
    they live as long as the process or the store, and a full collection over them (at M
    some 450,000 objects, 0.1–0.3 s; 60 ms for the imports and a graph of S) stalls every
    question while it runs. Objects freed later are still freed by reference counting; only
    cycles among them would stay."""
    gc.freeze()
