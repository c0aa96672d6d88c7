"""The embedded store: :class:`EmbeddedStore`, the ``GraphStore`` of a graph kept in the process."""

from __future__ import annotations

import contextlib
import heapq
import operator
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice, repeat
from pathlib import Path as FsPath
from typing import Any, Literal

import networkx as nx

from graph_service.backends.embedded.graph import (
    _IN,
    _NO_ATTRIBUTES,
    _OUT,
    _REL_TYPES,
    RelKey,
    _copy_layer,
    _first_three,
    _hop_place,
    _rel_of,
    _sides_of,
)
from graph_service.backends.embedded.snapshot import _Snapshot
from graph_service.backends.embedded.walks import _Walks
from graph_service.core.memory import collector_paused
from graph_service.core.ontology import (
    Node,
    NodeKind,
    Relationship,
    RelType,
    alive,
    in_period,
    normalize_name,
    starts_within,
)
from graph_service.core.store import (
    DEFAULT_LIMIT,
    Direction,
    GraphCounts,
    Hop,
    Neighbor,
    Started,
    Subgraph,
)

__all__ = ["EmbeddedStore"]


class EmbeddedStore(_Walks, _Snapshot):
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
        self._walks = {}
        self._walks_lock = threading.Lock()  # made once: readers may hold it while clear() runs
        self._reset()
        if self.path is not None and self.path.exists():
            with collector_paused():  # settled before the collector runs again (see _settle)
                self._load_snapshot(self.path)
                self._settle()
        self._dirty = False

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

    def close(self) -> None:
        """Nothing to release; a pending change is not saved (call :meth:`persist`)."""

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
