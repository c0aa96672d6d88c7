"""Exploring around entities: the neighbourhood of one, and the chains that join two.

Example:
    >>> neighborhood(store, "society:cmes", depth=2).nodes  # doctest: +SKIP
    >>> paths_between(store, "society:csae", "industry:wz:auto-parts").paths[0].sentence  # doctest: +SKIP
    'China Society of Automotive Engineers — serves — Auto parts'
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Sequence

from pydantic import Field

from graph_service.errors import InvalidRequest
from graph_service.ontology import Node, NodeKind, Relationship, RelType
from graph_service.store import GraphStore, Hop, Neighbor
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
    search = _ChainSearch(store, start, goal.id, types, as_of, fanout)
    chosen = _store_paths(store, start, goal, search.shortest(k, max_hops))
    return Paths(
        source=NodeRef.of(start),
        target=NodeRef.of(goal),
        max_hops=max_hops,
        count=len(chosen),
        paths=[evidence_path(p) for p in chosen],
    )


_Chain = tuple[tuple[str, ...], tuple[tuple[RelType, str], ...]]
"""A chain by ids: the nodes along it, and for each hop its type and its direction (``out``
when the relationship starts at the node before the hop)."""


class _ChainSearch:
    """The chains of :func:`paths_between`, found by ids; models are built only for those returned.

    Which chains those are: from a node the walk follows its first ``fanout`` hops (in the
    order of ``GraphStore.neighbors``) that are alive, so at a hub the relation "y is among x's
    hops" need not hold the other way. The distance of a node from the goal is counted along
    that relation walking out from the goal. A chain of n hops is kept when each node on it,
    i hops before the goal, is within i of the goal; and chains are taken from the length
    that is the start's own distance from the goal up to ``max_hops``, shortest first, then
    by the ids along them, the types, and the directions (against the arrow first).

    How it is found cheaply, by ids only (``GraphStore.neighbor_hops``): the distances from
    the goal are known exactly out to a radius only, grown while reading its next level costs
    fewer hops (``GraphStore.degrees``) than the farthest level from the start that the walk
    would otherwise take unpruned; at a hub the next level can hold most of the graph. The
    walk from the start takes neighbours in id order, so chains of one length come out in
    order and it stops once it has enough; it prunes with the distances where they tell, and
    where no walk at all leads on from a node to the goal (remembered per node and length).
    A chain found has its nodes beyond the radius checked one by one (see :meth:`within`),
    most often by the hop back from its successor on the chain.
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
        self.by_id: dict[str, list[str]] = {}
        """Node → its neighbours in id order (for the walk, which yields chains in order)."""
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
        self.levels: list[list[str]] = [[start.id]]
        """The nodes each number of hops from the start reaches, along any walk."""
        self.grow()

    def shortest(self, k: int, max_hops: int) -> list[_Chain]:
        """The first ``k`` chains, shortest first."""
        chosen: list[_Chain] = []
        reached = False  # whether the start is known to be within the current length of the goal
        for length in range(1, max_hops + 1):
            if not reached:
                distance = self.distance.get(self.start)
                if distance is None and self.complete:
                    break  # the goal never reaches the start: no chain counts
                if distance is not None and distance > length:
                    continue
                reached = distance is not None
            found = self.chains(length, k - len(chosen))
            if not found:
                continue
            if not reached:
                reached = self.within(self.start, length, hints=[ids[1] for ids, _ in found])
                if not reached:
                    continue
            chosen.extend(found[: k - len(chosen)])
            if len(chosen) >= k:
                break
        return chosen

    def chains(self, length: int, wanted: int) -> list[_Chain]:
        """The first ``wanted`` chains of ``length`` hops in order (more when the last chains
        taken share their nodes with others)."""
        self.balance(length)
        if length - 1 > self.radius and not self.complete:
            self.level(length - 1 - self.radius)  # the levels the distances do not prune, read whole
        found: list[_Chain] = []
        ids = [self.start]
        on_chain = {self.start}
        goal = self.goal

        def visit(here: str, left: int) -> bool:
            if left == 1:
                if goal in self.hops[here]:
                    ids.append(goal)
                    self.keep(ids, found)
                    ids.pop()
                return len(found) >= wanted
            nearer = left - 1
            candidates = [o for o in self.possible(self.in_order(here), nearer) if o not in on_chain]
            read = 0  # candidates whose hops are read: in batches that double, as the walk may stop early
            for i, other in enumerate(candidates):
                if i == read:
                    read = min(len(candidates), 2 * read + 2)
                    self.read(candidates[i:read])
                # a check made meanwhile may have ruled it out
                if not self.may(other, nearer) or not self.reaches(other, nearer):
                    continue
                ids.append(other)
                on_chain.add(other)
                stop = visit(other, nearer)
                ids.pop()
                on_chain.discard(other)
                if stop:
                    return True
            return False

        self.read(ids)
        visit(self.start, length)
        return found

    def keep(self, ids: list[str], found: list[_Chain]) -> None:
        """Add the chains along these nodes, if every node is near enough the goal."""
        length = len(ids) - 1
        for i in range(length - 1, 0, -1):
            if not self.within(ids[i], length - i, hints=(ids[i + 1],)):
                return
        options = [self.options(ids[i], ids[i + 1]) for i in range(length)]
        combos = sorted(
            itertools.product(*options), key=lambda c: ([t.value for t, _ in c], [way for _, way in c])
        )
        found.extend((tuple(ids), combo) for combo in combos)

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

    def balance(self, length: int) -> None:
        """Grow the radius while reading its next level costs no more than reading the farthest
        level from the start that the walk would otherwise take unpruned."""
        while not self.complete and length - 1 > self.radius:
            farthest = self.level(length - 1 - self.radius)
            if self.costs_more(self.frontier, self.cost(farthest)):
                break
            self.grow()

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

    def level(self, hops: int) -> list[str]:
        """The nodes ``hops`` hops from the start along any walk (neither end included)."""
        while len(self.levels) <= hops:
            last = self.levels[-1]
            self.read(last)
            ends = {self.start, self.goal}
            self.levels.append(
                list(dict.fromkeys(o for here in last for o in self.hops[here] if o not in ends))
            )
        return self.levels[hops]

    def in_order(self, node_id: str) -> list[str]:
        """The neighbours the node's hops reach, in id order."""
        ordered = self.by_id.get(node_id)
        if ordered is None:
            ordered = self.by_id[node_id] = sorted(self.hops[node_id])
        return ordered

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

    def options(self, here: str, there: str) -> list[tuple[RelType, str]]:
        """The (type, direction) of each of a node's hops to a neighbour, in hop order."""
        hops = self.raw.get(here)
        if hops is None:
            found = self.store.neighbor_hops([here], types=self.types, as_of=self.as_of, limit=self.fanout)
            hops = self.raw[here] = found.get(here, [])
        return [(rel_type, way) for other, rel_type, way in hops if other == there]


