"""The benchmark suite runs end to end (a smoke run at a small scale; nothing here is timed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from graph_service.core.settings import Neo4jSettings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.neo4j]


def test_the_benchmark_suite_runs_on_both_backends(neo4j_settings: Neo4jSettings) -> None:
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings.uri,
        "NEO4J_USER": neo4j_settings.user,
        "NEO4J_PASSWORD": neo4j_settings.password.get_secret_value(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scales", "S", "--smoke", "--backends", "embedded,neo4j",
         "--neo4j-max-scale", "S"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((ROOT / "bench" / "results" / "smoke.json").read_text(encoding="utf-8"))
    load = results["load"]
    assert load["embedded-S"]["relationships"] > 9000
    assert load["embedded-S"]["relationships_per_s"] > 0
    assert any(name.startswith("neo4j-S") for name in load)
    for backend in ("embedded-S", "neo4j-S"):
        queries = results["queries"][backend]
        assert {"societies_serving", "neighborhood_d2_cap200", "gap_analysis_all_industries"} <= set(queries)
    api = results["api"]["S-1w"]
    assert (
        "skipped" in api
        or api["societies (cached)"]["non_2xx"] == api["societies (uncached)"]["non_2xx"] == 0
    )
    assert results["snapshot"]["S"]["reload_seconds_median"] > 0
