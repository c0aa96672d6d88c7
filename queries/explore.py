"""Exploring around entities: the neighbourhood of one, and the chains that join two.

Example:
    >>> neighborhood(store, "society:cmes", depth=2).nodes  # doctest: +SKIP
    >>> paths_between(store, "society:csae", "industry:wz:auto-parts").paths[0].sentence  # doctest: +SKIP
    'China Society of Automotive Engineers — serves — Auto parts'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import Field

from graph_service.errors import InvalidRequest
from graph_service.ontology import Node, NodeKind, Relationship, RelType
from graph_service.store import GraphStore, Neighbor
from graph_service.store import Path as StorePath
from queries.common import alive, evidence_path, resolve_entity
from queries.models import EvidencePath, EvidenceStep, NodeRef, ResultModel

__all__ = [
    "MAX_DEPTH",
    "MAX_HOPS",
    "Neighborhood",
    "Paths",
    "neighborhood",
    "paths_between",
]

MAX_DEPTH = 3
"""Deepest neighbourhood a caller may ask for."""
MAX_HOPS = 6
"""Longest path a caller may ask for."""
MAX_NODES = 5000
"""Largest neighbourhood a caller may ask for."""


class GraphNode(ResultModel):
    """A node of a result graph: its public properties and its distance from the centre."""

    id: str
    kind: NodeKind
    name: str
    name_zh: str | None = None
    depth: int = Field(description="Hops from the centre.")
    properties: dict[str, object]


class GraphEdge(ResultModel):
    """A relationship of a result graph, with its evidence."""

    source: str
    type: RelType
    target: str
    evidence: EvidenceStep


class Neighborhood(ResultModel):
    """An entity and what lies around it, up to a depth."""

    center: NodeRef
    depth: int
    truncated: bool = Field(description="True when the node cap cut the neighbourhood short.")
    nodes: list[GraphNode]
    edges: list[GraphEdge]


class Paths(ResultModel):
    """The shortest chains between two entities, each explained in words."""

    source: NodeRef
    target: NodeRef
    max_hops: int
    count: int
    paths: list[EvidencePath]


def neighborhood(
    store: GraphStore,
    entity: str,
    *,
    depth: int = 1,
    kinds: Sequence[NodeKind] = (),
    types: Sequence[RelType] = (),
    limit: int = 200,
    as_of: str | None = None,
) -> Neighborhood:
    """An entity and its neighbours up to ``depth`` hops, filtered by kind and relationship type.

    Args:
        store: the graph.
        entity: an id or a name.
        depth: 1 to ``MAX_DEPTH`` hops.
        kinds: only reach nodes of these kinds (the centre is always kept).
        types: only follow these relationship types.
        limit: at most this many nodes (1 to ``MAX_NODES``); ``truncated`` says when it cut.
        as_of: as the ecosystem stood on this date.

    Raises:
        InvalidRequest: depth or limit out of range.
        NotFound: no such entity.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise InvalidRequest(f"depth must be between 1 and {MAX_DEPTH}")
    if not 1 <= limit <= MAX_NODES:
        raise InvalidRequest(f"limit must be between 1 and {MAX_NODES}")
    center = resolve_entity(store, entity)
    depths: dict[str, int] = {center.id: 0}
    nodes: dict[str, Node] = {center.id: center}
    edges: dict[tuple[str, str, str], Relationship] = {}
    truncated = False
    frontier = [center.id]
    for level in range(1, depth + 1):
        nxt: list[str] = []
        for here in frontier:
            for nb in _neighbors(store, here, kinds, types, limit + 1):
                if not (alive(nb.node, as_of) and alive(nb.relationship, as_of)):
                    continue
                if nb.node.id not in nodes:
                    if len(nodes) >= limit:
                        truncated = True
                        continue
                    nodes[nb.node.id] = nb.node
                    depths[nb.node.id] = level
                    nxt.append(nb.node.id)
                edges[nb.relationship.key] = nb.relationship
        frontier = nxt
    kept = [r for r in edges.values() if r.source in nodes and r.target in nodes]
    return Neighborhood(
        center=NodeRef.of(center),
        depth=depth,
        truncated=truncated,
        nodes=[
            GraphNode(
                id=n.id,
                kind=n.kind,
                name=n.name,
                name_zh=n.name_zh,
                depth=depths[n.id],
                properties=n.public_view(),
            )
            for n in sorted(nodes.values(), key=lambda n: (depths[n.id], n.id))
        ],
        edges=[
            GraphEdge(source=r.source, type=r.type, target=r.target, evidence=EvidenceStep.of(r))
            for r in sorted(kept, key=lambda r: r.key)
        ],
    )


