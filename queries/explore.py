"""Exploring around entities: the neighbourhood of one, and the chains that join two.

Example:
    >>> neighborhood(store, "society:cmes", depth=2).nodes  # doctest: +SKIP
    >>> paths_between(store, "society:csae", "industry:wz:auto-parts").paths[0].sentence  # doctest: +SKIP
    'China Society of Automotive Engineers — serves — Auto parts'
"""

from __future__ import annotations

import functools
import heapq
import math
import operator
from collections.abc import Iterable, Sequence
from typing import Literal

from pydantic import Field

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import (
    ALLOWED_PAIRS,
    Basis,
    Node,
    NodeKind,
    Relationship,
    RelType,
    kind_of_id,
)
from graph_service.core.store import GraphStore, Hop, Neighbor
from graph_service.core.store import Path as StorePath
from queries.common import BASIS_WEIGHT, alive, evidence_path, resolve_entity
from queries.models import EvidencePath, EvidenceStep, NodeRef, ResultModel

__all__ = [
    "GROUP_SHOWN",
    "HUB_MIN",
    "HUB_SHARE",
    "MAX_DEPTH",
    "MAX_HOPS",
    "VIEW_SHAPES",
    "GraphGroup",
    "Neighborhood",
    "Paths",
    "drawn_neighborhood",
    "neighborhood",
    "node_weight",
    "paths_between",
]

VIEW_SHAPES = 60
"""Shapes a neighbourhood view draws unless asked for more: entities and folded groups together."""
MAX_DEPTH = 3
"""Deepest neighbourhood a caller may ask for."""
MAX_HOPS = 6
"""Longest path a caller may ask for."""
MAX_NODES = 5000
"""Largest neighbourhood a caller may ask for."""
HUB_MIN = 50
"""A hub's fan holds at least this many nodes (see :class:`GraphGroup`)."""
HUB_SHARE = 0.3
"""... and at least this share of all the nodes of its kind."""
GROUP_SHOWN = 40
"""Most members of a folded group a neighbourhood lists (the page shows them when expanded)."""


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


class GraphGroup(ResultModel):
    """The nodes of one kind that a hub's relationships of one type join it to, folded into one.

    The rule (from degrees, never from ids): a node is a hub for a (relationship type, way,
    kind) when at least ``HUB_MIN`` nodes of that kind are joined to it by relationships of
    that type, all pointing the same way, and they are at least ``HUB_SHARE`` of every node of
    that kind in the graph: every society is a member of CAST, so CAST's members fold into
    "209 member societies". Folded nodes are not walked on from; a folded node that the
    neighbourhood reaches by another relationship is drawn on its own (and not listed here).
    """

    id: str = Field(description="group:<hub>:<type>:<way>:<kind>, unique in the answer.")
    hub: str = Field(description="Id of the node the members are joined to.")
    type: RelType
    direction: Literal["in", "out"] = Field(
        description="in: the members' relationships point at the hub (member → hub); out: from it."
    )
    kind: NodeKind
    count: int = Field(description="Every node of the kind joined so, those drawn on their own included.")
    depth: int = Field(description="Hops of the members from the centre.")
    members: list[GraphNode] = Field(
        description=f"The first {GROUP_SHOWN} members by id that are not drawn on their own."
    )
    folded: int = Field(description="How many members are not drawn on their own.")


class Neighborhood(ResultModel):
    """An entity and what lies around it, up to a depth; hubs' large fans folded into groups."""

    center: NodeRef
    depth: int
    truncated: bool = Field(description="True when the node cap cut the neighbourhood short.")
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    groups: list[GraphGroup] = Field(default_factory=list)


