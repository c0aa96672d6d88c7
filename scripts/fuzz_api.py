"""Fuzz every API route with a chosen budget and print what was sent, per route and status class.

    python scripts/fuzz_api.py --examples 500                    # embedded store
    python scripts/fuzz_api.py --examples 200 --backend neo4j    # a real Neo4j (Java 17 or NEO4J_URI)
    python scripts/fuzz_api.py --examples 500 --backend both

It runs ``tests/api/test_schemathesis.py`` with ``INNOGRAPH_FUZZ_EXAMPLES`` set, so a
failure is reported by pytest with a ``curl`` line to reproduce it; the exit status is
pytest's. Hypothesis stops a route at its first failure, so every other route still
gets its full budget.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/api/test_schemathesis.py"
MARKS = {"embedded": "not neo4j", "neo4j": "neo4j", "both": ""}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--examples", type=int, default=500, help="examples per route and phase (default 500)"
    )
    parser.add_argument("--backend", choices=sorted(MARKS), default="embedded")
    parser.add_argument("--report", type=Path, help="also keep the JSON report here")
    args = parser.parse_args(argv)
    if args.examples < 1:
        parser.error("--examples must be at least 1")

    with tempfile.TemporaryDirectory(prefix="innograph-fuzz-report-") as tmp:
        report = args.report or Path(tmp) / "fuzz.json"
        env = dict(os.environ, INNOGRAPH_FUZZ_EXAMPLES=str(args.examples), INNOGRAPH_FUZZ_REPORT=str(report))
        command = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider"]
        if MARKS[args.backend]:
            command += ["-m", MARKS[args.backend]]
        started = time.monotonic()
        status = subprocess.call(command, cwd=ROOT, env=env)
        seconds = time.monotonic() - started
        if not report.exists():
            print("no report was written: the run stopped before the fuzz tests finished", file=sys.stderr)
            return status or 1
        summary = json.loads(report.read_text())

    table: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    statuses: dict[tuple[str, str], set[int]] = defaultdict(set)
    for row in summary["sent"]:
        key = (row["backend"], row["route"])
        table[key][f"{row['status'] // 100}xx"] += row["requests"]
        statuses[key].add(row["status"])
    # the fuzzer also probes each path with methods the schema does not list: those answer 405
    documented = {key: counts for key, counts in table.items() if statuses[key] != {405}}
    print(f"\n{'backend':<9} {'route':<52} {'requests':>8} {'2xx':>6} {'4xx':>6} {'5xx':>4}")
    for (backend, route), counts in sorted(documented.items()):
        total = sum(counts.values())
        print(f"{backend:<9} {route:<52} {total:>8} {counts['2xx']:>6} {counts['4xx']:>6} {counts['5xx']:>4}")
    undocumented = sum(sum(c.values()) for key, c in table.items() if key not in documented)
    requests = sum(row["requests"] for row in summary["sent"])
    errors = sum(row["requests"] for row in summary["sent"] if row["status"] >= 500)
    print(
        f"\n{summary['examples']} examples per route and phase; {len(documented)} routes; "
        f"{requests:,} requests ({undocumented} of them 405 probes of unlisted methods); {errors} answered 5xx; "
        f"{seconds:.0f} s; pytest exit status {status}"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
