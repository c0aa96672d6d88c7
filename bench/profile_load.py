"""Time (or profile) the loader on a generated dataset: read and check alone, full load, csv floor.

Usage:
    python -m bench.profile_load bench/results/data-m-1 [--runs 3] [--profile]

Each figure is the median of ``--runs`` runs into a fresh in-memory embedded store, as wall-clock
time and as the CPU time of this process (steadier on a machine that is busy with other work).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

from bench.suite import csv_floor, relationship_count
from graph_service.backends.embedded import EmbeddedStore
from loaders.load import load_dataset, read_dataset


def _median_seconds(step: str, path: Path, runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of one step."""
    wall, cpu = [], []
    for _ in range(runs):
        store = EmbeddedStore(None)
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        if step == "read":
            read_dataset(path, store)
        else:
            load_dataset(path, store)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        store.close()
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> None:
    """Print the median seconds and relationships per second of each step."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of one load")
    args = parser.parse_args(argv)
    rels = relationship_count(args.dataset)
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        with profiler:
            load_dataset(args.dataset, EmbeddedStore(None))
        print(profiler.output_text(unicode=True, color=False))
        return
    floor = statistics.median(csv_floor(args.dataset) for _ in range(args.runs))
    print(f"{args.dataset}: {rels:,} relationships, median of {args.runs} runs")
    print(f"  {'csv floor':<14} {floor:7.3f} s wall {rels / floor:>9,.0f} rel/s")
    for step in ("read", "load"):
        wall, cpu = _median_seconds(step, args.dataset, args.runs)
        print(
            f"  {step + '_dataset':<14} {wall:7.3f} s wall {rels / wall:>9,.0f} rel/s"
            f"  {cpu:7.3f} s CPU {rels / cpu:>9,.0f} rel/s"
        )


if __name__ == "__main__":
    main()
