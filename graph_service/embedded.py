"""The embedded backend: a networkx multigraph in the process, saved as an atomic JSON snapshot.

The snapshot is plain JSON (no pickle), validated through the ontology when it is
opened, so a snapshot from someone else can do no more than fail to load. Saving
writes a temporary file beside the snapshot, fsyncs it, renames it over the old
one and fsyncs the directory: a process killed at any point leaves either the
previous snapshot or the new one, whole.
"""

from __future__ import annotations

import contextlib
import glob
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path as FsPath
from typing import Any

import networkx as nx
import orjson
from pydantic import ValidationError

from graph_service.errors import BackendUnavailable, GraphServiceError, InvalidRequest
from graph_service.ontology import (
    Node,
    NodeKind,
    Relationship,
    RelType,
    node_from_props,
    normalize_name,
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
SNAPSHOT_VERSION = 1

RelKey = tuple[str, str, str]


class EmbeddedStore:
    """A ``GraphStore`` on a networkx ``MultiDiGraph``, optionally backed by a snapshot file.

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
                    self._g.add_node(node.id)
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
        return summary

    def upsert_relationships(self, relationships: Sequence[Relationship]) -> WriteSummary:
        """Create or replace relationships by (source, type, target); endpoints must exist."""
        with self._lock:
            missing = sorted({i for r in relationships for i in (r.source, r.target) if i not in self._nodes})
            if missing:
                raise InvalidRequest(
                    f"relationships point at {len(missing)} missing node(s): " + ", ".join(missing[:10])
                )
            summary = WriteSummary()
            for rel in relationships:
                counts = summary.relationships.setdefault(rel.type.value, WriteCounts())
                data = self._g.get_edge_data(rel.source, rel.target, key=rel.type.value)
                if data is None:
                    counts.created += 1
                    self._rel_counts[rel.type.value] = self._rel_counts.get(rel.type.value, 0) + 1
                elif data["m"] == rel:
                    counts.unchanged += 1
                    continue
                else:
                    counts.updated += 1
                self._g.add_edge(rel.source, rel.target, key=rel.type.value, m=rel)
                self._dirty = True
        return summary

    def clear(self) -> None:
        """Remove every node and relationship."""
        with self._lock:
            self._reset()
            self._dirty = True

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
            data = self._g.get_edge_data(key[0], key[2], key=key[1])
            if data is not None:
                out[key] = data["m"]
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
        found = []
        for rel, other, way in self._hops(node_id, direction, types):
            node = self._nodes[other]
            if kinds and node.kind not in kinds:
                continue
            found.append((rel.type.value, other, way, node, rel))
        found.sort(key=lambda t: (t[0], t[1], t[2]))
        if limit is not None:
            found = found[:limit]
        return [Neighbor(node=n, relationship=r, direction=w) for _, _, w, n, r in found]

    def match_paths(
        self, start_id: str, steps: Sequence[PathStep], limit: int | None = DEFAULT_LIMIT
    ) -> list[Path]:
        """Every simple path from ``start_id`` that follows the steps in order."""
        start = self._nodes.get(start_id)
        if start is None:
            return []
        results: list[tuple[list[str], list[Relationship]]] = []

        def walk(depth: int, ids: list[str], rels: list[Relationship]) -> None:
            if depth == len(steps):
                results.append((list(ids), list(rels)))
                return
            step = steps[depth]
            for rel, other, _ in self._hops(ids[-1], step.direction, step.types):
                if other in ids:
                    continue
                if step.kinds and self._nodes[other].kind not in step.kinds:
                    continue
                ids.append(other)
                rels.append(rel)
                walk(depth + 1, ids, rels)
                ids.pop()
                rels.pop()

        walk(0, [start_id], [])
        results.sort(key=lambda r: (r[0], [x.type.value for x in r[1]]))
        if limit is not None:
            results = results[:limit]
        return [
            Path(nodes=tuple(self._nodes[i] for i in ids), relationships=tuple(rels)) for ids, rels in results
        ]

    def subgraph(self, node_ids: Iterable[str]) -> Subgraph:
        """The given nodes and every relationship among them."""
        ids = sorted({i for i in node_ids if i in self._nodes})
        keep = set(ids)
        rels = [data["m"] for u in ids for _, v, data in self._g.out_edges(u, data=True) if v in keep]
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
        wanted = {t.value for t in types}
        rels = [
            data["m"]
            for _, _, key, data in self._g.edges(keys=True, data=True)
            if not wanted or key in wanted
        ]
        rels.sort(key=lambda r: r.key)
        yield from rels

    def clone(self) -> EmbeddedStore:
        """A copy with the same snapshot path, sharing the (immutable) nodes and relationships.

        Loading into the copy and then swapping it in lets readers go on reading the
        old graph until the new one is complete.
        """
        with self._lock:
            twin = EmbeddedStore(None)
            twin.path = self.path
            twin._g = self._g.copy()
            twin._nodes = dict(self._nodes)
            twin._by_kind = {k: set(v) for k, v in self._by_kind.items()}
            twin._names = {k: set(v) for k, v in self._names.items()}
            twin._rel_counts = dict(self._rel_counts)
            twin._dirty = self._dirty
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
        """The snapshot's JSON, ordered so that the same graph gives the same bytes."""
        nodes = [self._nodes[i].to_props() for i in sorted(self._nodes)]
        rels = [[r.source, r.type.value, r.target, r.to_props()] for r in self.iter_relationships()]
        doc = {
            "format": SNAPSHOT_FORMAT,
            "version": SNAPSHOT_VERSION,
            "nodes": nodes,
            "relationships": rels,
        }
        return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)

    def close(self) -> None:
        """Nothing to release; a pending change is not saved (call :meth:`persist`)."""

    # -- internals ----------------------------------------------------------

    def _reset(self) -> None:
        self._g: nx.MultiDiGraph = nx.MultiDiGraph()
        self._nodes: dict[str, Node] = {}
        self._by_kind: dict[NodeKind, set[str]] = {k: set() for k in NodeKind}
        self._names: dict[str, set[str]] = {}
        self._rel_counts: dict[str, int] = {}

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

    def _hops(
        self, node_id: str, direction: Direction, types: Sequence[RelType]
    ) -> Iterator[tuple[Relationship, str, str]]:
        wanted = {t.value for t in types}
        if direction in ("out", "both"):
            for _, other, key, data in self._g.out_edges(node_id, keys=True, data=True):
                if not wanted or key in wanted:
                    yield data["m"], other, "out"
        if direction in ("in", "both"):
            for other, _, key, data in self._g.in_edges(node_id, keys=True, data=True):
                if not wanted or key in wanted:
                    yield data["m"], other, "in"

    def _load_snapshot(self, path: FsPath) -> None:
        try:
            doc = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise BackendUnavailable(f"cannot read the snapshot {path}: {exc.strerror}") from None
        except orjson.JSONDecodeError as exc:
            raise InvalidRequest(f"the snapshot {path} is not valid JSON ({exc}).") from None
        if not isinstance(doc, dict) or doc.get("format") != SNAPSHOT_FORMAT:
            raise InvalidRequest(f"{path} is not an innograph snapshot.")
        if doc.get("version") != SNAPSHOT_VERSION:
            raise InvalidRequest(
                f"the snapshot {path} has version {doc.get('version')!r}; "
                f"this innograph reads version {SNAPSHOT_VERSION}."
            )
        try:
            nodes = [node_from_props(p) for p in doc["nodes"]]
            rels = [relationship_from_props(s, t, o, p) for s, t, o, p in doc["relationships"]]
        except (ValidationError, GraphServiceError, KeyError, TypeError, ValueError) as exc:
            raise InvalidRequest(f"the snapshot {path} holds an invalid entry: {_first_line(exc)}") from None
        self.upsert_nodes(nodes)
        try:
            self.upsert_relationships(rels)
        except InvalidRequest as exc:
            raise InvalidRequest(f"the snapshot {path} holds an invalid entry: {exc.message}") from None


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
