"""Run the benchmark suite and write bench/results/results.json and BENCHMARKS.md.

Examples:
    python -m bench                         # S and M on both backends, L embedded (long)
    python -m bench --scales S --smoke      # the quick run CI does: proves the suite works (untimed)
    python -m bench --scales M --only load,queries --backends embedded
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from bench import suite

PARTS = ("load", "queries", "api", "snapshot", "views")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the chosen parts, write the results."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="S,M,L", help="comma-separated: XS, S, M, L (default S,M,L)")
    parser.add_argument("--backends", default="embedded,neo4j", help="comma-separated: embedded, neo4j")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {', '.join(PARTS)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per load measurement (median reported)")
    parser.add_argument(
        "--smoke", action="store_true", help="one quick run of every part; writes no BENCHMARKS.md"
    )
    parser.add_argument("--neo4j-max-scale", default="M", help="largest scale loaded into Neo4j (L is slow)")
    parser.add_argument(
        "--tag", default="all", help="name of this run's results file; BENCHMARKS.md merges every run"
    )
    args = parser.parse_args(argv)
    scales = [s.strip().upper() for s in args.scales.split(",") if s.strip()]
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    runs = 1 if args.smoke else args.runs
    order = ["XS", "S", "M", "L"]
    results: dict[str, Any] = {
        "machine": suite.machine(),
        "date": dt.date.today().isoformat(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "load": {}, "queries": {}, "api": {}, "snapshot": {}, "views": {},
    }  # fmt: skip
    for scale in scales:
        path = suite.dataset(scale)
        print(f"[bench] scale {scale}: {suite.relationship_count(path):,} relationships", flush=True)
        if "load" in parts or "queries" in parts:
            if "embedded" in backends:
                _embedded(results, scale, path, parts, runs, quick=args.smoke)
            if "neo4j" in backends and order.index(scale) <= order.index(args.neo4j_max_scale.upper()):
                _neo4j(results, scale, path, parts, runs, quick=args.smoke)
        if "snapshot" in parts and (scale == "L" or args.smoke or scale == scales[-1]):
            print(f"[bench]   snapshot at {scale}", flush=True)
            results["snapshot"][scale] = suite.measure_snapshot(path, runs=runs)
        if "api" in parts and (scale == "M" or args.smoke):
            for workers in (1, 2):
                print(f"[bench]   API at {scale}, {workers} worker(s)", flush=True)
                results["api"][f"{scale}-{workers}w"] = suite.measure_api(
                    path, workers, seconds=3 if args.smoke else 10
                )
    if "views" in parts:
        results["views"] = _views(smoke=args.smoke)
    out = suite.RESULTS / ("smoke.json" if args.smoke else f"results-{args.tag}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"[bench] wrote {out}")
    if not args.smoke:
        from bench.report import write_markdown

        write_markdown(_merged(), suite.ROOT / "BENCHMARKS.md")
        print("[bench] wrote BENCHMARKS.md")
    return 0


def _merged() -> dict[str, Any]:
    """Every tagged run's results in one document (later runs win on the same key)."""
    merged: dict[str, Any] = {"commands": []}
    for file in sorted(suite.RESULTS.glob("results-*.json")):
        run = json.loads(file.read_text(encoding="utf-8"))
        merged["machine"], merged["date"] = run["machine"], run["date"]
        merged["commands"].append(run["command"])
        for part in PARTS:
            merged.setdefault(part, {}).update(run.get(part, {}))
    merged["command"] = "`; `".join(merged["commands"])
    return merged


def _embedded(
    results: dict[str, Any], scale: str, path: Path, parts: set[str], runs: int, quick: bool = False
) -> None:
    from graph_service.backends.embedded import EmbeddedStore
    from loaders.load import load_dataset

    if "load" in parts:
        print(f"[bench]   embedded load at {scale}", flush=True)
        results["load"][f"embedded-{scale}"] = suite.measure_load(suite.embedded_factory(), path, runs, 20000)
    if "queries" in parts and scale in ("XS", "S", "M", "L"):
        print(f"[bench]   embedded queries at {scale}", flush=True)
        store = EmbeddedStore(None)
        load_dataset(path, store, batch_size=20000)
        results["queries"][f"embedded-{scale}"] = suite.measure_queries(store, quick=quick)


def _neo4j(
    results: dict[str, Any], scale: str, path: Path, parts: set[str], runs: int, quick: bool = False
) -> None:
    from graph_service.backends.neo4j.store import Neo4jStore
    from loaders.load import load_dataset

    with suite.neo4j_settings() as settings:
        if "load" in parts:
            for batch in (settings.batch_size,) if quick else sorted({500, settings.batch_size, 10000}):
                print(f"[bench]   neo4j load at {scale}, batch {batch}", flush=True)
                results["load"][f"neo4j-{scale}-batch{batch}"] = suite.measure_load(
                    lambda: Neo4jStore(settings), path, max(1, runs - 1), batch
                )
        if "queries" in parts:
            print(f"[bench]   neo4j queries at {scale}", flush=True)
            store = Neo4jStore(settings)
            store.clear()
            load_dataset(path, store, batch_size=settings.batch_size)
            results["queries"][f"neo4j-{scale}"] = suite.measure_queries(store, quick=quick)
            store.clear()
            store.close()


def _views(smoke: bool) -> dict[str, Any]:
    try:
        from bench.views import measure_views
    except ImportError:
        return {"skipped": "bench.views is not available"}
    return measure_views(sizes=(500,) if smoke else (500, 5000))


if __name__ == "__main__":
    sys.exit(main())