def paths_between(
    store: GraphStore,
    source: str,
    target: str,
    *,
    k: int = 3,
    max_hops: int = 4,
    types: Sequence[RelType] = (),
    as_of: str | None = None,
    fanout: int = 500,
) -> Paths:
    """The ``k`` shortest simple chains between two entities, up to ``max_hops``, explained in words.

    Relationships are followed in either direction; each chain is phrased from the
    source ("China Society of Automotive Engineers — takes part in — … — serves — …").
    Chains of equal length are ordered by the ids along them.

    Raises:
        InvalidRequest: k or max_hops out of range, or the same entity twice.
        NotFound: either entity missing.
    """
    if not 1 <= max_hops <= MAX_HOPS:
        raise InvalidRequest(f"max_hops must be between 1 and {MAX_HOPS}")
    if not 1 <= k <= 50:
        raise InvalidRequest("k must be between 1 and 50")
    start = resolve_entity(store, source)
    goal = resolve_entity(store, target)
    if start.id == goal.id:
        raise InvalidRequest("source and target are the same entity")
    cache: dict[str, list[Neighbor]] = {}

    def around(node_id: str) -> list[Neighbor]:
        if node_id not in cache:
            cache[node_id] = [
                nb
                for nb in _neighbors(store, node_id, (), types, fanout)
                if alive(nb.node, as_of) and alive(nb.relationship, as_of)
            ]
        return cache[node_id]

    # Distances to the goal, breadth first, so the search below only follows useful hops; a
    # level at a time, only as deep as needed: to the start, and for chains of n hops to n - 1
    # (the last levels are by far the largest: at a hub the fourth holds most of the graph).
    to_goal = {goal.id: 0}
    frontier = [goal.id]
    depth = 0

    def deepen() -> None:
        nonlocal frontier, depth
        depth += 1
        nxt = []
        for here in frontier:
            for nb in around(here):
                if nb.node.id not in to_goal:
                    to_goal[nb.node.id] = depth
                    nxt.append(nb.node.id)
        frontier = nxt

    while start.id not in to_goal and depth < max_hops and frontier:
        deepen()
    found: list[StorePath] = []
    if start.id in to_goal:
        shortest = to_goal[start.id]
        for length in range(shortest, max_hops + 1):
            while depth < length - 1:
                deepen()
            found.extend(_chains(around, start, goal.id, length, to_goal))
            if len(found) >= k:
                break
    found.sort(
        key=lambda p: (len(p.relationships), [n.id for n in p.nodes], [r.type.value for r in p.relationships])
    )
    chosen = found[:k]
    return Paths(
        source=NodeRef.of(start),
        target=NodeRef.of(goal),
        max_hops=max_hops,
        count=len(chosen),
        paths=[evidence_path(p) for p in chosen],
    )


def _chains(
    around: Callable[[str], list[Neighbor]], start: Node, goal: str, length: int, to_goal: dict[str, int]
) -> list[StorePath]:
    """Every simple chain of exactly ``length`` hops from start to goal."""
    out: list[StorePath] = []
    nodes: list[Node] = [start]
    rels: list[Relationship] = []

    def walk() -> None:
        here = nodes[-1]
        left = length - len(rels)
        if left == 0:
            if here.id == goal:
                out.append(StorePath(nodes=tuple(nodes), relationships=tuple(rels)))
            return
        for nb in around(here.id):
            other = nb.node
            if to_goal.get(other.id, 1 << 30) > left - 1 or any(n.id == other.id for n in nodes):
                continue
            nodes.append(other)
            rels.append(nb.relationship)
            walk()
            nodes.pop()
            rels.pop()

    walk()
    return out


def _neighbors(
    store: GraphStore, node_id: str, kinds: Sequence[NodeKind], types: Sequence[RelType], limit: int
) -> list[Neighbor]:
    return store.neighbors(node_id, direction="both", types=list(types), kinds=list(kinds), limit=limit)