class Paths(ResultModel):
    """The best chains between two entities, each explained in words, best first."""

    source: NodeRef
    target: NodeRef
    max_hops: int
    count: int
    paths: list[EvidencePath]
    scores: list[float] = Field(
        default_factory=list, description="Each chain's score (see paths_between), in the order of paths."
    )


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
    hubs = _Hubs(store, kinds, types, as_of)
    truncated = False
    frontier = [center.id]
    for level in range(1, depth + 1):
        nxt: list[str] = []
        fans = hubs.fans(frontier)
        for here in frontier:
            for nb in _around(store, here, fans.get(here, {}), kinds, types, limit + 1):
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
    groups = hubs.groups(nodes, depths, edges)
    kept = [r for r in edges.values() if r.source in nodes and r.target in nodes]
    return Neighborhood(
        center=NodeRef.of(center),
        depth=depth,
        truncated=truncated,
        nodes=[
            _graph_node(n, depths[n.id]) for n in sorted(nodes.values(), key=lambda n: (depths[n.id], n.id))
        ],
        edges=[
            GraphEdge(source=r.source, type=r.type, target=r.target, evidence=EvidenceStep.of(r))
            for r in sorted(kept, key=lambda r: r.key)
        ],
        groups=groups,
    )


def drawn_neighborhood(
    store: GraphStore,
    entity: str,
    *,
    depth: int = 1,
    shapes: int = VIEW_SHAPES,
    as_of: str | None = None,
) -> Neighborhood:
    """A neighbourhood as a view draws it: at most ``shapes`` shapes, its entities and its folded
    groups counted together, nearest first (``truncated`` says when it cut).

    Raises:
        NotFound: no such entity.
        InvalidRequest: depth or shapes out of range.
    """
    result = neighborhood(store, entity, depth=depth, limit=shapes, as_of=as_of)
    if len(result.nodes) + len(result.groups) > shapes:
        fewer = max(1, shapes - len(result.groups))
        result = neighborhood(store, entity, depth=depth, limit=fewer, as_of=as_of)
    return result


_Fan = tuple[RelType, Literal["in", "out"], NodeKind]
"""A hub's fan: the relationship type, its way seen from the hub, and the members' kind."""


