"""The embedded backend: a networkx multigraph in the process, saved as an atomic JSON snapshot.

The multigraph is kept as one networkx ``DiGraph`` per relationship type (a
relationship's identity is (source, type, target), so each type holds at most one
edge per ordered pair). Following the relationships of given types from a node is
then a dictionary lookup per type, however many relationships of other types the
node has: a hub industry with a hundred thousand enterprises answers "who SERVES
it?" without looking at them.

The snapshot is plain JSON (no pickle), validated through the ontology when it is
opened, so a snapshot from someone else can do no more than fail to load. It is
written column-wise: per node kind one array per field, per relationship type one
array per field with the ends given by the nodes' positions, provenance as an index
into a shared table. A column is checked as a whole (by the field's own pydantic
validator, which runs over a list in one call, or one regular expression over all
the ids of a kind), and relationships per distinct value (kind pair, provenance,
date, role), so that reading a city's million relationships costs a few seconds
and never trusts what it reads. Saving
writes a temporary file beside the snapshot, fsyncs it, renames it over the old
one and fsyncs the directory: a process killed at any point leaves either the
previous snapshot or the new one, whole.
"""

from __future__ import annotations

import contextlib
import glob
import heapq
import itertools
import operator
import os
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from itertools import chain, compress, islice, repeat
from pathlib import Path as FsPath
from types import MappingProxyType
from typing import Any, Literal, TypeVar

import networkx as nx
import orjson
from pydantic import TypeAdapter, ValidationError

from graph_service.core.errors import BackendUnavailable, GraphServiceError, InvalidRequest
from graph_service.core.memory import collector_paused, keep_out_of_collections, kept
from graph_service.core.ontology import (
    ACYCLIC_TYPES,
    ALLOWED_PAIRS,
    ID_PREFIX,
    NODE_MODELS,
    Basis,
    Node,
    NodeKind,
    PartialDate,
    Provenance,
    Relationship,
    RelationshipColumns,
    RelType,
    Text,
    alive,
    assemble_nodes,
    assemble_relationship,
    column_adapter,
    ids_of_kind,
    in_period,
    normalize_name,
    provenance,
    relationship_from_props,
    starts_within,
)
from graph_service.core.store import (
    DEFAULT_LIMIT,
    UNIT_WEIGHTS,
    Direction,
    GraphCounts,
    Hop,
    Neighbor,
    Path,
    PathsOnRead,
    PathStep,
    PathTally,
    Started,
    Subgraph,
    WriteCounts,
    WriteSummary,
)

__all__ = ["SNAPSHOT_FORMAT", "EmbeddedStore"]

SNAPSHOT_FORMAT = "innograph-snapshot"
SNAPSHOT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
"""Snapshot versions this innograph opens: 1 (one entry per row), 2 (relationships
column-wise) and 3 (nodes column-wise per kind too, relationships' ends by position)."""

RelKey = tuple[str, str, str]

SETTLE_AT = 50_000
"""Nodes plus relationships from which a loaded graph is frozen out of the garbage collector."""

_GENERATIONS = itertools.count(1)
"""Generations of every embedded store of the process: two different graphs never share one."""


