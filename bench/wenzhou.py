"""p50/p99 of the catalog on the bundled Wenzhou dataset, on both backends: `python bench/wenzhou.py`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.suite import latency, neo4j_settings
from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import NodeKind
from graph_service.core.store import GraphStore
from loaders.load import WENZHOU_DATASET, load_dataset


def measure(store: GraphStore) -> dict[str, object]:
    """Each question over the 5+5 clusters, the named societies and a few entities."""
    from queries.explore import neighborhood, paths_between
    from queries.gaps import Scope, coverage_matrix, gap_analysis
    from queries.recommend import recommendations
    from queries.search import search
    from queries.serving import industries_served_by, societies_serving

    clusters = [n.id for n in store.find_nodes(NodeKind.INDUSTRY, {"taxonomy": "wenzhou-5+5"})]
    societies = ["society:cmes", "society:csae", "society:csee", "society:cie", "society:ctes", "society:gsc"]
    scope = Scope(taxonomy="wenzhou-5+5")
    return {
        "societies_serving_sub": latency(
            lambda i: societies_serving(store, i, include_sub_industries=True), clusters
        ),
        "industries_served_by": latency(lambda s: industries_served_by(store, s), societies),
        "neighborhood_d2": latency(lambda s: neighborhood(store, s, depth=2, limit=200), societies),
        "paths_k3_h4": latency(
            lambda s: paths_between(store, s, "region:330300", k=3, max_hops=4), societies, repeat=1
        ),
        "recommendations": latency(lambda i: recommendations(store, i), clusters, repeat=1),
        "search": latency(lambda q: search(store, q), ["CMES", "机械", "jixie", "Mechanicl", "温州"]),
        "gaps_5+5": latency(lambda _: gap_analysis(store, scope), ["5+5"]),
        "coverage_5+5": latency(lambda _: coverage_matrix(store, scope), ["5+5"]),
    }


def main() -> None:
    """Print the figures as JSON."""
    out: dict[str, object] = {}
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    out["embedded"] = measure(store)
    if "--no-neo4j" not in sys.argv:
        from graph_service.backends.neo4j.store import Neo4jStore

        with neo4j_settings() as settings:
            neo = Neo4jStore(settings)
            neo.clear()
            load_dataset(WENZHOU_DATASET, neo)
            out["neo4j"] = measure(neo)
            neo.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
