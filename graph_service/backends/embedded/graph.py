"""The embedded graph's tables: one networkx ``DiGraph`` per relationship type, the nodes by id,
kind and name, and the writes and lookups the rest of the embedded store is built on.
"""

from __future__ import annotations

import heapq
import itertools
import operator
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cache
from itertools import chain, repeat
from pathlib import Path as FsPath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import networkx as nx

from graph_service.core.errors import InvalidRequest
from graph_service.core.memory import collector_paused, keep_out_of_collections, kept
from graph_service.core.ontology import (
    ALLOWED_PAIRS,
    Node,
    NodeKind,
    Provenance,
    Relationship,
    RelationshipColumns,
    RelType,
    assemble_relationship,
    normalize_name,
)
from graph_service.core.store import (
    Direction,
    Hop,
    Path,
    WriteCounts,
    WriteSummary,
)

if TYPE_CHECKING:
    from graph_service.backends.embedded.ends import _ManyEnds, _ManyStep


RelKey = tuple[str, str, str]


SETTLE_AT = 50_000
"""Nodes plus relationships from which a loaded graph is frozen out of the garbage collector."""


_GENERATIONS = itertools.count(1)
"""Generations of every embedded store of the process: two different graphs never share one."""


class _Graph:
    """The tables of an embedded graph, its writes and the lookups every part of the store shares.

    A layer per relationship type (see :meth:`_layer`), the nodes by id and by kind, the name
    index, and the generation. The walks (:mod:`.walks`) and the snapshot (:mod:`.snapshot`) are
    built on it; :class:`~.store.EmbeddedStore` puts them together.
    """

    path: FsPath | None
    _lock: threading.RLock
    _walks: dict[tuple[int, tuple[_ManyStep, ...], str | None, bool], _ManyEnds]
    """Walks from many starts kept for the generation they read (see :meth:`_Walks._many_walk`)."""
    _walks_lock: threading.Lock
    _dirty: bool

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

    def _forget_walks(self) -> None:
        """Drop the kept walks: the graph has changed (called as a write takes a new generation)."""
        with self._walks_lock:
            self._walks.clear()

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


_NO_ATTRIBUTES: Mapping[str, Any] = MappingProxyType({})


_NO_NEIGHBOURS = _NO_ATTRIBUTES
"""The neighbours, of a type and in a direction, of a layer's node that has none there: one
read-only empty map shared by all of them (a node with only outgoing SERVES relationships
has no incoming ones), where networkx would make an empty dict for each; a write puts a dict
of the node's own in its place. At L that is 800k dicts fewer. The same object as
``_NO_ATTRIBUTES``, so that a new layer's three tables can start as copies of one."""


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