class EmbeddedStore:
    """A ``GraphStore`` on networkx graphs (one per relationship type), optionally backed by a snapshot file.

    Args:
        path: the snapshot file; read at start when it exists, written by :meth:`persist`.
            ``None`` keeps the graph in memory only.

    Example:
        >>> store = EmbeddedStore(None)
        >>> store.counts().total_nodes
        0
    """

    name = "embedded"
    local_generation = True
    load_batch_size: int | None = None

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = FsPath(path) if path is not None else None
        self._lock = threading.RLock()
        self._walks: dict[tuple[int, tuple[_ManyStep, ...], str | None, bool], _ManyEnds] = {}
        """Walks from many starts kept for the generation they read (see :meth:`_many_walk`)."""
        self._walks_lock = threading.Lock()  # made once: readers may hold it while clear() runs
        self._reset()
        if self.path is not None and self.path.exists():
            with collector_paused():  # settled before the collector runs again (see _settle)
                self._load_snapshot(self.path)
                self._settle()
        self._dirty = False

    # -- writes -------------------------------------------------------------

    def upsert_nodes(self, nodes: Sequence[Node]) -> WriteSummary:
        """Create or replace nodes by id."""
        with self._lock:
            table = self._nodes
            ids = list(map(operator.attrgetter("id"), nodes))
            size = len(table)
            if not any(map(table.__contains__, ids)):  # all new (a first load): in bulk
                table.update(zip(ids, nodes, strict=True))
                if len(table) - size < len(ids):  # an id repeats in the batch: undo, one by one below
                    _consume(map(table.pop, ids, repeat(None)))
            if len(table) == size:
                tallies = self._replace_nodes(nodes)
            else:
                tallies = {}
                for kind, positions in _positions_by_value(
                    list(map(operator.attrgetter("kind"), nodes))
                ).items():
                    self._by_kind[kind].update(map(ids.__getitem__, positions))
                    tallies[kind] = [len(positions), 0, 0]
                if self._names is not None:
                    for node in nodes:
                        self._index_names(node)
            summary = WriteSummary(nodes={kind.value: WriteCounts(*tally) for kind, tally in tallies.items()})
            if summary.changed:
                self._dirty = True
                self._generation = next(_GENERATIONS)
                self._forget_walks()
        return summary

    def _replace_nodes(self, nodes: Sequence[Node]) -> dict[NodeKind, list[int]]:
        """Write nodes one by one; how many of each kind were created, updated, unchanged."""
        tallies: dict[NodeKind, list[int]] = {}
        table, by_kind = self._nodes, self._by_kind
        for node in nodes:
            kind = node.kind
            tally = tallies.get(kind)
            if tally is None:
                tally = tallies[kind] = [0, 0, 0]
            old = table.get(node.id)
            if old is None:
                tally[0] += 1
                by_kind[kind].add(node.id)
            elif old == node:
                tally[2] += 1
                continue
            else:
                tally[1] += 1
                self._unindex_names(old)
            table[node.id] = node
            self._index_names(node)
        return tallies

    def upsert_relationships(self, relationships: Sequence[Relationship]) -> WriteSummary:
        """Create or replace relationships by (source, type, target); endpoints must exist.

        Relationships given as :class:`RelationshipColumns` are kept packed (their facts
        tuple) and built on first read, as a snapshot's are (see _rel_of).
        """
        if isinstance(relationships, RelationshipColumns):
            sources, types, targets = relationships.sources, relationships.types, relationships.targets
            facts: Sequence[Relationship | _Packed] = relationships.facts
        else:
            sources = list(map(operator.attrgetter("source"), relationships))
            types = list(map(operator.attrgetter("type"), relationships))
            targets = list(map(operator.attrgetter("target"), relationships))
            facts = relationships
        with self._lock:
            nodes = self._nodes
            if not (all(map(nodes.__contains__, sources)) and all(map(nodes.__contains__, targets))):
                missing = sorted({i for i in itertools.chain(sources, targets) if i not in nodes})
                raise InvalidRequest(
                    f"relationships point at {len(missing)} missing node(s): " + ", ".join(missing[:10])
                )
            tallies: dict[str, list[int]] = {}  # type → created, updated, unchanged
            for rel_type, positions in _positions_by_value(types).items():
                tally = tallies[rel_type.value] = self._write_layer(
                    rel_type.value,
                    map(sources.__getitem__, positions),
                    map(targets.__getitem__, positions),
                    map(facts.__getitem__, positions),
                )
                self._rel_counts[rel_type.value] = self._rel_counts.get(rel_type.value, 0) + tally[0]
            summary = WriteSummary(
                relationships={name: WriteCounts(*tally) for name, tally in tallies.items()}
            )
            if summary.changed:
                self._dirty = True
                self._generation = next(_GENERATIONS)
                self._forget_walks()
        return summary

    def _write_layer(
        self,
        name: str,
        sources: Iterable[str],
        targets: Iterable[str],
        facts: Iterable[Relationship | _Packed],
    ) -> list[int]:
        """Write one type's relationships into its layer; how many were created, updated, unchanged.

        Written straight into the layer's dict-of-dicts (networkx's documented structure:
        ``_node``, ``_succ``, ``_pred``), one attribute dict per edge shared by both
        directions, as ``add_edge`` makes (a layer keeps nothing on its nodes: one read-only
        attribute map for all, as the snapshot reader makes), and a node with no neighbours in
        a direction has the one read-only ``_NO_NEIGHBOURS`` there until it gets some.
        """
        layer = self._layer(name)
        succ, pred, ends = layer._succ, layer._pred, layer._node
        unsorted = self._unsorted
        created = updated = unchanged = 0
        for source, target, fact in zip(sources, targets, facts, strict=True):
            out = succ.get(source)
            if out is None:
                out = succ[source] = {}
                pred[source] = _NO_NEIGHBOURS
                ends[source] = _NO_ATTRIBUTES
            elif out is _NO_NEIGHBOURS:
                out = succ[source] = {}
            into = pred.get(target)
            if into is None:
                succ[target] = _NO_NEIGHBOURS
                into = pred[target] = {}
                ends[target] = _NO_ATTRIBUTES
            elif into is _NO_NEIGHBOURS:
                into = pred[target] = {}
            data = out.get(target)
            if data is None:
                created += 1
                # a neighbour list put out of id order is noted, and sorted on its first ordered read
                if out and next(reversed(out)) > target:
                    unsorted.add((name, source, True))
                if into and next(reversed(into)) > source:
                    unsorted.add((name, target, False))
            elif _packed(data["m"]) == _packed(fact):
                unchanged += 1
                continue
            else:
                updated += 1
            # a new attribute dict, never an update of the old one: clones share them
            out[target] = into[source] = {"m": fact}
        return [created, updated, unchanged]

    def clear(self) -> None:
        """Remove every node and relationship."""
        with self._lock:
            self._reset()
            self._dirty = True

    @contextlib.contextmanager
    def load_transaction(self) -> Iterator[None]:
        """Nothing to group: loading into a :meth:`clone` and swapping it in is what makes a
        load appear at once here (see the upload route). A finished load settles the graph
        (see :meth:`_settle`)."""
        yield
        self._settle()

    def generation(self) -> str:
        """A number unique in the process to this state of the graph: every write that changes
        it takes a new one once it is done (a reader that saw the old number may have read
        the graph mid-write; one that sees the new number reads it whole). A :meth:`clone`
        shares its original's until either changes."""
        return f"embedded:{self._generation}"

    # -- reads --------------------------------------------------------------

    def get_node(self, node_id: str) -> Node | None:
        """The node with this id, or ``None``."""
        return self._nodes.get(node_id)

    def get_nodes(self, node_ids: Iterable[str]) -> dict[str, Node]:
        """The nodes among these ids that exist."""
        nodes = self._nodes
        return {i: nodes[i] for i in node_ids if i in nodes}

    def find_nodes(
        self,
        kind: NodeKind | None = None,
        where: Mapping[str, Any] | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Node]:
        """Nodes of a kind whose properties equal the given values, ordered by id."""
        out: list[Node] = []
        if limit is not None and limit <= 0:
            return out
        for node in self.iter_nodes(kind):
            if where:
                props = node.to_props()
                if any(props.get(k) != v for k, v in where.items()):
                    continue
            out.append(node)
            if limit is not None and len(out) >= limit:
                break
        return out

    def ids_by_name(self, names: Iterable[str]) -> dict[str, list[str]]:
        """Ids of the nodes answering to each (folded) name."""
        out: dict[str, list[str]] = {}
        for name in names:
            key = normalize_name(name)
            out[key] = sorted(self._name_index().get(key, ()))
        return out

    def get_relationships(self, keys: Iterable[RelKey]) -> dict[RelKey, Relationship]:
        """The relationships among these keys that exist."""
        out: dict[RelKey, Relationship] = {}
        for key in keys:
            layer = self._layers.get(key[1])
            data = layer.get_edge_data(key[0], key[2]) if layer is not None else None
            if data is not None:
                out[key] = _rel_of(data, key[0], _REL_TYPES[key[1]], key[2])
        return out

    def neighbors(
        self,
        node_id: str,
        *,
        direction: Direction = "both",
        types: Sequence[RelType] = (),
        kinds: Sequence[NodeKind] = (),
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Neighbor]:
        """The nodes one hop away, ordered by (type, neighbour id, direction)."""
        if node_id not in self._nodes:
            return []
        nodes = self._nodes
        found: list[Neighbor] = []
        if limit is not None and limit <= 0:
            return found
        for rel, other, way in self._ordered_hops(node_id, direction, types):
            node = nodes[other]
            if kinds and node.kind not in kinds:
                continue
            found.append(Neighbor(node=node, relationship=rel, direction=way))
            if limit is not None and len(found) >= limit:
                break
        return found

    def match_paths(
        self, start_id: str, steps: Sequence[PathStep], limit: int | None = DEFAULT_LIMIT
    ) -> list[Path]:
        """Every simple path from ``start_id`` that follows the steps in order."""
        walk = self._walk(start_id, steps)
        return [self._path(ids, hops) for ids, hops in itertools.islice(walk, limit)]

    def tally_paths(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        *,
        weights: Mapping[Basis, float],
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
        keep: int = 0,
    ) -> dict[str, PathTally]:
        """The paths of :meth:`match_paths` grouped by their last node, counted and weighed on
        the graph's own adjacency: only the ``keep`` paths per end that are returned get built."""
        start = self._nodes.get(start_id)
        if start is None:
            return {}
        plan = _chain_plan(start.kind, tuple(steps)) if as_of is None else None
        if plan is not None:
            return self._tally_chain(_Chain(self, start, plan), weights, limit, keep)
        nodes = self._nodes
        out: dict[str, PathTally] = {}
        kept: dict[str, PathsOnRead] = {}
        for ids, hops in itertools.islice(self._walk(start_id, steps), limit):
            weight = 1.0
            for data, _, _ in hops:
                fact = data["m"]
                if type(fact) is tuple:  # packed: provenance, role, since, until
                    basis, since, until = fact[0].basis, fact[2], fact[3]
                else:
                    basis, since, until = fact.provenance.basis, fact.since, fact.until
                if as_of is not None and not in_period(since, until, as_of):
                    weight = -1.0
                    break
                weight *= weights[basis]
            if weight < 0 or (as_of is not None and not all(alive(nodes[i], as_of) for i in ids)):
                continue
            tally = out.get(ids[-1])
            if tally is None:
                tally = out[ids[-1]] = PathTally(examples=kept.setdefault(ids[-1], PathsOnRead(_path_of)))
            tally.weight += weight
            tally.count += 1
            if len(examples := kept[ids[-1]]) < keep:
                examples.add(tuple(nodes[i] for i in ids), tuple(hops))
        return out

    def path_ends(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> set[str]:
        """Where the paths of :meth:`match_paths` end.

        The order of the paths matters only where the cap cuts them, so at the present the
        paths are first gathered in no order, a chain's last hop a whole neighbour list at a
        time; only when there are more than ``limit`` is the ordered, capped walk needed.
        """
        start = self._nodes.get(start_id)
        if start is None:
            return set()
        if as_of is None:
            plan = _chain_plan(start.kind, tuple(steps))
            found = self._ends_in_any_order(start, steps, plan, limit)
            if found is not None:
                return found
            if plan is not None:
                return self._ends_in_order(_Chain(self, start, plan), limit)
        return set(self.tally_paths(start_id, steps, weights=UNIT_WEIGHTS, as_of=as_of, limit=limit))

    def path_ends_many(
        self,
        start_ids: Iterable[str],
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, set[str]]:
        """:meth:`path_ends` from many starts, each node that the starts reach walked once.

        Where no node can come twice on a path (the kinds each step may arrive at are new on
        it), the paths onwards from a node do not depend on how the walk came there: so for
        each position along the pattern, every node the starts reach there gets the number
        of paths onwards from it and their ends once, position by position from the last,
        a neighbour list at a time. A start's ends are then the union of its neighbours'.
        Only a start with more than ``limit`` paths needs their order: it takes whole the
        neighbours whose paths all fit in what is left of the cap, in id order, and goes
        into the one that does not. Other patterns are walked start by start. A walk filled
        backwards is kept for the graph's generation (see :meth:`_many_walk`).
        """
        starts = list(dict.fromkeys(start_ids))
        nodes = self._nodes
        kinds = frozenset(nodes[s].kind for s in starts if s in nodes)
        plan = _many_plan(kinds, tuple(steps)) if kinds and (limit is None or limit >= 0) else None
        if plan is None:
            return {s: self.path_ends(s, steps, as_of=as_of, limit=limit) for s in starts}
        present = {s for s in starts if s in nodes and alive(nodes[s], as_of)}
        walk = self._many_walk(plan, present, as_of, counting=limit is not None)
        counts = walk.counts[0]
        out: dict[str, set[str]] = {}
        for start in starts:
            if start not in present:
                out[start] = set()
            elif limit is not None and counts.get(start, 0) > limit:
                try:
                    out[start] = walk.first_ends(self, start, limit)
                except _Unsure:
                    out[start] = self.path_ends(start, steps, as_of=as_of, limit=limit)
            else:
                out[start] = set(walk.ends_of(0, start))
        return out

    def _many_walk(
        self, plan: tuple[_ManyStep, ...], starts: set[str], as_of: str | None, counting: bool
    ) -> _ManyEnds:
        """The walk of a pattern from many starts, kept for the graph's generation when it was
        filled backwards (:class:`_ManyEnds`): such a walk holds the paths onwards from every
        node that may be at each position, whatever the starts, so a later question with the
        same pattern and date reads it instead of walking again. A walk that counts serves one
        that does not. At most ``KEPT_WALKS`` are kept, the least recently used dropped first;
        a write forgets them all (see :meth:`_forget_walks`)."""
        generation = self._generation
        walks = self._walks
        with self._walks_lock:
            for key in ((generation, plan, as_of, True), (generation, plan, as_of, counting)):
                if (kept := walks.pop(key, None)) is not None:
                    walks[key] = kept
                    return kept
        walk = _ManyEnds(self, plan, starts, as_of, counting)
        if walk.complete:
            with self._walks_lock:
                # a walk that a write overlapped may have read the graph half-written
                if generation == self._generation:
                    walks[(generation, plan, as_of, counting)] = walk
                    while len(walks) > KEPT_WALKS:
                        del walks[next(iter(walks))]
        return walk

    def _forget_walks(self) -> None:
        """Drop the kept walks: the graph has changed (called as a write takes a new generation)."""
        with self._walks_lock:
            self._walks.clear()

    def _ends_in_any_order(
        self, start: Node, steps: Sequence[PathStep], plan: _Plan | None, limit: int | None
    ) -> set[str] | None:
        """The ends of all paths, or ``None`` when there are more than ``limit`` paths."""
        if plan is None or plan[2][-1] != (None, False):
            found = [ids[-1] for ids, _ in self._depth_first(start.id, steps, self._id_hops)]
            return set(found) if limit is None or len(found) <= limit else None
        chain = _Chain(self, start, plan)
        ends: set[str] = set()
        counted = [0]
        last_table = chain.table(chain.last)
        if last_table is None:
            return ends

        def visit(depth: int, node_id: str) -> None:
            adjacency = chain.table(depth)
            neighbours = adjacency.get(node_id) if adjacency is not None else None
            if not neighbours:
                return
            kinds, repeats = chain.checks[depth]
            if depth + 1 < chain.last:
                for other in neighbours:
                    if not chain.skip(other, kinds, repeats):
                        chain.ids.append(other)
                        visit(depth + 1, other)
                        chain.ids.pop()
                return
            for other in neighbours:  # the hop before the last: take each last list whole
                if not chain.skip(other, kinds, repeats) and (found := last_table.get(other)):
                    ends.update(found)
                    counted[0] += len(found)
            if limit is not None and counted[0] > limit:
                raise _Enough

        if chain.last == 0:
            only = last_table.get(start.id) or {}
            return set(only) if limit is None or len(only) <= limit else None
        try:
            visit(0, start.id)
        except _Enough:
            return None
        return ends

    def _ends_in_order(self, chain: _Chain, limit: int | None) -> set[str]:
        """The ends of the first ``limit`` paths of a chain, walked in id order."""
        ends: set[str] = set()
        budget = [limit if limit is not None else -1]

        def visit(depth: int, node_id: str) -> None:
            adjacency = chain.neighbours(depth, node_id)
            if not adjacency:
                return
            kinds, repeats = chain.checks[depth]
            if depth < chain.last:
                for other in adjacency:
                    if not chain.skip(other, kinds, repeats):
                        chain.ids.append(other)
                        visit(depth + 1, other)
                        chain.ids.pop()
                return
            for other in adjacency:
                if chain.skip(other, kinds, repeats):
                    continue
                if budget[0] == 0:
                    raise _Enough
                budget[0] -= 1
                ends.add(other)

        with contextlib.suppress(_Enough):
            visit(0, chain.ids[0])
        return ends

    def _tally_chain(
        self, chain: _Chain, weights: Mapping[Basis, float], limit: int | None, keep: int
    ) -> dict[str, PathTally]:
        """:meth:`tally_paths` for a chain at the present: a depth-first walk over the
        neighbour dicts in id order that adds up weights as it goes."""
        ids, hops = chain.ids, chain.hops
        nodes = self._nodes
        out: dict[str, PathTally] = {}
        kept: dict[str, PathsOnRead] = {}
        budget = [limit if limit is not None else -1]
        by_provenance: dict[int, float] = {}  # few distinct provenances, hashed by identity

        def weight_of(fact: Relationship | _Packed) -> float:
            prov = fact[0] if type(fact) is tuple else fact.provenance  # type: ignore[union-attr]
            found = by_provenance.get(id(prov))
            if found is None:
                found = by_provenance[id(prov)] = weights[prov.basis]
            return found

        def visit(depth: int, node_id: str, weight: float) -> None:
            adjacency = chain.neighbours(depth, node_id)
            if not adjacency:
                return
            kinds, repeats = chain.checks[depth]
            checked = kinds is not None or repeats
            name, _, forward = chain.tables[depth]
            deeper = visit_last if depth + 1 == chain.last else visit
            onward = chain.table(depth + 1) or {}  # who has neighbours one step further at all
            for other, data in adjacency.items():
                if other not in onward or (checked and chain.skip(other, kinds, repeats)):
                    continue
                ids.append(other)
                hops.append((data, name, forward))
                deeper(depth + 1, other, weight * weight_of(data["m"]))
                ids.pop()
                hops.pop()

        def visit_last(depth: int, node_id: str, weight: float) -> None:
            adjacency = chain.neighbours(depth, node_id)
            if not adjacency:
                return
            kinds, repeats = chain.checks[depth]
            checked = kinds is not None or repeats
            name, _, forward = chain.tables[depth]
            for other, data in adjacency.items():
                if checked and chain.skip(other, kinds, repeats):
                    continue
                if budget[0] == 0:
                    raise _Enough
                budget[0] -= 1
                tally = out.get(other)
                if tally is None:
                    tally = out[other] = PathTally(examples=kept.setdefault(other, PathsOnRead(_path_of)))
                tally.weight += weight * weight_of(data["m"])
                tally.count += 1
                if len(examples := kept[other]) < keep:
                    examples.add((*map(nodes.__getitem__, ids), nodes[other]), (*hops, (data, name, forward)))

        with contextlib.suppress(_Enough):
            (visit_last if chain.last == 0 else visit)(0, ids[0], 1.0)
        return out

    def _walk(self, start_id: str, steps: Sequence[PathStep]) -> Iterator[tuple[list[str], list[_Hop]]]:
        """The simple paths that follow the steps, in :meth:`match_paths`' order, as the ids
        along each and its hops. The two lists are reused between paths: copy what you keep.

        With one type and one direction per step, each step meets a neighbour once and in id
        order, so paths come out already sorted and lazily: a caller that stops after a few
        pays for a few. Other patterns are collected and sorted first.
        """
        if start_id not in self._nodes:
            return
        if all(len(s.types) == 1 and s.direction != "both" for s in steps):
            yield from self._depth_first(start_id, steps, self._ordered_id_hops)
            return
        found = [(list(ids), list(hops)) for ids, hops in self._depth_first(start_id, steps, self._id_hops)]
        found.sort(key=lambda r: (r[0], [hop[1] for hop in r[1]]))
        yield from found

    def _depth_first(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        hops_of: Callable[[str, PathStep], Iterator[tuple[str, _Hop]]],
    ) -> Iterator[tuple[list[str], list[_Hop]]]:
        nodes = self._nodes
        ids: list[str] = [start_id]
        hops: list[_Hop] = []
        last = len(steps) - 1
        if last < 0:
            yield ids, hops
            return
        stack = [hops_of(start_id, steps[0])]
        while stack:
            depth = len(stack) - 1
            kinds = steps[depth].kinds
            for other, hop in stack[-1]:
                if other in ids or (kinds and nodes[other].kind not in kinds):
                    continue
                ids.append(other)
                hops.append(hop)
                if depth == last:
                    yield ids, hops
                    ids.pop()
                    hops.pop()
                    continue
                stack.append(hops_of(other, steps[depth + 1]))
                break
            else:  # this level is exhausted: back up one
                stack.pop()
                if stack:
                    ids.pop()
                    hops.pop()

    def _ordered_id_hops(self, node_id: str, step: PathStep) -> Iterator[tuple[str, _Hop]]:
        """A step of one type and one direction, neighbours in id order."""
        name = step.types[0].value
        layer = self._layers.get(name)
        forward = step.direction == "out"
        adjacency = self._sorted_adjacency(name, layer, node_id, forward) if layer is not None else None
        if adjacency:
            for other, data in adjacency.items():
                yield other, (data, name, forward)

    def _id_hops(self, node_id: str, step: PathStep) -> Iterator[tuple[str, _Hop]]:
        """A step of any types and directions, neighbours in no particular order."""
        names = [t.value for t in step.types] if step.types else list(self._layers)
        for name in names:
            layer = self._layers.get(name)
            if layer is None:
                continue
            if step.direction != "in" and (succ := layer._succ.get(node_id)):
                for other, data in succ.items():
                    yield other, (data, name, True)
            if step.direction != "out" and (pred := layer._pred.get(node_id)):
                for other, data in pred.items():
                    yield other, (data, name, False)

    def _path(self, ids: list[str], hops: list[_Hop]) -> Path:
        """The path a walk found, its packed relationships built."""
        return _path_of(tuple(self._nodes[i] for i in ids), hops)

    def started_between(self, start: str, end: str, *, limit: int) -> Started:
        """What started in a period: nodes and relationships by their ``since``, read where
        they lie (a relationship still packed is not built unless it is among the first)."""
        nodes = [
            n for n in self._nodes.values() if n.since is not None and starts_within(n.since, start, end)
        ]
        found: list[tuple[str, str, str, str, dict[str, Any]]] = []
        for name, layer in self._layers.items():
            for source, neighbours in layer._succ.items():
                for target, data in neighbours.items():
                    fact = data["m"]
                    since = fact[2] if type(fact) is tuple else fact.since
                    if since is not None and starts_within(since, start, end):
                        found.append((since, source, target, name, data))
        first = heapq.nsmallest(limit, found, key=operator.itemgetter(0, 1, 2, 3))
        return Started(
            nodes=heapq.nsmallest(limit, nodes, key=lambda n: (n.since, n.id)),
            relationships=[_rel_of(data, u, _REL_TYPES[name], v) for _, u, v, name, data in first],
            total_nodes=len(nodes),
            total_relationships=len(found),
        )

    def subgraph(self, node_ids: Iterable[str]) -> Subgraph:
        """The given nodes and every relationship among them."""
        ids = sorted({i for i in node_ids if i in self._nodes})
        keep = set(ids)
        rels = [rel for u in ids for rel, v, _ in self._hops(u, "out", ()) if v in keep]
        rels.sort(key=lambda r: r.key)
        return Subgraph(nodes=[self._nodes[i] for i in ids], relationships=rels)

    def counts(self) -> GraphCounts:
        """Node counts per kind and relationship counts per type (kinds with none omitted)."""
        return GraphCounts(
            nodes={k.value: len(v) for k, v in self._by_kind.items() if v},
            relationships={t: n for t, n in sorted(self._rel_counts.items()) if n},
        )

    def iter_nodes(self, kind: NodeKind | None = None) -> Iterator[Node]:
        """Every node (of a kind), ordered by id."""
        ids = self._by_kind[kind] if kind is not None else self._nodes.keys()
        for node_id in sorted(ids):
            yield self._nodes[node_id]

    def iter_relationships(self, types: Sequence[RelType] = ()) -> Iterator[Relationship]:
        """Every relationship (of some types), ordered by key."""
        names = sorted({t.value for t in types} if types else self._layers)
        by_source: list[tuple[str, str, Relationship]] = []
        for name in names:
            layer = self._layers.get(name)
            if layer is None:
                continue
            rel_type = _REL_TYPES[name]
            by_source.extend(
                (u, name, _rel_of(data, u, rel_type, v)) for u, v, data in layer.edges(data=True)
            )
        by_source.sort(key=lambda t: (t[0], t[1], t[2].target))
        for _, _, rel in by_source:
            yield rel

    def staging(self) -> EmbeddedStore:
        """A :meth:`clone` to load into and swap in when the load is complete."""
        return self.clone()

    def clone(self) -> EmbeddedStore:
        """A copy with the same snapshot path, sharing the (immutable) nodes and relationships.

        Loading into the copy and then swapping it in lets readers go on reading the
        old graph until the new one is complete.
        """
        with self._lock:
            twin = EmbeddedStore(None)
            twin.path = self.path
            twin._layers = {name: _copy_layer(layer) for name, layer in self._layers.items()}
            twin._nodes = dict(self._nodes)
            twin._by_kind = {k: set(v) for k, v in self._by_kind.items()}
            twin._names = None if self._names is None else {k: set(v) for k, v in self._names.items()}
            twin._rel_counts = dict(self._rel_counts)
            twin._unsorted = set(self._unsorted)
            twin._dirty = self._dirty
            twin._generation = self._generation
        return twin

    # -- persistence --------------------------------------------------------

    def persist(self) -> None:
        """Save the snapshot atomically, when there is a path and something changed."""
        if self.path is None or not self._dirty:
            return
        with self._lock:
            self.save(self.path)
            self._dirty = False

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole graph to ``path`` atomically (temporary file, fsync, rename, fsync dir).

        Raises:
            BackendUnavailable: when the file cannot be written (disk full, no permission);
                the previous snapshot is left as it was.
        """
        target = FsPath(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with self._lock:
            payload = self.to_bytes()
        try:
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise BackendUnavailable(
                f"could not save the snapshot {target}: {exc.strerror or exc}; "
                "the previous snapshot is unchanged. Free some disk space or choose "
                "another place with INNOGRAPH_DATA_DIR."
            ) from None
        _remove_stale_temps(target)

    def to_bytes(self) -> bytes:
        """The snapshot's JSON, ordered so that the same graph gives the same bytes.

        Nodes are stored per kind, one column per field of the kind's model (a column
        whose values are all the field's default is left out), each kind in id order
        and the kinds in the order of their id prefixes: a node's position in that
        sequence is its place in id order. Relationships are stored per type as
        parallel columns sorted by (source, target), whose ends are those positions.
        Provenance, of nodes and relationships, is an index into one table of
        distinct provenances.
        """
        with collector_paused():  # millions of short-lived tuples and lists, no cycles
            return self._snapshot_json()

    def _snapshot_json(self) -> bytes:
        prov_index: dict[Provenance, int] = {}
        position: dict[str, int] = {}
        nodes: dict[str, dict[str, list[Any]]] = {}
        for kind in _KINDS_IN_ID_ORDER:
            ids = sorted(self._by_kind[kind])
            if ids:
                position.update(zip(ids, range(len(position), len(position) + len(ids)), strict=True))
                nodes[kind.value] = _node_columns(kind, [self._nodes[i] for i in ids], prov_index)
        layers: dict[str, dict[str, list[Any]]] = {}
        size = len(position)
        for name in sorted(self._layers):
            # (source, target) as one number that sorts the same way
            edges = [
                (position[u] * size + position[v], data["m"])
                for u, nbrs in self._layers[name]._succ.items()
                for v, data in nbrs.items()
            ]
            if not edges:
                continue
            edges.sort(key=operator.itemgetter(0))
            packs = [_packed(m) for _, m in edges]
            cols: dict[str, list[Any]] = {
                "source": [key // size for key, _ in edges],
                "target": [key % size for key, _ in edges],
                "provenance": _indexes_in(prov_index, [pack[0] for pack in packs]),
            }
            for place, field in enumerate(_OPTIONAL_COLUMNS, start=1):
                column = [pack[place] for pack in packs]
                if any(column):
                    cols[field] = column
            layers[name] = cols
        doc = {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "nodes": nodes,
            "provenance": [[p.source, p.evidence, p.basis.value] for p in prov_index],
            "relationships": layers,
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    def close(self) -> None:
        """Nothing to release; a pending change is not saved (call :meth:`persist`)."""

    # -- internals ----------------------------------------------------------

    def _reset(self) -> None:
        self._layers: dict[str, nx.DiGraph] = {}
        self._nodes: dict[str, Node] = {}
        self._by_kind: dict[NodeKind, set[str]] = {k: set() for k in NodeKind}
        self._names: dict[str, set[str]] | None = None
        """Folded name → ids; ``None`` until first needed (see _name_index), then kept up to date."""
        self._rel_counts: dict[str, int] = {}
        self._unsorted: set[tuple[str, str, bool]] = set()
        """(type, node, outgoing) whose neighbours are not in id order; sorted on first ordered read."""
        # a new graph, its generation taken once its tables are in place (writes take a new one
        # as they finish): what a reader keeps under the old one is never served again
        self._generation = next(_GENERATIONS)
        self._forget_walks()

    def _settle(self) -> None:
        """Take a large graph out of the cyclic garbage collector's sight once it is loaded.

        Nodes and relationships hold no reference cycles and live as long as the store, but
        a full collection walks every tracked object: at 900k relationships that is ~1.5 s,
        landing on whichever query allocates at that moment (it was the p99 of the hub
        queries). Freezing moves what exists now to the permanent generation; reference
        counting still frees it when the store lets go of it.

        Called while the collector is paused (a snapshot read, a load): were it running
        again first, its next run would go over everything made since the pause, ~0.5 s at
        L, only to find nothing to free (building a graph makes no reference cycles).
        """
        if len(self._nodes) + sum(self._rel_counts.values()) >= SETTLE_AT:
            keep_out_of_collections()

    def _layer(self, rel_type: str) -> nx.DiGraph:
        layer = self._layers.get(rel_type)
        if layer is None:
            layer = self._layers[rel_type] = nx.DiGraph(rel_type=rel_type)
        return layer

    def _index_names(self, node: Node) -> None:
        if self._names is None:  # not built yet: it will be, from every node
            return
        for name in node.names():
            self._names.setdefault(normalize_name(name), set()).add(node.id)

    def _unindex_names(self, node: Node) -> None:
        if self._names is None:
            return
        for name in node.names():
            ids = self._names.get(normalize_name(name))
            if ids is not None:
                ids.discard(node.id)
                if not ids:
                    del self._names[normalize_name(name)]

    def _sorted_adjacency(
        self, rel_type: str, layer: nx.DiGraph, node_id: str, outgoing: bool
    ) -> dict[str, dict[str, Any]] | None:
        """A node's neighbours of one type and direction, in id order.

        A list put out of order by a write is replaced by a sorted copy (never sorted in
        place, so a reader iterating the old one is not disturbed).
        """
        table = layer._succ if outgoing else layer._pred
        adjacency: dict[str, dict[str, Any]] | None = table.get(node_id)
        if adjacency and (rel_type, node_id, outgoing) in self._unsorted:
            order = sorted(adjacency)  # the ids alone, compared in C: twice as fast as the items by a key
            adjacency = dict(zip(order, map(adjacency.__getitem__, order), strict=True))
            table[node_id] = adjacency
            self._unsorted.discard((rel_type, node_id, outgoing))
        return adjacency

    def _ordered_hops(
        self, node_id: str, direction: Direction, types: Sequence[RelType]
    ) -> Iterator[tuple[Relationship, str, str]]:
        """The hops of :meth:`_hops` in (type, neighbour id, direction) order, produced lazily:
        a caller that stops after a few pays for a few, however many neighbours a hub has."""
        names = sorted({t.value for t in types}) if types else sorted(self._layers)
        for name in names:
            layer = self._layers.get(name)
            if layer is None:
                continue
            rel_type = _REL_TYPES[name]
            streams: list[Iterator[tuple[str, str, dict[str, Any]]]] = []
            if direction != "out" and (pred := self._sorted_adjacency(name, layer, node_id, False)):
                streams.append((other, "in", data) for other, data in pred.items())
            if direction != "in" and (succ := self._sorted_adjacency(name, layer, node_id, True)):
                streams.append((other, "out", data) for other, data in succ.items())
            if not streams:
                continue
            merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_first_two)
            for other, way, data in merged:
                source, target = (node_id, other) if way == "out" else (other, node_id)
                yield _rel_of(data, source, rel_type, target), other, way

    def _hops(
        self, node_id: str, direction: Direction, types: Sequence[RelType]
    ) -> Iterator[tuple[Relationship, str, str]]:
        if types:
            layers = [(t, layer) for t in types if (layer := self._layers.get(t.value)) is not None]
        else:
            layers = [(_REL_TYPES[name], layer) for name, layer in self._layers.items()]
        for rel_type, layer in layers:
            if direction != "in":
                succ = layer._succ.get(node_id)
                if succ:
                    for other, data in succ.items():
                        yield _rel_of(data, node_id, rel_type, other), other, "out"
            if direction != "out":
                pred = layer._pred.get(node_id)
                if pred:
                    for other, data in pred.items():
                        yield _rel_of(data, other, rel_type, node_id), other, "in"

    def _load_snapshot(self, path: FsPath) -> None:
        try:
            doc = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise BackendUnavailable(f"cannot read the snapshot {path}: {exc.strerror}") from None
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"the snapshot {path} is not valid JSON ({exc}).") from None
        if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
            raise InvalidRequest(f"{path} is not an innograph snapshot.")
        if doc.get("version") not in READABLE_VERSIONS:
            raise InvalidRequest(
                f"the snapshot {path} has version {doc.get('version')!r}; "
                f"this innograph reads versions {', '.join(map(str, READABLE_VERSIONS))}."
            )
        self._names = None  # built when first needed (see _name_index)
        try:
            with collector_paused():
                if doc["version"] == 3:
                    ids, kinds = self._add_node_columns(doc)
                else:
                    self.upsert_nodes(_nodes_from_snapshot(doc["nodes"]))
                    ids = sorted(self._nodes)
                    kinds = [self._nodes[i].kind for i in ids]
                if doc["version"] == 1:
                    rels = [relationship_from_props(s, t, o, p) for s, t, o, p in doc["relationships"]]
                    self.upsert_relationships(rels)
                else:
                    self._add_relationship_columns(doc, ids, kinds)
        except (ValidationError, GraphServiceError, KeyError, TypeError, ValueError, IndexError) as exc:
            message = exc.message if isinstance(exc, GraphServiceError) else _first_line(exc)
            raise InvalidRequest(f"the snapshot {path} holds an invalid entry: {message}") from None

    def _add_node_columns(self, doc: dict[str, Any]) -> tuple[list[str], list[NodeKind]]:
        """Add the nodes of a version-3 snapshot, each column checked as the kind's model checks
        that field; the nodes, one sequence in id order, must not repeat an id.

        Returns:
            every id in id order, and the kind of each.
        """
        blocks = doc["nodes"]
        if not isinstance(blocks, dict):
            raise InvalidRequest("nodes must be an object of columns per kind")
        unknown = sorted(set(blocks) - set(_KINDS))
        if unknown:
            raise InvalidRequest(f"unknown node kind {unknown[0][:50]!r}")
        provs = _provenances(doc["provenance"])
        ids: list[str] = []
        kinds: list[NodeKind] = []
        for kind in _KINDS_IN_ID_ORDER:
            if kind.value in blocks:
                nodes = _nodes_of_kind(kind, blocks[kind.value], provs)
                kind_ids = list(map(operator.attrgetter("id"), nodes))
                self._nodes.update(zip(kind_ids, nodes, strict=True))
                self._by_kind[kind].update(kind_ids)
                ids += kind_ids
                kinds += [kind] * len(kind_ids)
        if (i := _first_unordered(ids)) is not None:
            problem = "repeated" if ids[i] == ids[i + 1] else "out of id order"
            raise InvalidRequest(f"node {ids[i + 1][:250]!r} is {problem}")
        return ids, kinds

    def _name_index(self) -> dict[str, set[str]]:
        """The name index, built on first use in bulk (what :meth:`_index_names` gives for every
        node) and kept up to date by writes from then on: only loading more data asks for
        names, so a store that only answers questions, or is loaded once from a snapshot or a
        dataset that names its ends by id, never spends the time (about a second at L)."""
        index = self._names
        if index is None:
            with self._lock:
                built = self._names is None
                if self._names is None:
                    self._names = _names_of(self._nodes.values())
                index = self._names
            if built:
                kept(len(index))
        return index

    def _add_relationship_columns(self, doc: dict[str, Any], ids: list[str], kinds: list[NodeKind]) -> None:
        """Add the column-wise relationships of a version-2 or -3 snapshot, checking each as the
        ontology would, but a column or a distinct value (kind pair, provenance, date, role)
        at a time. Their ends are node ids (version 2) or positions in ``ids`` (version 3),
        every node's id in id order; ``kinds`` holds the kind of each."""
        layers = doc["relationships"]
        if not isinstance(layers, dict):
            raise InvalidRequest("relationships must be an object of columns per type")
        provs = _provenances(doc["provenance"])
        position = {node_id: i for i, node_id in enumerate(ids)} if doc["version"] == 2 else None
        for name, cols in layers.items():
            rel_type = _REL_TYPES.get(name)
            if rel_type is None:
                raise InvalidRequest(f"unknown relationship type {name[:50]!r}")
            if not isinstance(cols, dict) or set(cols) - _ALL_COLUMNS or not set(cols) >= _REQUIRED_COLUMNS:
                raise InvalidRequest(
                    f"the {name} columns are not source, target, provenance (and role, since, until)"
                )
            if any(type(column) is not list for column in cols.values()):
                raise InvalidRequest(f"the {name} columns are not all lists")
            size = len(cols["source"])
            if any(len(column) != size for column in cols.values()):
                raise InvalidRequest(f"the {name} columns have different lengths")
            if not size:
                continue
            sources = _ends(cols["source"], ids, position, f"{name} source")
            targets = _ends(cols["target"], ids, position, f"{name} target")
            prov_ids = _positions(cols["provenance"], len(provs), f"{name} provenance index")
            extra = [cols.get(field) for field in _OPTIONAL_COLUMNS]
            if not _pairs_increase(sources, targets):  # written in order; put a hand-edited file in order
                keys = list(map(operator.add, map(operator.mul, sources, repeat(len(ids))), targets))
                order = sorted(range(size), key=keys.__getitem__)
                sources, targets, prov_ids, keys = (
                    [column[j] for j in order] for column in (sources, targets, prov_ids, keys)
                )
                extra = [None if column is None else [column[j] for j in order] for column in extra]
                if (i := _first_unordered(keys)) is not None:
                    raise InvalidRequest(f"the {name} columns repeat {ids[sources[i]]} → {ids[targets[i]]}")
            pairs = set(zip(map(kinds.__getitem__, sources), map(kinds.__getitem__, targets), strict=True))
            if not pairs <= ALLOWED_PAIRS[rel_type]:
                source_kind, target_kind = min(pairs - ALLOWED_PAIRS[rel_type])
                raise InvalidRequest(f"{name} cannot join {source_kind} → {target_kind}")
            if rel_type in ACYCLIC_TYPES and any(map(operator.eq, sources, targets)):
                loop = next(s for s, t in zip(sources, targets, strict=True) if s == t)
                raise InvalidRequest(f"{name} cannot join {ids[loop]} to itself")
            packed = _packed_column(provs, prov_ids, *extra)
            _fill_layer(self._layer(name), ids, sources, targets, packed)  # new and empty
            self._rel_counts[name] = size

    # -- reads without models -------------------------------------------------

    def neighbor_hops(
        self,
        node_ids: Iterable[str],
        *,
        direction: Direction = "both",
        types: Sequence[RelType] = (),
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, list[Hop]]:
        """The hops of :meth:`neighbors`, capped, then those alive at ``as_of``, as ids (see
        ``GraphStore.neighbor_hops``): read from the neighbour lists without building a node or
        a relationship, a hub's lists merged only as far as the cap."""
        names = sorted({t.value for t in types}) if types else sorted(self._layers)
        layers = [(name, layer) for name in names if (layer := self._layers.get(name)) is not None]
        out: dict[str, list[Hop]] = {}
        for node_id in node_ids:
            if node_id not in out:
                out[node_id] = self._hops_by_id(node_id, direction, layers, as_of, limit)
        return out

    def _hops_by_id(
        self,
        node_id: str,
        direction: Direction,
        layers: list[tuple[str, nx.DiGraph]],
        as_of: str | None,
        limit: int | None,
    ) -> list[Hop]:
        found: list[Hop] = []
        nodes = self._nodes
        if node_id not in nodes or (limit is not None and limit <= 0):
            return found
        left = limit  # hops still to take, dead ones included (the cap comes before the date)
        sides = _sides_of(nodes[node_id].kind)
        for name, layer in layers:
            rel_type = _REL_TYPES[name]
            pred = succ = None
            if direction != "out" and (name, False) in sides:
                pred = self._sorted_adjacency(name, layer, node_id, False)
            if direction != "in" and (name, True) in sides:
                succ = self._sorted_adjacency(name, layer, node_id, True)
            # (neighbour, type, direction, edge) per hop; each list is in id order, so the first
            # ``left`` hops of the two merged are among the first ``left`` of each
            ways: list[Iterable[tuple[str, RelType, Literal["out", "in"], dict[str, Any]]]] = []
            if pred:
                ways.append(zip(islice(pred, left), repeat(rel_type), repeat(_IN), pred.values()))
            if succ:
                ways.append(zip(islice(succ, left), repeat(rel_type), repeat(_OUT), succ.values()))
            if not ways:
                continue
            hops = ways[0] if len(ways) == 1 else sorted(chain(*ways), key=_hop_place)
            if left is not None:
                hops = list(islice(hops, left))
                left -= len(hops)
            if as_of is None:
                found.extend(map(_first_three, hops))
            else:
                for other, _, way, data in hops:
                    fact = data["m"]
                    since, until = (fact[2], fact[3]) if type(fact) is tuple else (fact.since, fact.until)
                    if in_period(since, until, as_of) and alive(nodes[other], as_of):
                        found.append((other, rel_type, way))
            if left == 0:
                break
        return found

    def degrees(
        self, node_ids: Iterable[str], *, direction: Direction = "both", types: Sequence[RelType] = ()
    ) -> dict[str, int]:
        """How many hops :meth:`neighbors` lists for each node, uncapped: the lengths of its
        neighbour lists, a list at a time for all the nodes of a kind."""
        names = sorted({t.value for t in types}) if types else sorted(self._layers)
        out = dict.fromkeys(node_ids, 0)
        by_kind: dict[NodeKind, list[str]] = {}
        for node_id in out:
            node = self._nodes.get(node_id)
            if node is not None:
                by_kind.setdefault(node.kind, []).append(node_id)
        for kind, ids in by_kind.items():
            counts = [0] * len(ids)
            for table in self._tables(kind, direction, names):  # in C: many nodes cost little
                counts = list(
                    map(operator.add, counts, map(len, map(table.get, ids, repeat(_NO_ATTRIBUTES))))
                )
            out.update(zip(ids, counts, strict=True))
        return out

    def _tables(self, kind: NodeKind, direction: Direction, names: list[str]) -> list[dict[str, Any]]:
        """The neighbour tables (a layer's predecessors or successors) in which a node of a kind
        can appear, of the given types: the ontology allows it no others."""
        sides = _sides_of(kind)
        return [
            table
            for name in names
            if (layer := self._layers.get(name)) is not None
            for table, outgoing in ((layer._pred, False), (layer._succ, True))
            if (name, outgoing) in sides and direction != ("in" if outgoing else "out")
        ]


@cache
def _sides_of(kind: NodeKind) -> frozenset[tuple[str, bool]]:
    """(type, outgoing) for each kind of relationship a node of a kind can have, by the ontology."""
    return frozenset(
        (rel_type.value, outgoing)
        for rel_type, pairs in ALLOWED_PAIRS.items()
        for source, target in pairs
        for outgoing, end in ((True, source), (False, target))
        if end is kind
    )


_hop_place = operator.itemgetter(0, 2)
"""A hop's neighbour and direction: its place in a neighbour list (see neighbor_hops)."""
_first_three: Callable[[tuple[str, RelType, Literal["out", "in"], Any]], Hop] = operator.itemgetter(0, 1, 2)
_IN: Literal["in"] = "in"
_OUT: Literal["out"] = "out"


_OPTIONAL_COLUMNS = ("role", "since", "until")
_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})
_NO_NEIGHBOURS = _NO_ATTRIBUTES
"""The neighbours, of a type and in a direction, of a layer's node that has none there: one
read-only empty map shared by all of them (a node with only outgoing SERVES relationships
has no incoming ones), where networkx would make an empty dict for each; a write puts a dict
of the node's own in its place. At L that is 800k dicts fewer. The same object as
``_NO_ATTRIBUTES``, so that a new layer's three tables can start as copies of one."""
_REQUIRED_COLUMNS = frozenset({"source", "target", "provenance"})
_KINDS = {k.value: k for k in NodeKind}
_KINDS_IN_ID_ORDER = sorted(NodeKind, key=ID_PREFIX.__getitem__)
"""Kinds ordered so that their nodes, each kind in id order, are in id order: ``:`` sorts
before any letter of a prefix."""


