"""The benchmark's memory figures are the measured process's own."""

from __future__ import annotations

from pathlib import Path

from bench import suite

ROOT = Path(__file__).resolve().parents[2]


def test_load_and_reload_report_their_own_peak_not_the_benchmark_process() -> None:
    # the suite's process is big by the time it measures snapshots (it has loaded the scale
    # itself); its children must not report that as their own peak
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))  # written, so resident
    figures = suite.measure_snapshot(ROOT / "loaders" / "datasets" / "wenzhou", runs=1)
    assert 10 < figures["reload_peak_memory_mib"] < 300
    assert 10 < figures["peak_memory_mib"] < 300
    assert len(ballast) == 400 * 2**20