class _Hubs:
    """Which nodes of a neighbourhood are hubs, and the members of their fans (see :class:`GraphGroup`)."""

    def __init__(
        self, store: GraphStore, kinds: Sequence[NodeKind], types: Sequence[RelType], as_of: str | None
    ) -> None:
        self.store = store
        self.kinds = set(kinds)
        self.types = list(types)
        self.as_of = as_of
        self.totals: dict[str, int] | None = None
        self.found: dict[tuple[str, _Fan], list[tuple[str, RelType, str]]] = {}
        """(hub, fan) → its members, each with the key of its relationship to the hub."""

    def fans(self, frontier: Sequence[str]) -> dict[str, dict[_Fan, set[str]]]:
        """The folded fans of the frontier's hubs: for each hub, each fan's member ids.

        Only the hops that may make a fan are read: the degrees by type and way tell, unread,
        which reach ``HUB_MIN`` and the share of a kind the ontology allows at their other end."""
        degrees = self.store.degrees(frontier, types=self.types)
        busy = [i for i, d in degrees.items() if d >= HUB_MIN]
        out: dict[str, dict[_Fan, set[str]]] = {}
        for way in ("in", "out"):
            busy_way = (
                [
                    i
                    for i, d in self.store.degrees(busy, direction=way, types=self.types).items()
                    if d >= HUB_MIN
                ]
                if busy
                else []
            )
            for rel_type in (self.types or list(RelType)) if busy_way else ():
                for hub, count in self.store.degrees(busy_way, direction=way, types=[rel_type]).items():
                    ends = _ends(kind_of_id(hub), rel_type, way)
                    wanted = [k for k in ends if not self.kinds or k in self.kinds]
                    if count >= HUB_MIN and any(count >= HUB_SHARE * self._total(k) for k in wanted):
                        self._read_fan(hub, rel_type, way, ends, out)
        return out

    def _read_fan(
        self,
        hub: str,
        rel_type: RelType,
        way: Literal["in", "out"],
        ends: Sequence[NodeKind],
        out: dict[str, dict[_Fan, set[str]]],
    ) -> None:
        hops = self.store.neighbor_hops(
            [hub], direction=way, types=[rel_type], as_of=self.as_of, limit=None
        ).get(hub, [])
        by_kind: dict[NodeKind, list[str]] = {}
        for other, _, _ in hops:
            by_kind.setdefault(ends[0] if len(ends) == 1 else kind_of_id(other), []).append(other)
        for kind, members in by_kind.items():
            if self.kinds and kind not in self.kinds:
                continue
            if len(members) < HUB_MIN or len(members) < HUB_SHARE * self._total(kind):
                continue
            unique = list(dict.fromkeys(members))
            self.found[(hub, (rel_type, way, kind))] = [
                (m, rel_type, hub) if way == "in" else (hub, rel_type, m) for m in unique
            ]
            out.setdefault(hub, {})[(rel_type, way, kind)] = set(unique)

    def groups(
        self,
        nodes: dict[str, Node],
        depths: dict[str, int],
        edges: dict[tuple[str, str, str], Relationship],
    ) -> list[GraphGroup]:
        """The groups of the fans folded, less the members drawn on their own (whose
        relationship to the hub is added to ``edges``)."""
        out = []
        drawn_keys = [
            (key[0] if key[2] == hub else key[2], key)
            for (hub, _), members in self.found.items()
            if hub in nodes
            for key in members
        ]
        wanted = {key for member, key in drawn_keys if member in nodes and key not in edges}
        edges.update(self.store.get_relationships(wanted))
        folded_ids: dict[tuple[str, _Fan], list[str]] = {}
        for (hub, fan), members in self.found.items():
            if hub not in nodes:
                continue
            ids = [key[0] if key[2] == hub else key[2] for key in members]
            folded_ids[(hub, fan)] = [i for i in ids if i not in nodes]
        shown = {i for ids in folded_ids.values() for i in sorted(ids)[:GROUP_SHOWN]}
        members_of = self.store.get_nodes(shown)
        for (hub, fan), ids in sorted(
            folded_ids.items(), key=lambda kv: (kv[0][0], kv[0][1][0].value, kv[0][1][1], kv[0][1][2].value)
        ):
            if not ids:
                continue
            rel_type, way, kind = fan
            level = depths[hub] + 1
            out.append(
                GraphGroup(
                    id=f"group:{hub}:{rel_type.value}:{way}:{kind.value}",
                    hub=hub,
                    type=rel_type,
                    direction=way,
                    kind=kind,
                    count=len(self.found[(hub, fan)]),
                    depth=level,
                    members=[
                        _graph_node(members_of[i], level)
                        for i in sorted(ids)[:GROUP_SHOWN]
                        if i in members_of
                    ],
                    folded=len(ids),
                )
            )
        return out

    def _total(self, kind: NodeKind) -> int:
        if self.totals is None:
            self.totals = self.store.counts().nodes
        return self.totals.get(kind.value, 0)


@functools.lru_cache(maxsize=256)
def _ends(hub_kind: NodeKind, rel_type: RelType, way: str) -> tuple[NodeKind, ...]:
    """The kinds the ontology allows at the other end of a hub's relationships of a type and way."""
    found = {
        (s if way == "in" else t) for s, t in ALLOWED_PAIRS[rel_type] if (t if way == "in" else s) is hub_kind
    }
    return tuple(sorted(found, key=lambda k: k.value))


def _around(
    store: GraphStore,
    node_id: str,
    fans: dict[_Fan, set[str]],
    kinds: Sequence[NodeKind],
    types: Sequence[RelType],
    limit: int,
) -> list[Neighbor]:
    """A node's neighbours, less those its folded fans hold (read without them, so that a hub's
    other neighbours are not crowded out by the cap)."""
    if not fans:
        return _neighbors(store, node_id, kinds, types, limit)
    folded_types = {fan[0] for fan in fans}
    others = [t for t in (types or list(RelType)) if t not in folded_types]
    found = _neighbors(store, node_id, kinds, others, limit) if others else []
    for rel_type in sorted(folded_types, key=lambda t: t.value):
        for way in ("in", "out"):
            held = [fan[2] for fan in fans if fan[0] is rel_type and fan[1] == way]
            rest = [k for k in (kinds or list(NodeKind)) if k not in held]
            if rest:
                found += store.neighbors(node_id, direction=way, types=[rel_type], kinds=rest, limit=limit)
    return found