def _copy_layer(layer: nx.DiGraph) -> nx.DiGraph:
    """A copy of a layer with its neighbour lists in the same order, sharing the edges'
    attribute dicts (never changed in place: an update puts a new one in)."""
    twin = nx.DiGraph(**layer.graph)
    twin._node = {n: dict(attrs) for n, attrs in layer._node.items()}
    twin._succ = twin._adj = {n: _own(nbrs) for n, nbrs in layer._succ.items()}
    twin._pred = {n: _own(nbrs) for n, nbrs in layer._pred.items()}
    return twin


def _own(neighbours: Mapping[str, Any]) -> Mapping[str, Any]:
    """A copy of a neighbour dict, to write into; the shared empty one stays shared."""
    return neighbours if neighbours is _NO_NEIGHBOURS else dict(neighbours)


_Plan = tuple[tuple[str, ...], tuple[bool, ...], tuple[tuple[frozenset[NodeKind] | None, bool], ...]]
"""Per step of a chain: its type's name, whether it is followed forwards, the checks left to make."""


@lru_cache(maxsize=256)
def _chain_plan(start: NodeKind, steps: tuple[PathStep, ...]) -> _Plan | None:
    """How to walk a chain (one type and one direction per step, at least one step) from a
    node of a kind, or ``None`` for other patterns. A kind test is left only where the
    ontology allows kinds the step does not want; a repeat test only where a kind seen
    earlier on the path may come back."""
    if not steps or not all(len(s.types) == 1 and s.direction != "both" for s in steps):
        return None
    names, forwards, checks = [], [], []
    seen_kinds = arriving = {start}
    for step in steps:
        rel_type, forward = step.types[0], step.direction == "out"
        pairs = ALLOWED_PAIRS.get(rel_type, frozenset())
        possible = {t if forward else s for s, t in pairs if (s if forward else t) in arriving}
        wanted = frozenset(step.kinds) if step.kinds else None
        arriving = possible & wanted if wanted is not None else possible
        kind_test = wanted if wanted is not None and not possible <= wanted else None
        checks.append((kind_test, bool(arriving & seen_kinds)))
        seen_kinds = seen_kinds | arriving
        names.append(rel_type.value)
        forwards.append(forward)
    return tuple(names), tuple(forwards), tuple(checks)


