"""A short load run: 10 readers against a real uvicorn while POST /api/datasets loads a dataset.

The full run (50 clients, 60 s, both backends) is ``python bench/soak.py load``; see RELIABILITY.md.
"""

from __future__ import annotations

import sys

import pytest
from corpus import ROOT

sys.path.insert(0, str(ROOT))

from bench.soak import load_run


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_readers_during_a_load_see_the_old_or_the_new_graph_and_never_a_5xx() -> None:
    result = load_run("embedded", clients=10, seconds=8, scale="XS")
    loaded = result["during_load"]
    assert result["five_xx"] == 0, result
    assert set(loaded["statuses"]) == {200}, result
    assert result["reads_seeing_neither"] == 0, result
    assert set(loaded["node_counts_seen"]) <= set(result["old_and_new_node_counts"]), result
    assert result["final_node_count"] == result["old_and_new_node_counts"][1]
    assert set(result["loads"]["statuses"]) == {200}
    assert result["tracebacks_in_server_log"] == 0
    # p99 within twice the unloaded value (the larger of before and after the load, the graph grows),
    # with 250 ms of slack for a shared 2-core CI machine
    assert loaded["p99_ms"] <= 2 * result["p99_baseline_ms"] + 250, result
