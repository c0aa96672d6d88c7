"""Whole-graph analytics on a projection: brokers (betweenness centrality) and communities.

Both read the graph once through ``iter_nodes`` / ``iter_relationships`` into an
undirected networkx projection, so they run the same on either backend. The
projection is refused above ``MAX_PROJECTION_RELATIONSHIPS`` relationships; past
``EXACT_BETWEENNESS_NODES`` nodes betweenness is estimated from a fixed sample of
``BETWEENNESS_SAMPLE`` pivots (seeded, so answers repeat).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import Node, NodeKind, RelType
from graph_service.core.store import GraphStore
from queries.common import alive
from queries.models import NodeRef, ResultModel

__all__ = ["Broker", "Brokers", "Communities", "Community", "brokers", "communities"]

MAX_PROJECTION_RELATIONSHIPS = 2_000_000
EXACT_BETWEENNESS_NODES = 2000
BETWEENNESS_SAMPLE = 500
SEED = 4754


class Broker(ResultModel):
    """An entity that sits on many shortest chains between others."""

    node: NodeRef
    betweenness: float = Field(description="Normalised betweenness centrality, 0 to 1.")
    degree: int


class Brokers(ResultModel):
    """The best-placed go-betweens among the chosen kinds."""

    kinds: list[NodeKind]
    exact: bool = Field(description="False when betweenness was estimated from a sample.")
    count: int
    results: list[Broker]


class Community(ResultModel):
    """A group of entities more tied to each other than to the rest."""

    id: int
    size: int
    kinds: dict[str, int]
    top: list[NodeRef] = Field(description="Its best-connected members.")


class Communities(ResultModel):
    """The graph divided into communities (Louvain, seeded)."""

    count: int
    modularity: float
    results: list[Community]


def brokers(
    store: GraphStore,
    *,
    kinds: Sequence[NodeKind] = (NodeKind.SOCIETY, NodeKind.ORGANIZATION, NodeKind.PROGRAM, NodeKind.TALENT),
    types: Sequence[RelType] = (),
    limit: int = 20,
    as_of: str | None = None,
) -> Brokers:
    """Rank the entities of some kinds by betweenness in the graph of those kinds and what joins them.

    The projection keeps every node (so chains through other kinds count) but only
    ranks the chosen kinds.
    """
    import networkx as nx

    if not 1 <= limit <= 500:
        raise InvalidRequest("limit must be between 1 and 500")
    graph, nodes = _projection(store, types, as_of)
    exact = graph.number_of_nodes() <= EXACT_BETWEENNESS_NODES
    if graph.number_of_nodes() == 0:
        scores: dict[str, float] = {}
    elif exact:
        scores = nx.betweenness_centrality(graph, normalized=True)
    else:
        scores = nx.betweenness_centrality(graph, k=BETWEENNESS_SAMPLE, normalized=True, seed=SEED)
    wanted = set(kinds)
    ranked = sorted(
        (i for i in scores if nodes[i].kind in wanted),
        key=lambda i: (-round(scores[i], 12), nodes[i].name, i),
    )[:limit]
    return Brokers(
        kinds=list(kinds),
        exact=exact,
        count=len(ranked),
        results=[
            Broker(node=NodeRef.of(nodes[i]), betweenness=round(scores[i], 6), degree=int(graph.degree(i)))
            for i in ranked
        ],
    )


def communities(
    store: GraphStore,
    *,
    types: Sequence[RelType] = (),
    resolution: float = 1.0,
    limit: int = 50,
    as_of: str | None = None,
) -> Communities:
    """Louvain communities of the graph (seeded, so the same graph gives the same answer)."""
    import networkx as nx
    from networkx.algorithms import community as nx_community

    if not 0.1 <= resolution <= 10:
        raise InvalidRequest("resolution must be between 0.1 and 10")
    graph, nodes = _projection(store, types, as_of)
    if graph.number_of_nodes() == 0:
        return Communities(count=0, modularity=0.0, results=[])
    parts = nx_community.louvain_communities(graph, resolution=resolution, seed=SEED)
    # modularity is undefined on a graph without edges (every node is its own community)
    modularity = (
        nx_community.modularity(graph, parts, resolution=resolution) if graph.number_of_edges() else 0.0
    )
    ordered = sorted((sorted(p) for p in parts), key=lambda p: (-len(p), p[0]))
    results = []
    for number, members in enumerate(ordered[:limit], start=1):
        kinds: dict[str, int] = {}
        for i in members:
            kinds[nodes[i].kind.value] = kinds.get(nodes[i].kind.value, 0) + 1
        top = sorted(members, key=lambda i: (-graph.degree(i), i))[:5]
        results.append(
            Community(id=number, size=len(members), kinds=kinds, top=[NodeRef.of(nodes[i]) for i in top])
        )
    del nx
    return Communities(count=len(parts), modularity=round(modularity, 6), results=results)


def _projection(
    store: GraphStore, types: Sequence[RelType], as_of: str | None
) -> tuple[Any, dict[str, Node]]:
    import networkx as nx

    counts = store.counts()
    if counts.total_relationships > MAX_PROJECTION_RELATIONSHIPS:
        raise InvalidRequest(
            f"the graph has {counts.total_relationships:,} relationships, over the "
            f"{MAX_PROJECTION_RELATIONSHIPS:,} that whole-graph analytics project; filter by type"
        )
    nodes = {n.id: n for n in store.iter_nodes() if alive(n, as_of)}
    graph = nx.Graph()
    graph.add_nodes_from(sorted(nodes))
    for rel in store.iter_relationships(list(types)):
        if rel.source in nodes and rel.target in nodes and alive(rel, as_of):
            graph.add_edge(rel.source, rel.target)
    return graph, nodes