class _Chain:
    """A chain pattern walked from one node: per step, the neighbour table to read and the
    checks the ontology leaves to make, and the ids along the path being walked."""

    def __init__(self, store: EmbeddedStore, start: Node, plan: _Plan) -> None:
        self.store = store
        self.nodes = store._nodes
        self.unsorted = store._unsorted
        names, forwards, self.checks = plan
        self.last = len(names) - 1
        self.ids: list[str] = [start.id]
        self.hops: list[_Hop] = []
        self.tables = [
            (name, store._layers.get(name), forward) for name, forward in zip(names, forwards, strict=True)
        ]

    def table(self, depth: int) -> dict[str, dict[str, dict[str, Any]]] | None:
        """Step ``depth``'s neighbour lists, by node, in no particular order."""
        _, layer, forward = self.tables[depth]
        if layer is None:
            return None
        table: dict[str, dict[str, dict[str, Any]]] = layer._succ if forward else layer._pred
        return table

    def neighbours(self, depth: int, node_id: str) -> dict[str, dict[str, Any]] | None:
        """The neighbours of step ``depth``, in id order."""
        name, layer, forward = self.tables[depth]
        if layer is None:
            return None
        if self.unsorted:
            return self.store._sorted_adjacency(name, layer, node_id, forward)
        table: dict[str, dict[str, dict[str, Any]]] = layer._succ if forward else layer._pred
        return table.get(node_id)

    def skip(self, node_id: str, kinds: frozenset[NodeKind] | None, repeats: bool) -> bool:
        return (kinds is not None and self.nodes[node_id].kind not in kinds) or (
            repeats and node_id in self.ids
        )


