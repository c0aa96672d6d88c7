"""Benchmark of the views: HTML generation time and size in Python, time to interactive in Chromium.

Run:
    .venv/bin/python bench/views.py            # 500 and 5,000 nodes, 5 runs each, browser included
    .venv/bin/python bench/views.py --no-browser

The graph is a synthetic ego neighbourhood (seeded, so every run draws the same one):
a centre, ``n/25`` neighbours at depth 1, the rest at depth 2, ``4n`` relationships.
In the browser (headless Chromium at /usr/bin/chromium, network off) it measures the
first draw of the graph from navigation start (the layout is settled then: positions
come from Python and physics is off), and a click on a node until vis-network's
``selectNode`` handler has run; "interactive" is their sum. The targets: under 5 s
interactive and under 1 s to generate, for 5,000 nodes and 20,000 relationships.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graph_service.core.ontology import Basis, NodeKind, RelType  # noqa: E402
from queries.explore import GraphEdge, GraphNode, Neighborhood  # noqa: E402
from queries.models import EvidenceStep, NodeRef  # noqa: E402
from visualizations.views import ego_view  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
_KINDS = [
    (NodeKind.SOCIETY, RelType.MEMBER_OF),
    (NodeKind.ENTERPRISE, RelType.LOCATED_IN),
    (NodeKind.PROGRAM, RelType.PARTICIPATES_IN),
    (NodeKind.TALENT, RelType.ADVISES),
    (NodeKind.PARK, RelType.FOCUSES_ON),
]


def synthetic_neighborhood(nodes: int, edges: int, seed: int = 4754) -> Neighborhood:
    """A seeded ego neighbourhood of ``nodes`` nodes and ``edges`` relationships."""
    rng = random.Random(seed)
    first = max(1, nodes // 25)
    out: list[GraphNode] = []
    for i in range(nodes):
        kind, _ = _KINDS[i % len(_KINDS)] if i else (NodeKind.REGION, RelType.PART_OF)
        node_id = f"{kind.value.lower()}:synthetic-{i:05d}"
        out.append(
            GraphNode(
                id=node_id,
                kind=kind,
                name=f"Synthetic {kind.value} {i}",
                name_zh=f"合成{kind.value}{i}",
                depth=0 if i == 0 else 1 if i <= first else 2,
                properties={
                    "id": node_id,
                    "name": f"Synthetic {kind.value} {i}",
                    "name_zh": f"合成{kind.value}{i}",
                    "kind": kind.value,
                    "description": "A made-up entity for the benchmark.",
                    "source": "synthetic",
                    "evidence": f"generated with seed {seed}, entity {i}",
                    "basis": "synthetic",
                },
            )
        )
    pairs: set[tuple[int, int]] = set()
    for i in range(1, nodes):
        parent = 0 if i <= first else rng.randint(1, first)
        pairs.add((i, parent))
    while len(pairs) < edges:
        a, b = rng.randrange(nodes), rng.randrange(nodes)
        if a != b:
            pairs.add((a, b))
    rels = []
    for a, b in sorted(pairs):
        rel_type = RelType.PART_OF
        step = EvidenceStep(
            source=out[a].id,
            type=rel_type,
            target=out[b].id,
            basis=Basis.SYNTHETIC,
            evidence=f"synthetic relationship {a}→{b}",
            document="synthetic",
        )
        rels.append(GraphEdge(source=out[a].id, type=rel_type, target=out[b].id, evidence=step))
    centre = out[0]
    return Neighborhood(
        center=NodeRef(id=centre.id, kind=centre.kind, name=centre.name, name_zh=centre.name_zh),
        depth=2,
        truncated=False,
        nodes=out,
        edges=rels,
    )


def time_generation(result: Neighborhood, runs: int) -> tuple[float, float, int, str]:
    """Medians of wall-clock and CPU milliseconds to draw the view, its size in bytes, and the HTML.

    CPU time is printed beside wall time because a shared build machine's load inflates the latter.
    """
    walls, cpus = [], []
    html = ""
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        html = ego_view(result, lang="en")
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), len(html.encode("utf-8")), html


def time_browser(html_path: Path, runs: int) -> tuple[float, float, float]:
    """Medians of: first draw, click answered (both from navigation start), click latency; in ms."""
    from playwright.sync_api import sync_playwright

    draws, answers, latencies = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route(
                "**/*",
                lambda route: (
                    route.abort() if not route.request.url.startswith("file:") else route.continue_()
                ),
            )
            page.goto(html_path.as_uri(), wait_until="commit")
            page.wait_for_function(
                "() => window.__innograph && window.__innograph.ready", polling=20, timeout=30000
            )
            point = page.evaluate(
                """() => { const s = window.__innograph; const n = s.network;
                   const id = n.body.nodeIndices[1]; const p = n.canvasToDOM(n.getPosition(id));
                   const r = document.getElementById('graph').getBoundingClientRect();
                   return {x: p.x + r.left, y: p.y + r.top, id: id, at: performance.now()}; }"""
            )
            clicked_at = page.evaluate("performance.now()")
            page.mouse.click(point["x"], point["y"])
            page.wait_for_function("() => window.__innograph.selectedAt !== null", polling=10, timeout=10000)
            state = page.evaluate(
                "({draw: window.__innograph.firstDrawAt, sel: window.__innograph.selectedAt})"
            )
            draws.append(state["draw"])
            answers.append(state["sel"])
            latencies.append(state["sel"] - clicked_at)
            page.close()
        browser.close()
    return statistics.median(draws), statistics.median(answers), statistics.median(latencies)


def measure_views(
    sizes: tuple[int, ...] = (500, 5000), runs: int = 3, browser: bool = True
) -> dict[str, object]:
    """The view figures for the suite's results: generation time, HTML size, in-browser time to interactive."""
    out: dict[str, object] = {}
    for nodes in sizes:
        result = synthetic_neighborhood(nodes, nodes * 4)
        ms, cpu, size, html = time_generation(result, runs)
        row: dict[str, object] = {
            "generate_ms": round(ms),
            "generate_cpu_ms": round(cpu),
            "html_mb": round(size / 1e6, 2),
        }
        if browser and Path(CHROMIUM).exists():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "view.html"
                path.write_text(html, encoding="utf-8")
                draw, _, latency = time_browser(path, runs)
            row.update(
                first_draw_ms=round(draw), click_ms=round(latency), interactive_ms=round(draw + latency)
            )
        out[f"{nodes}_nodes"] = row
    return out


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; medians of {args.runs} runs")
    header = (
        "nodes",
        "edges",
        "generate ms",
        "(cpu ms)",
        "size MB",
        "draw ms",
        "click ms",
        "interactive ms",
    )
    print(" ".join(f"{h:>{max(6, len(h))}}" for h in header))
    for nodes, edges in ((500, 2000), (5000, 20000)):
        result = synthetic_neighborhood(nodes, edges)
        ms, cpu, size, html = time_generation(result, args.runs)
        draw = latency = float("nan")
        if not args.no_browser and Path(CHROMIUM).exists():
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "view.html"
                path.write_text(html, encoding="utf-8")
                draw, _, latency = time_browser(path, args.runs)
        row = (
            f"{nodes}",
            f"{edges}",
            f"{ms:.0f}",
            f"{cpu:.0f}",
            f"{size / 1e6:.2f}",
            f"{draw:.0f}",
            f"{latency:.0f}",
            f"{draw + latency:.0f}",
        )
        print(" ".join(f"{v:>{max(6, len(h))}}" for v, h in zip(row, header, strict=True)))


if __name__ == "__main__":
    main()
