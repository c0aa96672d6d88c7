"""The embedded store's snapshot: plain JSON (no pickle), written column-wise and atomically,
read back through the ontology's validators so that a snapshot can do no more than fail to load.
"""

from __future__ import annotations

import contextlib
import glob
import operator
import os
import threading
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import chain, islice, repeat
from pathlib import Path as FsPath
from typing import Any

import networkx as nx
import orjson
from pydantic import TypeAdapter, ValidationError

from graph_service.backends.embedded.graph import (
    _NO_ATTRIBUTES,
    _REL_TYPES,
    _consume,
    _Graph,
    _Packed,
    _packed,
)
from graph_service.core.errors import BackendUnavailable, GraphServiceError, InvalidRequest
from graph_service.core.memory import collector_paused
from graph_service.core.ontology import (
    ACYCLIC_TYPES,
    ALLOWED_PAIRS,
    ID_PREFIX,
    NODE_MODELS,
    Node,
    NodeKind,
    PartialDate,
    Provenance,
    Text,
    assemble_nodes,
    column_adapter,
    ids_of_kind,
    provenance,
    relationship_from_props,
)

SNAPSHOT_FORMAT = "innograph-snapshot"


SNAPSHOT_VERSION = 3


READABLE_VERSIONS = (1, 2, 3)
"""Snapshot versions this innograph opens: 1 (one entry per row), 2 (relationships
column-wise) and 3 (nodes column-wise per kind too, relationships' ends by position)."""


_OPTIONAL_COLUMNS = ("role", "since", "until")


_REQUIRED_COLUMNS = frozenset({"source", "target", "provenance"})


_KINDS = {k.value: k for k in NodeKind}


_KINDS_IN_ID_ORDER = sorted(NodeKind, key=ID_PREFIX.__getitem__)
"""Kinds ordered so that their nodes, each kind in id order, are in id order: ``:`` sorts
before any letter of a prefix."""


class _Snapshot(_Graph):
    """Saving the graph as a column-wise JSON snapshot, atomically, and reading one back checked."""

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