_ManyStep = tuple[
    tuple[tuple[str, bool], ...], frozenset[NodeKind] | None, frozenset[NodeKind], frozenset[NodeKind] | None
]
"""A step of a pattern walked from many starts: its neighbour tables as (type name, followed
forwards); the kinds to test the arriving nodes against (``None``: the ontology allows no
others there); the kinds that may arrive; and the kinds to test a node that the step is
walked back to against (``None``: only the kinds that may be there can be)."""


@lru_cache(maxsize=256)
def _many_plan(starts: frozenset[NodeKind], steps: tuple[PathStep, ...]) -> tuple[_ManyStep, ...] | None:
    """How to walk a pattern from nodes of the given kinds where no node can come twice on a
    path: the kinds the ontology lets each step arrive at are new on the path. ``None`` when
    a node might come back, or for an empty pattern."""
    if not steps:
        return None
    seen = set(starts)
    arriving: frozenset[NodeKind] = starts
    plan: list[_ManyStep] = []
    for step in steps:
        types = step.types or tuple(RelType)
        ways = {"out": (True,), "in": (False,)}.get(step.direction, (True, False))
        pairs = [  # (here, there) along the step
            (source, target) if forward else (target, source)
            for rel_type in types
            for source, target in ALLOWED_PAIRS.get(rel_type, ())
            for forward in ways
        ]
        possible = {there for here, there in pairs if here in arriving}
        wanted = frozenset(step.kinds) if step.kinds else None
        leaving, arriving = arriving, frozenset(possible & wanted if wanted is not None else possible)
        if arriving & seen:
            return None
        seen |= arriving
        test = wanted if wanted is not None and not possible <= wanted else None
        back = {here for here, there in pairs if there in arriving}
        plan.append(
            (
                tuple((t.value, forward) for t in types for forward in ways),
                test,
                arriving,
                leaving if not back <= leaving else None,
            )
        )
    return tuple(plan)


