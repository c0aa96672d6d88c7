"""Regenerating BENCHMARKS.md keeps what was written by hand below the marker."""

from __future__ import annotations

from pathlib import Path

from bench.report import KEEP_MARKER, write_markdown

RESULTS = {
    "machine": {"cpus": 2, "memory_gib": 23.5, "python": "3.11", "platform": "linux"},
    "date": "2026-11-27",
    "command": "python -m bench --scales XS",
    "load": {
        "embedded-XS": {
            "relationships": 2500,
            "seconds_median": 0.1,
            "relationships_per_s": 25000,
            "csv_floor_seconds": 0.01,
            "ratio_to_csv_floor": 10.0,
        }
    },
}


def test_hand_written_sections_survive_a_regeneration(tmp_path: Path) -> None:
    path = tmp_path / "BENCHMARKS.md"
    write_markdown(RESULTS, path)
    first = path.read_text(encoding="utf-8")
    assert KEEP_MARKER in first and "| embedded-XS | 2,500 |" in first
    path.write_text(first + "\n## Against the targets\n\nOur reading of the figures.\n", encoding="utf-8")
    changed = {**RESULTS, "date": "2026-11-28"}
    write_markdown(changed, path)
    again = path.read_text(encoding="utf-8")
    assert "Measured 2026-11-28" in again
    assert again.endswith("## Against the targets\n\nOur reading of the figures.\n")
    assert again.count(KEEP_MARKER) == 1