_neighbour = operator.itemgetter(0)


def _store_paths(store: GraphStore, start: Node, goal: Node, chains: list[_Chain]) -> list[StorePath]:
    """The chains with their nodes and relationships; one whose parts a write removed meanwhile is left out."""
    nodes = store.get_nodes({i for ids, _ in chains for i in ids[1:-1]})
    nodes[start.id] = start
    nodes[goal.id] = goal

    def key(a: str, b: str, rel_type: RelType, way: str) -> tuple[str, str, str]:
        return (a, rel_type.value, b) if way == "out" else (b, rel_type.value, a)

    rels = store.get_relationships(
        {key(ids[i], ids[i + 1], *hop) for ids, hops in chains for i, hop in enumerate(hops)}
    )
    out = []
    for ids, hops in chains:
        keys = [key(ids[i], ids[i + 1], *hop) for i, hop in enumerate(hops)]
        if all(i in nodes for i in ids) and all(k in rels for k in keys):
            out.append(
                StorePath(nodes=tuple(nodes[i] for i in ids), relationships=tuple(rels[k] for k in keys))
            )
    return out


def _neighbors(
    store: GraphStore, node_id: str, kinds: Sequence[NodeKind], types: Sequence[RelType], limit: int
) -> list[Neighbor]:
    return store.neighbors(node_id, direction="both", types=list(types), kinds=list(kinds), limit=limit)