KEPT_CAPPED = 256
"""Starts over a cap whose first paths' ends a kept walk keeps at most (4 on the talent channel
at L, each at most ``limit`` ends)."""

_DIGIT_VALUES = bytes.maketrans(b"01", b"\x00\x01")
"""Binary digits as the values they stand for."""

KEPT_WALKS = 9
"""Walks from many starts an embedded store keeps at most (see ``EmbeddedStore._many_walk``).
A gap analysis over every industry at L fills three backwards (the coverage matrix reads
them too): they hold 14 MB at the present, 37 MB at a date, so at most ~110 MB are kept."""

MASKED_ENDS = 4096
"""Nodes that may end a pattern up to which a walk from many starts keeps the ends as bit masks."""


class _Unsure(Exception):
    """Raised where the cap cuts between paths that differ only in their relationships."""


class _ManyEnds:
    """A repeat-free pattern walked from many starts: per position along it, for each node
    met there, the number of paths onwards from it (alive or not: a cap counts them all) and
    the ends of those alive at ``as_of``, the node itself taken as alive (its parent checks).

    The positions are filled either forwards, for the nodes the starts reach (:meth:`fill`),
    or, when the starts' first hops alone outnumber the later steps' relationships, backwards
    (:meth:`fill_backwards`): every node that may be at the last position, then each
    relationship of the steps before read once against its direction, from the nodes that
    have paths onwards, down to every node that may be at the first position, whatever the
    starts (so that the walk can be kept, see ``EmbeddedStore._many_walk``). A gap analysis
    over every industry reaches every enterprise, but only the few with an adviser lead
    anywhere on the talent channel: backwards, the others are never touched. At the present,
    when the nodes that may end a path are few, a node's ends are the bits of an integer
    (:meth:`fill_backwards_in_bits`).
    """

    def __init__(
        self,
        store: EmbeddedStore,
        plan: tuple[_ManyStep, ...],
        starts: set[str],
        as_of: str | None,
        counting: bool,
    ) -> None:
        # no reference to the store itself: a walk kept in the store's cache must not make a
        # cycle with it (the store is frozen out of the cycle collector's sight, see _settle)
        self.nodes = store._nodes
        self.by_kind = store._by_kind
        self.rel_counts = store._rel_counts
        self.plan = plan
        self.as_of = as_of
        self.counting = counting
        """Whether to count the paths (for a cap); without, only the ends are gathered."""
        self.last = len(plan) - 1
        self.tables: list[list[tuple[str, bool, nx.DiGraph, dict[str, dict[str, dict[str, Any]]]]]] = [
            [
                (name, forward, layer, layer._succ if forward else layer._pred)
                for name, forward in step[0]
                if (layer := store._layers.get(name)) is not None
            ]
            for step in plan
        ]
        self.counts: list[dict[str, int]] = [{} for _ in plan]
        """Per position, the number of paths onwards from each node met there that has any."""
        self.ends: list[dict[str, Collection[str]]] = [{} for _ in plan]
        """Per position, the ends of the paths onwards that are alive, for the nodes that have
        any. A collection may be shared (a neighbour list, or the ends of the one neighbour
        that has any): never change one in place."""
        self.lengths = False
        """Whether the last position's ends are the last step's neighbour lists themselves (their
        lengths the counts): at the present, when no kind is left to test there."""
        self.order: list[str] | None = None
        """When the ends are kept as bit masks (:meth:`fill_backwards_in_bits`), the end each
        bit stands for, lowest first; ``None`` when they are kept as collections."""
        self.masks: list[dict[str, int]] = [{} for _ in plan]
        """Per position, the ends of the paths onwards as bit masks, for the nodes that have any
        (when :attr:`order` is not ``None``; :attr:`ends` is then left empty)."""
        self.capped: dict[tuple[str, int], frozenset[str]] = {}
        """The ends of the first paths from a start, by start and cap, as :meth:`first_ends` found
        them, when the walk is kept (:attr:`complete`): a later question reads them too."""
        self.complete = self.last > 0 and self.cheaper_backwards(starts)
        """Whether the walk was filled backwards, for every node that may be at each position
        (the first included, whatever the starts): then it answers for any starts."""
        if self.complete:
            if as_of is None and sum(len(self.by_kind[k]) for k in plan[-1][2]) <= MASKED_ENDS:
                self.fill_backwards_in_bits()
            else:
                self.fill_backwards()
        else:
            self.fill(0, starts)

    def ends_of(self, depth: int, node_id: str) -> Collection[str]:
        """The ends of the alive paths onwards from a node at position ``depth`` (possibly shared:
        never change it)."""
        if self.order is None:
            return self.ends[depth].get(node_id, ())
        return self.ids_of(self.masks[depth].get(node_id, 0))

    def ids_of(self, mask: int) -> list[str]:
        """The ends whose bits a mask has (see :attr:`order`): its binary digits, lowest first,
        as bytes of 0 and 1 that select from the ends in order, all in C."""
        return list(compress(self.order or (), bin(mask)[:1:-1].encode().translate(_DIGIT_VALUES)))

    def cheaper_backwards(self, starts: set[str]) -> bool:
        """Whether the starts' first hops alone are more than all the later steps' relationships."""
        reached = sum(len(nb) for *_, table in self.tables[0] for s in starts if (nb := table.get(s)))
        rel_counts = self.rel_counts
        return reached > sum(rel_counts.get(name, 0) for tables in self.tables[1:] for name, *_ in tables)

    def of_kinds(self, kinds: frozenset[NodeKind]) -> set[str]:
        """Every node of these kinds."""
        by_kind = self.by_kind
        if len(kinds) == 1:
            return by_kind[next(iter(kinds))]
        return set().union(*(by_kind[k] for k in kinds))

    def fill(self, depth: int, node_ids: set[str]) -> None:
        """Count the paths onwards from these nodes at position ``depth``, and gather their ends.

        Only the nodes with neighbours at this step are looked at one by one (a set
        intersection finds them): a node left out has no paths onwards. At the present a
        neighbour list is read as a whole (its keys), at a date hop by hop."""
        counts, ends, as_of = self.counts[depth], self.ends[depth], self.as_of
        wanted = self.plan[depth][1]
        if depth == self.last and as_of is None and len(self.tables[depth]) == 1:
            table = self.tables[depth][0][3]
            met = table.keys() & node_ids
            last_ends: dict[str, Collection[str]]
            if wanted is None:
                last_ends = {x: nb for x in met if (nb := table[x])}
            else:
                of_kind = self.of_kinds(wanted)
                last_ends = {x: kept for x in met if (kept := table[x].keys() & of_kind)}
            ends.update(last_ends)
            if self.counting:
                counts.update(zip(last_ends, map(len, last_ends.values()), strict=True))
            return
        # per node, its neighbour list in each table: dicts of hops, or at the present, once
        # the kinds are tested, sets of ids
        lists: dict[str, list[Any]] = {}
        for _, _, _, table in self.tables[depth]:
            for x in table.keys() & node_ids:
                if nb := table[x]:
                    lists.setdefault(x, []).append(nb)
        if wanted is not None:
            if as_of is None:
                of_kind = self.of_kinds(wanted)
                for x, found in lists.items():
                    lists[x] = [kept for nb in found if (kept := nb.keys() & of_kind)]
            else:
                nodes = self.nodes
                for x, found in lists.items():
                    lists[x] = [
                        hops
                        for nb in found
                        if (hops := {y: d for y, d in nb.items() if nodes[y].kind in wanted})
                    ]
        if depth == self.last:
            for x, found in lists.items():
                if not (total := sum(map(len, found))):
                    continue
                counts[x] = total
                if as_of is None:
                    ends[x] = found[0] if len(found) == 1 else set().union(*found)
                elif alive_ends := {y for nb in found for y, data in nb.items() if self.alive(y, data)}:
                    ends[x] = alive_ends
            return
        onward: set[str] = set()
        for found in lists.values():
            for nb in found:
                onward.update(nb)
        self.fill(depth + 1, onward)
        next_counts, next_ends = self.counts[depth + 1], self.ends[depth + 1]
        count_of, ends_of = next_counts.__getitem__, next_ends.__getitem__
        counting = self.counting
        for x, found in lists.items():
            total = 0
            parts: list[Collection[str]] = []
            for nb in found:
                if as_of is None:  # at the present every node with paths has their ends
                    reached = nb & (next_counts if counting else next_ends).keys()
                    if counting:
                        total += sum(map(count_of, reached))
                    parts.extend(map(ends_of, reached))
                else:
                    if counting:
                        total += sum(map(count_of, nb.keys() & next_counts.keys()))
                    parts.extend(
                        ends_of(y) for y, data in nb.items() if y in next_ends and self.alive(y, data)
                    )
            if total:
                counts[x] = total
            if parts:
                ends[x] = parts[0] if len(parts) == 1 else set().union(*parts)

    def fill_backwards(self) -> None:
        """Fill the last position for every node of the kinds that may be there, then each
        position before it by walking its step back from the nodes after it that have paths
        onwards."""
        last_tables, (_, last_test, _, _), (_, before_test, arriving, _) = (
            self.tables[self.last],
            self.plan[self.last],
            self.plan[self.last - 1],
        )
        if self.as_of is None and len(last_tables) == 1 and last_test is None and before_test is None:
            # the last step's neighbour lists are the ends as they stand, their lengths the counts;
            # a node of another kind there is never walked back to a node that may come before it
            self.ends[self.last] = last_tables[0][3]  # type: ignore[assignment]
            self.lengths = True
        else:
            self.fill(self.last, self.of_kinds(arriving))
        for depth in range(self.last - 1, -1, -1):
            if self.as_of is None:
                self.step_back(depth)
            else:
                self.step_back_at_a_date(depth)

    def fill_backwards_in_bits(self) -> None:
        """:meth:`fill_backwards` at the present when the nodes that may end a path are few (the
        210 societies of the talent channel at L): each end gets a bit, and a node's ends are
        the bits of an integer. Walking a relationship back is then one ``|`` into the node it
        comes from, where sets would each be made, filled and joined: at L the talent channel
        reaches 54k enterprises and their 1,300 industries, each with a handful of societies."""
        last = self.last
        order: list[str] = []
        self.order = order
        # the last step is read from its ends, each given its bit once: only the relationships
        # into the kinds wanted there are met, and no end is looked up per relationship
        maybe_here = self.of_kinds(self.plan[last - 1][2])
        masks, counts = self.masks[last], self.counts[last]
        mask_of, count_of = masks.get, counts.get
        back_tables = [
            (layer._pred if forward else layer._succ) for _, forward, layer, _ in self.tables[last]
        ]
        for there in tuple(self.of_kinds(self.plan[last][2])):  # the store's own set: a copy
            one = 0
            for back_table in back_tables:
                if not (back := back_table.get(there)):
                    continue
                if not one:
                    one = 1 << len(order)
                    order.append(there)
                for here in back:
                    if here in maybe_here:
                        masks[here] = mask_of(here, 0) | one
                        counts[here] = count_of(here, 0) + 1
        for depth in range(last - 1, -1, -1):
            self.step_back_in_bits(depth)

    def step_back_in_bits(self, depth: int) -> None:
        """:meth:`step_back` with the ends as bit masks: each relationship of the step is read
        once, its later end's mask joined into and its count added to its earlier end's."""
        nodes, test = self.nodes, self.plan[depth][3]
        next_counts, next_masks = self.counts[depth + 1], self.masks[depth + 1]
        counts, masks = self.counts[depth], self.masks[depth]
        mask_of, count_of = masks.get, counts.get
        counting = self.counting
        for _, forward, layer, _ in self.tables[depth]:
            back_of = (layer._pred if forward else layer._succ).get
            for there, mask in next_masks.items():
                if not (back := back_of(there)):
                    continue
                paths = next_counts[there] if counting else 0
                for here in back:
                    if test is not None and nodes[here].kind not in test:
                        continue
                    masks[here] = mask_of(here, 0) | mask
                    if counting:
                        counts[here] = count_of(here, 0) + paths

    def step_back(self, depth: int) -> None:
        """Fill position ``depth`` from the one after it, at the present: each relationship of
        the step is read once, the ends (and the count of paths) of the node after it noted for
        the node before it; then per node the ends are joined. The ends are taken as the
        relationship is read, not looked up again afterwards: at L that second look into the
        54k advised enterprises cost as much as the walk itself."""
        nodes, counting = self.nodes, self.counting
        next_counts, next_ends = self.counts[depth + 1], self.ends[depth + 1]
        lengths = self.lengths and depth + 1 == self.last
        test = self.plan[depth][3]
        parts: defaultdict[str, list[Collection[str]]] = defaultdict(list)
        counts = self.counts[depth]
        count_of = counts.get
        for _, forward, layer, _ in self.tables[depth]:
            back_of = (layer._pred if forward else layer._succ).get
            # at the present, the nodes with paths onwards are those with ends
            for there, onward in next_ends.items():
                if not (back := back_of(there)):
                    continue
                paths = (len(onward) if lengths else next_counts[there]) if counting else 0
                for here in back:
                    if test is not None and nodes[here].kind not in test:
                        continue
                    parts[here].append(onward)
                    if counting:
                        counts[here] = count_of(here, 0) + paths
        ends = self.ends[depth]
        for here, found in parts.items():
            ends[here] = found[0] if len(found) == 1 else set().union(*found)

    def step_back_at_a_date(self, depth: int) -> None:
        """:meth:`step_back` at a date: every path counts, but only the ends of those whose
        relationships and nodes are alive are kept."""
        nodes, as_of, counting = self.nodes, self.as_of, self.counting
        next_counts, next_ends = self.counts[depth + 1], self.ends[depth + 1]
        counts = self.counts[depth]
        parts: dict[str, list[Collection[str]]] = {}
        test = self.plan[depth][3]
        for _, forward, layer, _ in self.tables[depth]:
            back_table = layer._pred if forward else layer._succ
            for there in next_counts if counting else next_ends:
                if not (back := back_table.get(there)):
                    continue
                onward = next_ends.get(there)
                paths = next_counts[there] if counting else 0
                for here, data in back.items():
                    if test is not None and nodes[here].kind not in test:
                        continue
                    if counting:
                        counts[here] = counts.get(here, 0) + paths
                    if onward is not None and (as_of is None or self.alive(there, data)):
                        parts.setdefault(here, []).append(onward)
        ends = self.ends[depth]
        for here, found in parts.items():
            ends[here] = found[0] if len(found) == 1 else set().union(*found)

    def paths_from(self, depth: int, node_id: str) -> int:
        """How many paths there are onwards from a node at position ``depth``."""
        if self.lengths and depth == self.last:
            return len(self.ends[depth].get(node_id) or ())
        return self.counts[depth].get(node_id, 0)

    def alive(self, node_id: str, data: dict[str, Any]) -> bool:
        """Whether a hop's relationship and the node it arrives at are alive at ``as_of``."""
        as_of = self.as_of
        if as_of is None:
            return True
        fact = data["m"]
        since, until = (fact[2], fact[3]) if type(fact) is tuple else (fact.since, fact.until)
        return in_period(since, until, as_of) and alive(self.nodes[node_id], as_of)

    def first_ends(self, store: EmbeddedStore, start_id: str, limit: int) -> set[str]:
        """The ends of the first ``limit`` paths from a start in the order of
        :meth:`EmbeddedStore.match_paths` (by the ids along them, then their types): the
        neighbours are met in id order, and one whose paths all fit in what is left of the
        cap is taken whole. A step of one type reads the neighbour list in its own order (the
        store keeps it in id order) only as far as the cap: a hub industry of the talent
        channel at L has 67k enterprises, of which the first 15k hold its first 5,000 paths.

        Raises:
            _Unsure: the cap cuts between paths through the same nodes over different
                relationships, at a date (one may be alive and the other not).
        """
        if (taken := self.capped.get((start_id, limit))) is not None:
            return set(taken)
        found: set[str] = set()
        whole: list[tuple[int, str]] = []
        """The nodes (and their positions) whose paths onwards are all taken."""
        nodes, as_of = self.nodes, self.as_of

        def take(depth: int, node_id: str, budget: int, times: int) -> int:
            last = depth == self.last
            onward: Mapping[str, object] = (
                {}
                if last
                else self.ends[depth + 1]
                if self.lengths and depth + 1 == self.last
                else self.counts[depth + 1]
            )
            met: Iterable[str]
            if len(tables := self.tables[depth]) == 1:
                name, forward, layer, _ = tables[0]
                nb = store._sorted_adjacency(name, layer, node_id, forward)
                lists = [nb] if nb else []
                met = tuple(nb) if nb else ()  # the store's own dict: a copy, as writes may go on
            else:
                lists = [nb for *_, table in tables if (nb := table.get(node_id))]
                if last:
                    met = sorted(set().union(*lists))
                else:  # only the neighbours with paths onwards count
                    met = sorted(set().union(*(nb.keys() & onward.keys() for nb in lists)))
            wanted = self.plan[depth][1]
            for other in met:
                if not last and other not in onward:
                    continue
                if wanted is not None and nodes[other].kind not in wanted:
                    continue
                ways = [nb[other] for nb in lists if other in nb]
                each = times * len(ways)
                paths = each if last else each * self.paths_from(depth + 1, other)
                live = as_of is None or any(self.alive(other, data) for data in ways)
                if paths <= budget:
                    budget -= paths
                    if live:
                        if last:
                            found.add(other)
                        else:
                            whole.append((depth + 1, other))
                    if budget == 0:
                        return 0
                    continue
                if as_of is not None and len(ways) > 1:
                    raise _Unsure
                if live:
                    if last:
                        found.add(other)
                    else:
                        take(depth + 1, other, budget, each)
                return 0
            return budget

        if limit > 0:
            take(0, start_id, limit, 1)
        if self.order is None:
            found.update(*(self.ends[depth].get(node_id, ()) for depth, node_id in whole))
        else:
            mask = 0
            for depth, node_id in whole:
                mask |= self.masks[depth].get(node_id, 0)
            found.update(self.ids_of(mask))
        if self.complete and len(self.capped) < KEPT_CAPPED:
            self.capped[(start_id, limit)] = frozenset(found)
        return found


