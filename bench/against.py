"""Time the catalog's questions against the same questions at an earlier revision, in one process.

    python -m bench.against 19368de --data /tmp/l.json --runs 5
    python -m bench.against HEAD~3 --data bench/results/data-m-1 --questions gaps,societies,changes

The earlier revision's ``queries`` package is read with ``git show`` and imported under
another name; both run against the same loaded store, one after the other in each round,
so what the machine does meanwhile falls on both alike. For each question it prints the
median CPU and wall time of both, their ratio, and whether the answers are equal.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import NodeKind
from graph_service.core.store import GraphStore

ROOT = Path(__file__).resolve().parents[1]


def queries_at(revision: str, into: Path) -> str:
    """Write the ``queries`` package of a revision under ``into`` as its own package; its name."""
    name = "queries_at_" + "".join(c if c.isalnum() else "_" for c in revision)
    files = subprocess.run(
        ["git", "ls-tree", "--name-only", revision, "queries/"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    package = into / name
    package.mkdir(parents=True)
    for file in files:
        text = subprocess.run(
            ["git", "show", f"{revision}:{file}"], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout
        text = text.replace("from queries.", f"from {name}.").replace("import queries.", f"import {name}.")
        (package / Path(file).name).write_text(text, encoding="utf-8")
    return name


def questions(
    package: str, store: GraphStore, industries: list[str], societies: list[str]
) -> dict[str, Callable[[], Any]]:
    """The questions timed, each asked over its whole sample."""
    serving = importlib.import_module(f"{package}.serving")
    gaps = importlib.import_module(f"{package}.gaps")
    plans = importlib.import_module(f"{package}.plans")
    recommend = importlib.import_module(f"{package}.recommend")
    scope = gaps.Scope(taxonomy="syn") if industries[0].startswith("industry:syn") else gaps.Scope()
    return {
        # the industry by itself: the one question both revisions answer alike (sub-industries
        # became the default later)
        "societies": lambda: [
            serving.societies_serving(store, i, include_sub_industries=False).model_dump() for i in industries
        ],
        "societies-page": lambda: [
            serving.societies_serving(store, i, include_sub_industries=False, limit=20).model_dump()
            for i in industries
        ],
        "societies-sub": lambda: [
            serving.societies_serving(store, i, include_sub_industries=True, limit=50).model_dump()
            for i in industries
        ],
        "industries": lambda: [serving.industries_served_by(store, s).model_dump() for s in societies],
        "gaps": lambda: gaps.gap_analysis(store, scope).model_dump(),
        "matrix": lambda: gaps.coverage_matrix(store, scope).model_dump(),
        "recommendations": lambda: [recommend.recommendations(store, i).model_dump() for i in industries],
        "changes": lambda: [plans.changes(store, a, b).model_dump() for a, b in CHANGE_PERIODS],
    }


CHANGE_PERIODS = [("2021", "2021-12"), ("2015", "2024"), ("2019-03", "2019-03")]
"""The periods the ``changes`` question asks about: a year, a decade, a month."""


def busiest(store: GraphStore, kind: NodeKind, count: int) -> list[str]:
    """The nodes of a kind with the most relationships (hubs: the slowest inputs)."""
    degree = {n.id: len(store.neighbors(n.id, limit=None)) for n in store.iter_nodes(kind)}
    return sorted(degree, key=lambda i: (-degree[i], i))[:count]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("revision", help="the earlier revision, e.g. a commit or HEAD~2")
    parser.add_argument(
        "--data", required=True, type=Path, help="an embedded snapshot (.json) or a dataset directory"
    )
    parser.add_argument("--runs", type=int, default=5, help="rounds; medians are reported (default 5)")
    parser.add_argument(
        "--hubs", type=int, default=5, help="busiest industries and societies asked about (default 5)"
    )
    parser.add_argument(
        "--questions", default="societies,societies-page,industries,gaps,matrix,recommendations,changes"
    )
    args = parser.parse_args(argv)

    if args.data.is_dir():
        from loaders.load import load_dataset

        store = EmbeddedStore(None)
        with store.load_transaction():
            load_dataset(args.data, store)
    else:
        store = EmbeddedStore(args.data)
    industries = busiest(store, NodeKind.INDUSTRY, args.hubs)
    societies = busiest(store, NodeKind.SOCIETY, args.hubs)
    with tempfile.TemporaryDirectory() as tmp:
        sys.path.insert(0, tmp)
        before = questions(queries_at(args.revision, Path(tmp)), store, industries, societies)
        now = questions("queries", store, industries, societies)
        print(
            f"{'question':<16}{'before cpu':>12}{'now cpu':>10}{'before wall':>13}{'now wall':>10}{'ratio':>8}  same"
        )
        for name in args.questions.split(","):
            times: dict[str, list[tuple[float, float]]] = {"before": [], "now": []}
            answers: dict[str, Any] = {}
            for _ in range(args.runs):
                for side, ask in (("before", before[name]), ("now", now[name])):
                    cpu, wall = time.process_time(), time.perf_counter()
                    answers[side] = ask()
                    times[side].append((time.process_time() - cpu, time.perf_counter() - wall))
            med = {
                s: (statistics.median(c for c, _ in t), statistics.median(w for _, w in t))
                for s, t in times.items()
            }
            ratio = med["before"][0] / med["now"][0] if med["now"][0] else float("inf")
            print(
                f"{name:<16}{med['before'][0]:>11.3f}s{med['now'][0]:>9.3f}s{med['before'][1]:>12.3f}s"
                f"{med['now'][1]:>9.3f}s{ratio:>7.1f}x  {answers['before'] == answers['now']}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
