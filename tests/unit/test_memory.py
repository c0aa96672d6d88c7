"""What the store freezes out of the cycle collector, and when."""

from __future__ import annotations

import gc
import weakref

import pytest

from graph_service.core import memory
from graph_service.core.memory import collector_paused, kept


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_a_freeze_collects_the_garbage_first_even_the_old(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cycle that became garbage after surviving collections must be collected, not frozen."""
    monkeypatch.setattr(memory, "FREEZE_EVERY", 1)
    cycle = _Cycle()
    gone = weakref.ref(cycle)
    gc.collect()
    gc.collect()  # survived twice: in the oldest generation
    del cycle
    assert gone() is not None  # only the collector can free it
    before = gc.get_freeze_count()
    try:
        kept()
        assert gc.get_freeze_count() > before
        assert gone() is None
    finally:
        gc.unfreeze()


def test_nothing_is_collected_or_frozen_while_a_load_pauses_the_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "FREEZE_EVERY", 3)
    monkeypatch.setattr(memory, "_kept", 0)
    gc.collect()
    before = gc.get_freeze_count()
    try:
        with collector_paused():
            kept(5)
            assert gc.get_freeze_count() == before
        kept()  # the first note after the pause freezes
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()