class _Enough(Exception):
    """Raised inside a walk that has met its limit."""


_Key = TypeVar("_Key")


def _positions_by_value(values: Sequence[_Key]) -> dict[_Key, list[int]]:
    """The positions of each distinct value in a sequence (the relationships of each type in a
    batch, the nodes of each kind), in order."""
    if values and values.count(values[0]) == len(values):
        return {values[0]: list(range(len(values)))}
    out: dict[_Key, list[int]] = {}
    for i, value in enumerate(values):
        positions = out.get(value)
        if positions is None:
            positions = out[value] = []
        positions.append(i)
    return out


def _first_two(item: tuple[str, str, Any]) -> tuple[str, str]:
    return item[0], item[1]


_REL_TYPES = {t.value: t for t in RelType}

_Hop = tuple[dict[str, Any], str, bool]
"""One hop of a walk: the edge's attributes, its type's name, and whether it was followed forwards."""

_Packed = tuple[Provenance, str, str | None, str | None]
"""A relationship read from a snapshot and not built yet: provenance, role, since, until."""


def _path_of(nodes: tuple[Node, ...], hops: Sequence[_Hop]) -> Path:
    """The path along ``nodes`` by ``hops``, its packed relationships built.

    The hops hold the edges' own attribute dicts, so a path built after it was found (see
    :class:`PathsOnRead`) is the one found, whatever was written since."""
    rels = tuple(
        _rel_of(data, nodes[i].id, _REL_TYPES[name], nodes[i + 1].id)
        if forward
        else _rel_of(data, nodes[i + 1].id, _REL_TYPES[name], nodes[i].id)
        for i, (data, name, forward) in enumerate(hops)
    )
    return Path.model_construct(nodes=nodes, relationships=rels)


def _rel_of(data: dict[str, Any], source: str, rel_type: RelType, target: str) -> Relationship:
    """The relationship an edge holds, built (once) when it is still packed."""
    rel = data["m"]
    if type(rel) is tuple:
        rel = data["m"] = assemble_relationship(source, rel_type, target, *rel)
        kept()  # kept as long as the store: see graph_service.core.memory.kept
    return rel  # type: ignore[no-any-return]


def _packed(rel: Relationship | _Packed) -> _Packed:
    if type(rel) is tuple:
        return rel
    assert isinstance(rel, Relationship)
    return (rel.provenance, rel.role, rel.since, rel.until)


_ALL_COLUMNS = frozenset({"source", "target", "provenance", *_OPTIONAL_COLUMNS})
_TEXT: TypeAdapter[str] = TypeAdapter(Text)
_DATE: TypeAdapter[str] = TypeAdapter(PartialDate)


@lru_cache(maxsize=1 << 14)
def _role(value: object) -> str:
    if value is None or value == "":
        return ""
    return _TEXT.validate_python(value)


@lru_cache(maxsize=1 << 14)
def _date(value: object) -> str | None:
    if value is None or value == "":
        return None
    return _DATE.validate_python(value)


