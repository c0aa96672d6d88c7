"""The embedded backend: a networkx multigraph in the process, saved as an atomic JSON snapshot.

The multigraph is kept as one networkx ``DiGraph`` per relationship type (a
relationship's identity is (source, type, target), so each type holds at most one
edge per ordered pair). Following the relationships of given types from a node is
then a dictionary lookup per type, however many relationships of other types the
node has: a hub industry with a hundred thousand enterprises answers "who SERVES
it?" without looking at them.

The snapshot is plain JSON (no pickle), validated through the ontology when it is
opened, so a snapshot from someone else can do no more than fail to load. It is
written column-wise (one array per field and relationship type, provenance as an
index into a shared table) so that a million relationships are validated per
distinct value rather than per row when it is read. Saving
writes a temporary file beside the snapshot, fsyncs it, renames it over the old
one and fsyncs the directory: a process killed at any point leaves either the
previous snapshot or the new one, whole.
"""

from __future__ import annotations

import contextlib
import glob
import heapq
import itertools
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cache, lru_cache
from pathlib import Path as FsPath
from typing import Any

import networkx as nx
import orjson
from pydantic import TypeAdapter, ValidationError

from graph_service.errors import BackendUnavailable, GraphServiceError, InvalidRequest
from graph_service.ontology import (
    ACYCLIC_TYPES,
    ALLOWED_PAIRS,
    NODE_MODELS,
    Node,
    NodeKind,
    PartialDate,
    Provenance,
    Relationship,
    RelType,
    Text,
    assemble_relationship,
    normalize_name,
    provenance,
    relationship_from_props,
)
from graph_service.store import (
    DEFAULT_LIMIT,
    Direction,
    GraphCounts,
    Neighbor,
    Path,
    PathStep,
    Subgraph,
    WriteCounts,
    WriteSummary,
)

__all__ = ["SNAPSHOT_FORMAT", "EmbeddedStore"]

SNAPSHOT_FORMAT = "innograph-snapshot"
SNAPSHOT_VERSION = 2
READABLE_VERSIONS = (1, 2)
"""Snapshot versions this innograph opens: 1 (one entry per row) and 2 (column-wise)."""

