"""Turning benchmark results into the Markdown tables of BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TARGETS = """\
Targets (issue "Scale"), on this 2-core machine:

- embedded load at L ≥ 100,000 relationships/s including validation; Neo4j load ≥ 20,000 relationships/s
- societies serving an industry, all channels, at L: p99 ≤ 10 ms embedded, ≤ 50 ms Neo4j;
  neighborhood depth 2 with a cap: p99 ≤ 20 ms embedded
- gap analysis over every industry at L ≤ 1 s embedded
- API ≥ 1,000 requests/s on the societies route at M with one worker, p99 ≤ 50 ms
- snapshot reload at L ≤ 5 s; peak memory at L ≤ 2 GiB
- a 5,000-node view generated in ≤ 1 s
"""


KEEP_MARKER = "<!-- written by hand below this line: kept when the tables above are regenerated -->"


def write_markdown(results: dict[str, Any], path: Path) -> None:
    """Write the results as Markdown tables, with the machine, the command and the date.

    Whatever follows ``KEEP_MARKER`` in the existing file (commentary, the targets) is kept.
    """
    m = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Measured {results['date']} with `{results['command']}` on {m['cpus']} cores, "
        f"{m['memory_gib']} GiB, Python {m['python']} ({m['platform']}).",
        "Medians of several runs; latencies are p50/p99 over a fixed sample of inputs (hubs and leaves).",
        "",
        TARGETS,
        "## Load throughput",
        "",
        "| backend, scale | relationships | seconds | relationships/s | CPU s | csv-read floor (s) | × floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.get("load", {}).items():
        lines.append(
            f"| {name} | {r['relationships']:,} | {r['seconds_median']} | {r['relationships_per_s']:,} | "
            f"{r.get('cpu_seconds_median', '')} | {r['csv_floor_seconds']} | {r['ratio_to_csv_floor']} |"
        )
    lines += ["", "## Query latency (ms)", ""]
    for name, queries in results.get("queries", {}).items():
        lines += [f"### {name}", "", "| query | p50 | p99 | samples |", "| --- | ---: | ---: | ---: |"]
        for query, r in queries.items():
            lines.append(f"| {query} | {r['p50_ms']} | {r['p99_ms']} | {r['n']} |")
        lines.append("")
    lines += [
        "## API (wrk on loopback, 16 connections)",
        "",
        "| scale-workers | route | requests/s | p50 ms | p99 ms | non-2xx |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, routes in results.get("api", {}).items():
        for route, r in routes.items():
            if isinstance(r, dict):
                lines.append(
                    f"| {name} | {route} | {r['requests_per_s']:,} | {r['p50_ms']} | {r['p99_ms']} | {r['non_2xx']} |"
                )
    lines += [
        "",
        "## Embedded snapshot and memory",
        "",
        "| scale | load s | save s | reload s | peak MiB | snapshot MiB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scale, r in results.get("snapshot", {}).items():
        lines.append(
            f"| {scale} | {r['load_seconds_median']} | {r['save_seconds_median']} | {r['reload_seconds_median']} | "
            f"{r['peak_memory_mib']} | {r['snapshot_mib']} |"
        )
    views = results.get("views", {})
    if views:
        lines += ["", "## Views", "", "```", *(f"{k}: {v}" for k, v in views.items()), "```"]
    kept = ""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        if KEEP_MARKER in old:
            kept = old[old.index(KEEP_MARKER) :]
    lines += ["", kept or KEEP_MARKER]
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