def _three_texts(entry: object) -> tuple[str, str, str]:
    if not isinstance(entry, list) or len(entry) != 3 or not all(isinstance(v, str) for v in entry):
        raise InvalidRequest(f"provenance entry {str(entry)[:80]} is not [source, evidence, basis]")
    return entry[0], entry[1], entry[2]


def _node_columns(
    kind: NodeKind, nodes: list[Node], prov_index: dict[Provenance, int]
) -> dict[str, list[Any]]:
    """The columns of a kind's nodes: one per field, with provenance as an index into the
    table; a column whose every value is the field's default is left out."""
    columns: dict[str, list[Any]] = {}
    for name, info in NODE_MODELS[kind].model_fields.items():
        values = list(map(operator.attrgetter(name), nodes))
        if name == "provenance":
            values = _indexes_in(prov_index, values)
        elif not info.is_required() and values.count(info.get_default(call_default_factory=True)) == len(
            values
        ):
            continue
        columns[name] = values
    return columns


def _indexes_in(table: dict[Provenance, int], values: list[Provenance]) -> list[int]:
    """Each value's index in a table of distinct values, added to it when new. A graph
    shares a few provenance objects among millions of facts: each object is hashed once."""
    objects = dict(zip(map(id, values), values, strict=True))
    by_object = {key: table.setdefault(value, len(table)) for key, value in objects.items()}
    return list(map(by_object.__getitem__, map(id, values)))


def _nodes_of_kind(kind: NodeKind, columns: Any, provs: list[Provenance]) -> list[Node]:
    """The nodes of one kind from their columns, each column checked as the model checks the field."""
    model = NODE_MODELS[kind]
    fields = model.model_fields
    if not isinstance(columns, dict):
        raise InvalidRequest(f"the {kind} nodes are not an object of columns")
    unknown = sorted(set(columns) - set(fields))
    if unknown:
        raise InvalidRequest(f"the {kind} nodes have an unknown field {unknown[0][:50]!r}")
    missing = [name for name, info in fields.items() if info.is_required() and name not in columns]
    if missing:
        raise InvalidRequest(f"the {kind} nodes have no {missing[0]} column")
    if any(type(column) is not list for column in columns.values()):
        raise InvalidRequest(f"the {kind} columns are not all lists")
    size = len(columns["id"])
    if any(len(column) != size for column in columns.values()):
        raise InvalidRequest(f"the {kind} columns have different lengths")
    ids = _checked_ids(kind, columns["id"])
    values: list[list[Any]] = []
    for name, info in fields.items():
        column = columns.get(name)
        if name == "id":
            column = ids
        elif name == "provenance":
            column = list(
                map(provs.__getitem__, _positions(columns[name], len(provs), f"{kind} provenance index"))
            )
        elif column is not None:
            column = _checked_column(kind, name, column, ids)
        elif info.default_factory is not None:
            column = [info.get_default(call_default_factory=True) for _ in range(size)]
        else:
            column = [info.default] * size
        values.append(column)
    return assemble_nodes(model, values)


def _checked_ids(kind: NodeKind, column: list[Any]) -> list[str]:
    """A kind's id column, checked by one regular expression over all of it; anything it does
    not pass goes through the model's own id check, which names the id at fault."""
    if ids_of_kind(kind, column):
        return column
    return _checked_column(kind, "id", column, None)


def _checked_column(kind: NodeKind, name: str, column: list[Any], ids: list[str] | None) -> list[Any]:
    """A column of one field, checked (and normalised, as validation does) by the field's validator."""
    try:
        return column_adapter(kind, name).validate_python(column)
    except ValidationError as exc:
        error = exc.errors()[0]
        row = error["loc"][0] if error["loc"] else None
        which = f" of {ids[row]}" if ids is not None and isinstance(row, int) else f" #{row}"
        raise InvalidRequest(f"the {kind} {name}{which}: {error['msg']}") from None


def _provenances(table: Any) -> list[Provenance]:
    if not isinstance(table, list):
        raise InvalidRequest("provenance must be a list")
    return [provenance(*_three_texts(entry)) for entry in table]


def _positions(column: list[Any], size: int, what: str) -> list[int]:
    """The column, when every value is a position in a sequence of ``size``."""
    if column and (set(map(type, column)) != {int} or min(column) < 0 or max(column) >= size):
        bad = next(v for v in column if type(v) is not int or not 0 <= v < size)
        raise InvalidRequest(f"{what} {str(bad)[:80]} is not a position in 0..{size - 1}")
    return column


def _ends(column: list[Any], ids: list[str], position: dict[str, int] | None, what: str) -> list[int]:
    """Positions (in id order) of the nodes a column of relationship ends names, by position or by id."""
    if position is None:
        return _positions(column, len(ids), what)
    try:
        return list(map(position.__getitem__, column))
    except (KeyError, TypeError):
        missing = next(v for v in column if not isinstance(v, str) or v not in position)
        raise InvalidRequest(f"{what} {str(missing)[:250]!r} is not a node") from None


def _fill_layer(
    layer: nx.DiGraph, ids: list[str], sources: list[int], targets: list[int], facts: Iterable[_Packed]
) -> None:
    """Fill an empty layer with its edges, given as positions in ``ids`` in (source, target)
    order, and their packed facts.

    Written straight into the layer's dict-of-dicts (networkx's documented structure:
    ``_node``, ``_succ``, ``_pred``), one attribute dict per edge shared by both directions as
    ``add_edge`` makes; the relationship is built on first read (see _rel_of). The tables hold
    every end in order of first appearance (sources, then targets), as adding the edges one by
    one does, and, the edges being in (source, target) order, every neighbour list comes out
    in id order; an end with no neighbours in a direction has ``_NO_NEIGHBOURS`` there. The
    loops run in C (map over ``setitem``), a few times faster than a Python loop over the
    edges: each end's neighbour dicts are found by its position in a list (no hashing), and
    the three tables, which share their keys, are copies of one.
    """
    starts = list(dict.fromkeys(sources))  # the positions of the ends with outgoing edges
    finishes = list(dict.fromkeys(targets))  # and with incoming ones
    ends = list(dict.fromkeys(chain(starts, finishes)))
    end_ids = list(map(ids.__getitem__, ends))
    # one read-only attribute map for every end: a layer keeps nothing on its nodes
    layer._node = dict.fromkeys(end_ids, _NO_ATTRIBUTES)
    outs: list[dict[str, dict[str, Any]]] = [{} for _ in starts]
    ins: list[dict[str, dict[str, Any]]] = [{} for _ in finishes]
    layer._succ = layer._adj = layer._node.copy()  # _NO_NEIGHBOURS is _NO_ATTRIBUTES
    layer._succ.update(zip(islice(end_ids, len(starts)), outs, strict=True))  # the starts come first
    layer._pred = layer._node.copy()
    layer._pred.update(zip(map(ids.__getitem__, finishes), ins, strict=True))
    out_at: list[Any] = [None] * len(ids)  # the successor dict of each position, or None
    _consume(map(out_at.__setitem__, starts, outs))
    in_at: list[Any] = [None] * len(ids)
    _consume(map(in_at.__setitem__, finishes, ins))
    edges = [{"m": fact} for fact in facts]
    _consume(map(operator.setitem, map(out_at.__getitem__, sources), map(ids.__getitem__, targets), edges))
    _consume(map(operator.setitem, map(in_at.__getitem__, targets), map(ids.__getitem__, sources), edges))


def _consume(iterator: Iterator[object]) -> None:
    deque(iterator, maxlen=0)


def _names_of(nodes: Iterable[Node]) -> dict[str, set[str]]:
    """The name index of these nodes (folded name → ids): :meth:`EmbeddedStore._index_names`
    for each, in bulk."""
    with collector_paused():
        nodes = list(nodes)
        names = list(map(Node.names, nodes))
        keys = list(map(normalize_name, chain.from_iterable(names)))
        ids = map(operator.attrgetter("id"), nodes)
        owners = list(chain.from_iterable(map(repeat, ids, map(len, names))))
        index = dict(zip(keys, [{owner} for owner in owners], strict=True))
        if len(index) < len(keys):  # some nodes share a name: gather every owner
            for key, owner in zip(keys, owners, strict=True):
                index[key].add(owner)
    return index


def _pairs_increase(firsts: list[Any], seconds: list[Any]) -> bool:
    """Whether the pairs (firsts[i], seconds[i]) strictly increase."""
    pairs = zip(firsts, seconds, strict=True)
    following = zip(islice(firsts, 1, None), islice(seconds, 1, None), strict=True)
    return all(map(operator.lt, pairs, following))


def _first_unordered(values: list[Any]) -> int | None:
    """The first ``i`` where ``values[i] >= values[i + 1]``, or ``None`` when they strictly increase."""
    if all(map(operator.lt, values, islice(values, 1, None))):
        return None
    return next(i for i, (a, b) in enumerate(zip(values, islice(values, 1, None), strict=False)) if a >= b)


def _packed_column(
    provs: list[Provenance],
    prov_ids: list[int],
    roles: list[Any] | None,
    since: list[Any] | None,
    until: list[Any] | None,
) -> Iterable[_Packed]:
    """Each relationship's packed (provenance, role, since, until), the values checked once
    each and equal tuples shared."""
    if roles is None and since is None and until is None:
        packs = [(p, "", None, None) for p in provs]
        return map(packs.__getitem__, prov_ids)
    shared: dict[_Packed, _Packed] = {}
    return [
        shared.setdefault(pack, pack)
        for pack in zip(
            map(provs.__getitem__, prov_ids),
            repeat("") if roles is None else map(_role, roles),
            repeat(None) if since is None else map(_date, since),
            repeat(None) if until is None else map(_date, until),
            strict=False,  # the absent columns repeat their default
        )
    ]


def _nodes_from_snapshot(entries: Any) -> list[Node]:
    """Nodes of a snapshot, validated per kind in one pass of the model's validator."""
    if not isinstance(entries, list):
        raise InvalidRequest("nodes must be a list")
    by_kind: dict[NodeKind, list[dict[str, Any]]] = {}
    for props in entries:
        if not isinstance(props, dict):
            raise InvalidRequest(f"node entry {str(props)[:80]} is not an object")
        data = dict(props)
        kind = NodeKind(data.pop("kind"))
        data["provenance"] = provenance(
            *_three_texts([data.pop("source"), data.pop("evidence", ""), data.pop("basis")])
        )
        by_kind.setdefault(kind, []).append(data)
    out: list[Node] = []
    for kind, items in by_kind.items():
        out.extend(_node_list_adapter(kind).validate_python(items))
    return out


@cache
def _node_list_adapter(kind: NodeKind) -> TypeAdapter[list[Node]]:
    adapter: TypeAdapter[list[Node]] = TypeAdapter(list[NODE_MODELS[kind]])  # type: ignore[valid-type]
    return adapter


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _remove_stale_temps(target: FsPath) -> None:
    """Delete temporary files that saves killed midway left beside the snapshot.

    They never confuse a load (only the snapshot itself is read), but each is a
    whole snapshot's worth of disk. Files of processes still alive are left alone:
    they may be saving right now.
    """
    for tmp in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid_text = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, but belongs to someone else
    return True


def _fsync_dir(directory: FsPath) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