def _graph_node(n: Node, depth: int) -> GraphNode:
    return GraphNode(
        id=n.id, kind=n.kind, name=n.name, name_zh=n.name_zh, depth=depth, properties=n.public_view()
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
    """The ``k`` best simple chains between two entities, up to ``max_hops``, explained in words.

    Relationships are followed in either direction; each chain is phrased from the
    source ("China Society of Automotive Engineers — takes part in — … — serves — …").

    Which chains: from each node the walk follows its first ``fanout`` hops (in the order of
    ``GraphStore.neighbors``) that are alive at ``as_of``; a chain is a walk that repeats no
    node, of at most ``max_hops`` hops, whose every node, i hops before the goal, is within
    i hops of it (counted walking out from the goal the same way).

    How they rank — by what the chain passes through, so that a stated chain through a few
    specific nodes beats one through a hub ("both are members of CAST"). A chain's score is
    the product, step by step from the source, of each step's factor::

        factor = BASIS_WEIGHT[basis of the step's relationship]      (stated 1.0, reference 0.9,
                                                                      inferred 0.5)
                 × node_weight(degree of the node the step leaves)   (not for the first step)
                 × node_weight(fan of that node)                     (only where the chain turns)

    ``node_weight(d) = 1 / log2(2 + d)``, d counted over all of the node's relationships
    whatever their type or date: 0.5 for a node with two, 0.13 for one with two hundred. The
    chain *turns* at a node when it arrives and leaves by relationships of one type that both
    point into the node or both out of it ("A and B are both members of X"): sharing a node
    says less than passing through it, so the node weighs again by its fan, the number of
    its relationships of that type pointing that way. Every factor is below 1, so a longer
    chain scores less than its beginning. Best first; equal scores by fewer hops, then the
    ids along the chain, the types, and the directions (``in`` before ``out``).

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
    search = _ChainSearch(store, start, goal.id, types, as_of, fanout)
    chosen = _store_paths(store, start, goal, search.best(k, max_hops))
    return Paths(
        source=NodeRef.of(start),
        target=NodeRef.of(goal),
        max_hops=max_hops,
        count=len(chosen),
        paths=[evidence_path(p) for p, _ in chosen],
        scores=[score for _, score in chosen],
    )


def node_weight(degree: int) -> float:
    """How much passing through a node counts in a chain's score: 1 / log2(2 + degree)."""
    return 1.0 / math.log2(2 + degree)


_Chain = tuple[tuple[str, ...], tuple[tuple[RelType, str], ...]]
"""A chain by ids: the nodes along it, and for each hop its type and its direction (``out``
when the relationship starts at the node before the hop)."""


class _ChainSearch:
    """The chains of :func:`paths_between`, found by ids; models are built only for those returned.

    Which chains those are: from a node the walk follows its first ``fanout`` hops (in the
    order of ``GraphStore.neighbors``) that are alive, so at a hub the relation "y is among x's
    hops" need not hold the other way. The distance of a node from the goal is counted along
    that relation walking out from the goal. A chain of n hops is kept when each node on it,
    i hops before the goal, is within i of the goal; they rank by score (see
    :func:`paths_between`).

    How they are found: best first (:meth:`best`). Every step's factor is below 1, so a chain
    scores no more than any beginning of it, and the beginnings taken from a heap, best first,
    reach the goal in the order of the ranking. A beginning is extended only to nodes that may
    still reach the goal within the hops left: the distances from the goal prune where they
    are known, :meth:`reaches` where they are not. The distances are known exactly out to a
    radius only, grown while reading its next level stays cheap; at a hub the next level can
    hold most of the graph. A chain found has its nodes beyond the radius checked one by one
    (see :meth:`within`), most often by the hop back from its successor on the chain.
    """

    def __init__(
        self,
        store: GraphStore,
        start: Node,
        goal: str,
        types: Sequence[RelType],
        as_of: str | None,
        fanout: int,
    ) -> None:
        self.store = store
        self.types = list(types)
        self.as_of = as_of
        self.fanout = fanout
        self.start = start.id
        self.start_alive = alive(start, as_of)
        self.goal = goal
        self.raw: dict[str, list[Hop]] = {}
        """Node → its hops, as ``GraphStore.neighbor_hops`` gives them: for nodes on chains found."""
        self.hops: dict[str, dict[str, None]] = {}
        """Node → the neighbours its hops reach, in hop order (a set that keeps its order)."""
        self.distance: dict[str, int] = {goal: 0}
        """Distances from the goal: exact, and every node within ``radius`` is here."""
        self.frontier = [goal]
        self.radius = 0
        self.complete = False
        """True once the distances hold every node the goal reaches (no radius limits them)."""
        self.answers: dict[tuple[str, int], bool] = {}
        """Answers of :meth:`within` beyond the radius, by (node, hops)."""
        self.reach: dict[tuple[str, int], bool] = {}
        """Answers of :meth:`reaches`, by (node, hops)."""
        self.everyone: dict[str, list[str]] = {}
        """Node → its neighbours, uncapped (see :meth:`around`)."""
        self.degrees: dict[str, int] = {}
        """Node → how many hops it has, uncapped (see ``GraphStore.degrees``)."""
        self.weights: dict[str, float] = {}
        """Node → its :func:`node_weight`, by its degree over every type."""
        self.fan_weights: dict[tuple[str, RelType, str], float] = {}
        """(node, type, direction) → the :func:`node_weight` of that fan of the node."""
        self.bases: dict[tuple[str, str, str], Basis] = {}
        """Relationship key → its basis, for the hops of the nodes the walk extends from."""
        self.grow()

    def best(self, k: int, max_hops: int) -> list[tuple[_Chain, float]]:
        """The first ``k`` chains in the ranking, each with its score."""
        while not self.complete and self.radius < max_hops - 1 and not self.costs_more(self.frontier, _CHEAP):
            self.grow()
        goal = self.goal
        chosen: list[tuple[_Chain, float]] = []
        # (-bound, hops, ids, type names, directions, score, the steps, whether the bound is
        # exact): the last three decide no comparison, as no two entries agree on the ids, types
        # and directions together
        heap: list[
            tuple[
                float,
                int,
                tuple[str, ...],
                tuple[str, ...],
                tuple[str, ...],
                float,
                tuple[tuple[RelType, str], ...],
                bool,
            ]
        ]
        heap = [(-1.0, 0, (self.start,), (), (), 1.0, (), True)]
        while heap and len(chosen) < k:
            negative, length, ids, names, ways, score, steps, exact = heapq.heappop(heap)
            here = ids[-1]
            if here == goal:
                if all(
                    self.within(ids[i], length - i, hints=(ids[i + 1],)) for i in range(length - 1, -1, -1)
                ):
                    chosen.append(((ids, steps), score))
                continue
            left = max_hops - length
            if not exact:  # checked only now: most beginnings pushed are never taken
                self.read_weights([here])
                # whether a walk leads from the node back to the goal is asked (it prunes, it never
                # decides what is kept) only where reading the node's hops would cost more: a
                # busy node the goal's walk does not reach within the hops left
                if (
                    self.weights[here] < _BUSY
                    and self.distance.get(here, left + 1) > left
                    and not self.leads(here, left)
                ):
                    continue
                bound = self.bound(here, score)
                if bound < -negative:
                    heapq.heappush(heap, (-bound, length, ids, names, ways, score, steps, True))
                    continue
            hops = [
                (other, rel_type, way)
                for other, rel_type, way in self.raw_hops(here)
                if other not in ids and (other == goal or (left > 1 and self.may(other, left - 1)))
            ]
            if not hops:
                continue
            self.read_bases(here, hops)
            if length:
                self.read_weights([here])
            weight = self.weights[here] if length else 1.0
            for other, rel_type, way in hops:
                key = (here, rel_type.value, other) if way == "out" else (other, rel_type.value, here)
                factor = BASIS_WEIGHT[self.bases[key]]
                if length:
                    factor *= weight
                    last_type, last_way = steps[-1]
                    if last_type is rel_type and last_way != way:
                        factor *= self.fan_weight(here, rel_type, "in" if way == "in" else "out")
                reached = score * factor
                heapq.heappush(
                    heap,
                    (
                        -(reached if other == goal else self.bound(other, reached, _MOST)),
                        length + 1,
                        (*ids, other),
                        (*names, rel_type.value),
                        (*ways, way),
                        reached,
                        (*steps, (rel_type, way)),
                        other == goal,
                    ),
                )
        return chosen

    def bound(self, node_id: str, score: float, weight: float | None = None) -> float:
        """The most a chain can score that goes on from a beginning ending at the node (not the
        goal): leaving it weighs its :func:`node_weight` (at most ``_MOST`` before it is known),
        and each node after it but the goal at most ``_MOST`` too; there are as many as its
        distance from the goal less one.
        """
        score *= self.weights[node_id] if weight is None else weight
        for _ in range(self.distance.get(node_id, self.radius + 1) - 1):
            score *= _MOST
        return score

    def leads(self, node_id: str, most: int) -> bool:
        """Whether a walk of at most ``most`` hops leads from the node to the goal (see :meth:`reaches`)."""
        return any(self.reaches(node_id, hops) for hops in range(1, most + 1))

    def raw_hops(self, node_id: str) -> list[Hop]:
        """The node's hops with their types and directions, as ``GraphStore.neighbor_hops`` gives them."""
        hops = self.raw.get(node_id)
        if hops is None:
            found = self.store.neighbor_hops([node_id], types=self.types, as_of=self.as_of, limit=self.fanout)
            hops = self.raw[node_id] = found.get(node_id, [])
        return hops

    def read_bases(self, node_id: str, hops: Sequence[Hop]) -> None:
        """Learn the basis of each of the node's hops not known yet, all at once."""
        keys = {
            (node_id, t.value, o) if way == "out" else (o, t.value, node_id) for o, t, way in hops
        }.difference(self.bases)
        if keys:
            found = self.store.get_relationships(keys)
            self.bases.update((key, rel.provenance.basis) for key, rel in found.items())
            self.bases.update((key, Basis.INFERRED) for key in keys if key not in found)  # removed meanwhile

    def read_weights(self, node_ids: Sequence[str]) -> None:
        """Learn the :func:`node_weight` of the nodes not known yet (by their degrees over every
        type and date), all at once."""
        missing = [i for i in node_ids if i not in self.weights]
        if missing:
            degrees = self.store.degrees(missing)
            self.weights.update((i, node_weight(degrees.get(i, 0))) for i in missing)

    def fan_weight(self, node_id: str, rel_type: RelType, direction: Literal["in", "out"]) -> float:
        """The :func:`node_weight` of the node's relationships of a type pointing one way."""
        key = (node_id, rel_type, direction)
        found = self.fan_weights.get(key)
        if found is None:
            degree = self.store.degrees([node_id], direction=direction, types=[rel_type]).get(node_id, 0)
            found = self.fan_weights[key] = node_weight(degree)
        return found

    def reaches(self, node_id: str, hops: int) -> bool:
        """Whether a walk of ``hops`` hops leads from the node to the goal, through nodes that
        :meth:`may` be near enough the goal, neither end of the chain but at its end.

        Every chain through the node needs one (a chain is such a walk that repeats no node),
        so where there is none the walk from the start goes no further; remembered per node
        and length, it keeps that walk from trying every path into a part of the graph whose
        hops do not lead back to the goal (at a hub, the goal may be far down the hub's list).
        """
        key = (node_id, hops)
        answer = self.reach.get(key)
        if answer is not None:
            return answer
        self.read([node_id])
        if hops == 1:
            answer = self.goal in self.hops[node_id]
        else:
            answer = False
            candidates = self.possible(self.hops[node_id], hops - 1)
            read = 0
            for i, other in enumerate(candidates):
                if i == read:
                    read = min(len(candidates), 2 * read + 2)
                    self.read(candidates[i:read])
                if self.reaches(other, hops - 1):
                    answer = True
                    break
        self.reach[key] = answer
        return answer

    def possible(self, node_ids: Iterable[str], hops: int) -> list[str]:
        """The nodes that may be on a chain ``hops`` before the goal: not its ends, and maybe
        (see :meth:`may`) within ``hops`` of the goal."""
        distance = self.distance
        ends = (self.start, self.goal)
        if self.complete or hops <= self.radius:
            return [o for o in node_ids if distance.get(o, hops + 1) <= hops and o not in ends]
        answers = self.answers
        return [o for o in node_ids if o not in ends and (o in distance or answers.get((o, hops), True))]

    def may(self, node_id: str, hops: int) -> bool:
        """Whether the node may be within ``hops`` of the goal, as far as is known without reading."""
        distance = self.distance.get(node_id)
        if distance is not None:
            return distance <= hops
        if self.complete or hops <= self.radius:
            return False
        return self.answers.get((node_id, hops), True)

    def within(self, node_id: str, hops: int, hints: Iterable[str] = ()) -> bool:
        """Whether the node is within ``hops`` of the goal (walking out from the goal).

        Beyond the radius: yes when a hint (a node within ``hops - 1`` whose hops reach this
        one) says so; else from the node's own neighbours, those whose hops reach it, each
        asked the same one hop less (on the radius, one hop beyond, they answer from the
        distances), unless growing the radius reads fewer hops than that.
        """
        while True:
            distance = self.distance.get(node_id)
            if distance is not None:
                return distance <= hops
            if self.complete or hops <= self.radius:
                return False
            key = (node_id, hops)
            answer = self.answers.get(key)
            if answer is not None:
                return answer
            if node_id == self.start and not self.start_alive:
                answer = False  # nothing's hops reach a node that is not alive
            elif any(node_id in self.hops.get(h, ()) and self.within(h, hops - 1) for h in hints):
                answer = True
            elif self.cheaper_to_grow(node_id, hops - self.radius):
                self.grow()
                continue
            else:
                if hops == self.radius + 1:
                    around = [u for u in self.around(node_id) if self.distance.get(u) == self.radius]
                else:  # those within the radius first: they need only reach the node
                    around = sorted(self.around(node_id), key=lambda u: u not in self.distance)
                self.read(around)
                answer = any(node_id in self.hops[u] and self.within(u, hops - 1) for u in around)
            self.answers[key] = answer
            return answer

    def cheaper_to_grow(self, node_id: str, beyond: int) -> bool:
        """Whether growing the radius reads no more hops than asking a node ``beyond`` hops
        past it through its neighbours would: the node's hops, and (two or more past) its
        neighbours' hops too (beyond two, a guess: those are asked through their own)."""
        asking = self.degree(node_id)
        if beyond > 1 and self.costs_more(self.frontier, asking):
            asking += self.cost(self.around(node_id), capped=False)
        return not self.costs_more(self.frontier, asking)

    def around(self, node_id: str) -> list[str]:
        """The node's neighbours, uncapped, those alive (and the relationship to them) at the date."""
        found = self.everyone.get(node_id)
        if found is None:
            hops = self.store.neighbor_hops([node_id], types=self.types, as_of=self.as_of, limit=None)
            found = self.everyone[node_id] = list(dict.fromkeys(map(_neighbour, hops.get(node_id, ()))))
        return found

    def grow(self) -> None:
        """Take the distances from the goal one hop further out."""
        self.read(self.frontier)
        self.radius += 1
        level = []
        distance = self.distance
        for here in self.frontier:
            for other in self.hops[here]:
                if other not in distance:
                    distance[other] = self.radius
                    level.append(other)
        self.frontier = level
        self.complete = not level

    def cost(self, node_ids: Sequence[str], capped: bool = True) -> int:
        """How many hops reading the nodes' hops reads (all of them, unless ``capped``)."""
        cap = max(self.fanout, 0) if capped else None
        return sum(n if cap is None else min(n, cap) for n in self.degrees_of(node_ids).values())

    def costs_more(self, node_ids: Sequence[str], than: int) -> bool:
        """Whether reading the nodes' (capped) hops reads more than ``than`` hops; the degrees
        are asked for a batch at a time, only until the answer is known."""
        total = 0
        for start in range(0, len(node_ids), 1024):
            total += self.cost(node_ids[start : start + 1024])
            if total > than:
                return True
        return False

    def degree(self, node_id: str) -> int:
        """How many hops the node has, uncapped."""
        return self.degrees_of([node_id])[node_id]

    def degrees_of(self, node_ids: Sequence[str]) -> dict[str, int]:
        missing = [i for i in node_ids if i not in self.degrees]
        if missing:
            self.degrees.update(self.store.degrees(missing, types=self.types))
        return {i: self.degrees[i] for i in node_ids}

    def read(self, node_ids: Iterable[str]) -> None:
        """Read the hops of the nodes not read yet, all at once."""
        missing = [i for i in dict.fromkeys(node_ids) if i not in self.hops]
        if not missing:
            return
        found = self.store.neighbor_hops(missing, types=self.types, as_of=self.as_of, limit=self.fanout)
        for node_id in missing:
            # the hops themselves are let go (read again for the few nodes on chains, see
            # options): kept, tens of thousands of them outlive collections of the young
            # generation and bring on a full one, which walks every object made since the
            # graph was loaded (at a city's scale, a few tenths of a second)
            self.hops[node_id] = dict.fromkeys(map(_neighbour, found.get(node_id, ())))


_neighbour = operator.itemgetter(0)
_CHEAP = 2_000
_BUSY = node_weight(16)
"""A node of more hops than this is asked whether it leads to the goal before it is walked on from."""
_MOST = 0.5
"""The most a node weighs that a chain passes through: it has two relationships at least, and
``node_weight(2)`` is 1/2."""
"""Before the walk, the distances from the goal grow while their next level reads fewer hops."""


def _store_paths(
    store: GraphStore, start: Node, goal: Node, chains: list[tuple[_Chain, float]]
) -> list[tuple[StorePath, float]]:
    """The chains with their nodes and relationships, and their scores; one whose parts a write
    removed meanwhile is left out."""
    nodes = store.get_nodes({i for (ids, _), _ in chains for i in ids[1:-1]})
    nodes[start.id] = start
    nodes[goal.id] = goal

    def key(a: str, b: str, rel_type: RelType, way: str) -> tuple[str, str, str]:
        return (a, rel_type.value, b) if way == "out" else (b, rel_type.value, a)

    rels = store.get_relationships(
        {key(ids[i], ids[i + 1], *hop) for (ids, hops), _ in chains for i, hop in enumerate(hops)}
    )
    out = []
    for (ids, hops), score in chains:
        keys = [key(ids[i], ids[i + 1], *hop) for i, hop in enumerate(hops)]
        if all(i in nodes for i in ids) and all(k in rels for k in keys):
            path = StorePath(nodes=tuple(nodes[i] for i in ids), relationships=tuple(rels[k] for k in keys))
            out.append((path, score))
    return out


def _neighbors(
    store: GraphStore, node_id: str, kinds: Sequence[NodeKind], types: Sequence[RelType], limit: int
) -> list[Neighbor]:
    return store.neighbors(node_id, direction="both", types=list(types), kinds=list(kinds), limit=limit)