RelKey = tuple[str, str, str]

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

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = FsPath(path) if path is not None else None
        self._lock = threading.RLock()
        self._reset()
        if self.path is not None and self.path.exists():
            self._load_snapshot(self.path)
        self._dirty = False

    # -- writes -------------------------------------------------------------

    def upsert_nodes(self, nodes: Sequence[Node]) -> WriteSummary:
        """Create or replace nodes by id."""
        summary = WriteSummary()
        with self._lock:
            for node in nodes:
                counts = summary.nodes.setdefault(node.kind.value, WriteCounts())
                old = self._nodes.get(node.id)
                if old is None:
                    counts.created += 1
                    self._by_kind[node.kind].add(node.id)
                elif old == node:
                    counts.unchanged += 1
                    continue
                else:
                    counts.updated += 1
                    self._unindex_names(old)
                self._nodes[node.id] = node
                self._index_names(node)
                self._dirty = True
            if summary.changed:
                self._generation = next(_GENERATIONS)
        return summary

    def upsert_relationships(self, relationships: Sequence[Relationship]) -> WriteSummary:
        """Create or replace relationships by (source, type, target); endpoints must exist."""
        with self._lock:
            nodes = self._nodes
            missing = sorted({i for r in relationships for i in (r.source, r.target) if i not in nodes})
            if missing:
                raise InvalidRequest(
                    f"relationships point at {len(missing)} missing node(s): " + ", ".join(missing[:10])
                )
            summary = WriteSummary()
            for rel in relationships:
                rtype = rel.type.value
                counts = summary.relationships.setdefault(rtype, WriteCounts())
                layer = self._layer(rtype)
                data = layer.get_edge_data(rel.source, rel.target)
                if data is None:
                    counts.created += 1
                    self._rel_counts[rtype] = self._rel_counts.get(rtype, 0) + 1
                    self._note_order(rtype, layer, rel.source, rel.target)
                    layer.add_edge(rel.source, rel.target, m=rel)
                elif _rel_of(data, rel.source, rel.type, rel.target) == rel:
                    counts.unchanged += 1
                    continue
                else:
                    counts.updated += 1
                    # a new attribute dict, not an update of the old one: clones share them
                    layer._succ[rel.source][rel.target] = layer._pred[rel.target][rel.source] = {"m": rel}
                self._dirty = True
            if summary.changed:
                self._generation = next(_GENERATIONS)
        return summary

    def clear(self) -> None:
        """Remove every node and relationship."""
        with self._lock:
            self._reset()
            self._dirty = True

    def load_transaction(self) -> contextlib.AbstractContextManager[None]:
        """Nothing to group: loading into a :meth:`clone` and swapping it in is what makes a
        load appear at once here (see the upload route)."""
        return contextlib.nullcontext()

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
            out[key] = sorted(self._names.get(key, ()))
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
        start = self._nodes.get(start_id)
        if start is None:
            return []
        nodes = self._nodes
        results: list[tuple[list[str], list[Relationship]]] = []
        # With one type and one direction per step, each step meets a neighbour once and in
        # id order, so the walk finds paths already sorted and may stop at the limit.
        in_order = all(len(s.types) == 1 and s.direction != "both" for s in steps)
        hops = self._ordered_hops if in_order else self._hops
        enough = limit if in_order and limit is not None else None

        def walk(depth: int, ids: list[str], rels: list[Relationship]) -> None:
            if depth == len(steps):
                results.append((list(ids), list(rels)))
                if enough is not None and len(results) >= enough:
                    raise _Enough
                return
            step = steps[depth]
            for rel, other, _ in hops(ids[-1], step.direction, step.types):
                if other in ids:
                    continue
                if step.kinds and nodes[other].kind not in step.kinds:
                    continue
                ids.append(other)
                rels.append(rel)
                walk(depth + 1, ids, rels)
                ids.pop()
                rels.pop()

        with contextlib.suppress(_Enough):
            walk(0, [start_id], [])
        if not in_order:
            results.sort(key=lambda r: (r[0], [x.type.value for x in r[1]]))
        if limit is not None:
            results = results[:limit]
        return [
            Path.model_construct(nodes=tuple(nodes[i] for i in ids), relationships=tuple(rels))
            for ids, rels in results
        ]

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
            twin._names = {k: set(v) for k, v in self._names.items()}
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

        Relationships are stored per type as parallel columns, sorted by (source,
        target); provenance is an index into one table of distinct provenances.
        """
        prov_index: dict[Provenance, int] = {}
        nodes = [self._nodes[i].to_props() for i in sorted(self._nodes)]
        layers: dict[str, dict[str, list[Any]]] = {}
        for name in sorted(self._layers):
            edges = sorted(
                ((u, v, _packed(data["m"])) for u, v, data in self._layers[name].edges(data=True)),
                key=lambda e: (e[0], e[1]),
            )
            if not edges:
                continue
            cols: dict[str, list[Any]] = {
                "source": [e[0] for e in edges],
                "target": [e[1] for e in edges],
                "provenance": [prov_index.setdefault(e[2][0], len(prov_index)) for e in edges],
            }
            for position, field in enumerate(_OPTIONAL_COLUMNS, start=1):
                column = [e[2][position] for e in edges]
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
        self._generation = next(_GENERATIONS)  # a new graph; writes take a new one as they finish
        self._layers: dict[str, nx.DiGraph] = {}
        self._nodes: dict[str, Node] = {}
        self._by_kind: dict[NodeKind, set[str]] = {k: set() for k in NodeKind}
        self._names: dict[str, set[str]] = {}
        self._rel_counts: dict[str, int] = {}
        self._unsorted: set[tuple[str, str, bool]] = set()
        """(type, node, outgoing) whose neighbours are not in id order; sorted on first ordered read."""

    def _layer(self, rel_type: str) -> nx.DiGraph:
        layer = self._layers.get(rel_type)
        if layer is None:
            layer = self._layers[rel_type] = nx.DiGraph(rel_type=rel_type)
        return layer

    def _index_names(self, node: Node) -> None:
        for name in node.names():
            self._names.setdefault(normalize_name(name), set()).add(node.id)

    def _unindex_names(self, node: Node) -> None:
        for name in node.names():
            ids = self._names.get(normalize_name(name))
            if ids is not None:
                ids.discard(node.id)
                if not ids:
                    del self._names[normalize_name(name)]

    def _note_order(self, rel_type: str, layer: nx.DiGraph, source: str, target: str) -> None:
        """Before adding source → target: remember the neighbour lists it puts out of id order."""
        succ = layer._succ.get(source)
        if succ and next(reversed(succ)) > target:
            self._unsorted.add((rel_type, source, True))
        pred = layer._pred.get(target)
        if pred and next(reversed(pred)) > source:
            self._unsorted.add((rel_type, target, False))

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
            adjacency = dict(sorted(adjacency.items(), key=_first))
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
        try:
            nodes = _nodes_from_snapshot(doc["nodes"])
            self.upsert_nodes(nodes)
            if doc["version"] == 1:
                rels = [relationship_from_props(s, t, o, p) for s, t, o, p in doc["relationships"]]
                self.upsert_relationships(rels)
            else:
                self._add_columns(doc["provenance"], doc["relationships"])
        except (ValidationError, GraphServiceError, KeyError, TypeError, ValueError, IndexError) as exc:
            message = exc.message if isinstance(exc, GraphServiceError) else _first_line(exc)
            raise InvalidRequest(f"the snapshot {path} holds an invalid entry: {message}") from None

    def _add_columns(self, prov_table: Any, layers: Any) -> None:
        """Add the column-wise relationships of a version-2 snapshot, checking each as the
        ontology would, but each distinct value (kind pair, provenance, date, role) once."""
        if not isinstance(prov_table, list) or not isinstance(layers, dict):
            raise InvalidRequest("provenance must be a list and relationships an object")
        provs = [provenance(*_three_texts(entry)) for entry in prov_table]
        nodes = self._nodes
        for name, cols in layers.items():
            rel_type = RelType(name)
            allowed = ALLOWED_PAIRS[rel_type]
            acyclic = rel_type in ACYCLIC_TYPES
            if not isinstance(cols, dict) or set(cols) - _ALL_COLUMNS:
                raise InvalidRequest(
                    f"the {name} columns are not source, target, provenance, role, since, until"
                )
            sources, targets, prov_ids = cols["source"], cols["target"], cols["provenance"]
            size = len(sources)
            extra = {f: cols.get(f) for f in _OPTIONAL_COLUMNS}
            if (
                len(targets) != size
                or len(prov_ids) != size
                or any(c is not None and len(c) != size for c in extra.values())
            ):
                raise InvalidRequest(f"the {name} columns have different lengths")
            roles = [_role(v) for v in extra["role"]] if extra["role"] is not None else [""] * size
            since = [_date(v) for v in extra["since"]] if extra["since"] is not None else [None] * size
            until = [_date(v) for v in extra["until"]] if extra["until"] is not None else [None] * size
            # Written straight into the layer's dict-of-dicts (networkx's documented
            # structure: _node, _succ, _pred), one shared attribute dict per edge as
            # add_edge makes; the relationship is built on first read (see _rel_of).
            layer = self._layer(name)
            node_attrs, succ, pred = layer._node, layer._succ, layer._pred
            for i in range(size):
                source = nodes[sources[i]]
                target = nodes[targets[i]]
                if (source.kind, target.kind) not in allowed:
                    raise InvalidRequest(f"{name} cannot join {source.kind} → {target.kind}")
                sid, tid = source.id, target.id
                if acyclic and sid == tid:
                    raise InvalidRequest(f"{name} cannot join {sid} to itself")
                prov_id = prov_ids[i]
                if type(prov_id) is not int or prov_id < 0:
                    raise InvalidRequest(f"provenance index {prov_id!r} is not in the table")
                for node_id in (sid, tid):
                    if node_id not in node_attrs:
                        node_attrs[node_id] = {}
                        succ[node_id] = {}
                        pred[node_id] = {}
                out = succ[sid]
                if tid in out:
                    raise InvalidRequest(f"the {name} columns repeat {sid} → {tid}")
                if out and next(reversed(out)) > tid:
                    self._unsorted.add((name, sid, True))
                into = pred[tid]
                if into and next(reversed(into)) > sid:
                    self._unsorted.add((name, tid, False))
                out[tid] = pred[tid][sid] = {"m": (provs[prov_id], roles[i], since[i], until[i])}
            self._rel_counts[name] = self._rel_counts.get(name, 0) + size
        self._dirty = True


_OPTIONAL_COLUMNS = ("role", "since", "until")


def _copy_layer(layer: nx.DiGraph) -> nx.DiGraph:
    """A copy of a layer with its neighbour lists in the same order, sharing the edges'
    attribute dicts (never changed in place: an update puts a new one in)."""
    twin = nx.DiGraph(**layer.graph)
    twin._node = {n: dict(attrs) for n, attrs in layer._node.items()}
    twin._succ = twin._adj = {n: dict(nbrs) for n, nbrs in layer._succ.items()}
    twin._pred = {n: dict(nbrs) for n, nbrs in layer._pred.items()}
    return twin


class _Enough(Exception):
    """Raised inside a walk that has found as many paths as were asked for."""


def _first(item: tuple[str, Any]) -> str:
    return item[0]


def _first_two(item: tuple[str, str, Any]) -> tuple[str, str]:
    return item[0], item[1]


_REL_TYPES = {t.value: t for t in RelType}

_Packed = tuple[Provenance, str, str | None, str | None]
"""A relationship read from a snapshot and not built yet: provenance, role, since, until."""


def _rel_of(data: dict[str, Any], source: str, rel_type: RelType, target: str) -> Relationship:
    """The relationship an edge holds, built (once) when it is still packed."""
    rel = data["m"]
    if type(rel) is tuple:
        rel = data["m"] = assemble_relationship(source, rel_type, target, *rel)
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
