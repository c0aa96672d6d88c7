"""The Neo4j backend: a ``GraphStore`` on the official driver, with the same answers as the embedded one.

Storage: a node is a node labelled with its kind (``:Society``) carrying
:meth:`Node.to_props` plus ``names_norm`` (every name folded by ``normalize_name``,
read through a keyword full-text index by :meth:`Neo4jStore.ids_by_name`); a
relationship carries :meth:`Relationship.to_props`. ``id`` is unique per label.

Every call runs in one transaction with the time limit of the settings. A call that
fails on a dropped connection or a transient error is retried (a fresh connection
replaces one left stale by a server restart) for up to ``MAX_RETRY_TIME`` seconds, but
only while the server still accepts connections: during an outage a call fails at once
instead of waiting out the retries. A load runs in one transaction of its own
(:meth:`Neo4jStore.load_transaction`), so readers never see it half-done. Driver errors
leave this module only as the project's own (:mod:`graph_service.core.errors`), with messages
that say what to check and no query text. All Cypher lives in :mod:`graph_service.backends.neo4j.cypher`.

The database is assumed to be innograph's own: nodes and relationships of other
labels or types are outside the contract (``clear`` removes them too). One node of its
own, ``(:InnographGeneration)``, holds the graph's generation (:meth:`Neo4jStore.generation`),
which every innograph write transaction advances when it commits.

Example::

    store = Neo4jStore(Neo4jSettings(uri="bolt://127.0.0.1:7687", password="secret"))
    store.upsert_nodes([society]).nodes["Society"].created   # 1, then 0 on a re-run
    store.neighbors("society:cmes", direction="out", types=[RelType.SERVES])
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Concatenate, LiteralString, ParamSpec, TypeVar
from urllib.parse import urlsplit

from neo4j import READ_ACCESS, WRITE_ACCESS, Driver, GraphDatabase, Record, Session, Transaction
from neo4j.exceptions import (
    AuthError,
    ClientError,
    ConfigurationError,
    ConstraintError,
    DatabaseError,
    DriverError,
    Forbidden,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)
from pydantic import ValidationError

from graph_service.backends.neo4j import cypher
from graph_service.core.errors import BackendUnavailable, Conflict, GraphServiceError, InvalidRequest
from graph_service.core.ontology import (
    ALLOWED_PAIRS,
    Basis,
    Node,
    NodeKind,
    Relationship,
    RelType,
    kind_of_id,
    node_from_props,
    normalize_name,
    relationship_from_props,
)
from graph_service.core.settings import Neo4jSettings
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

__all__ = ["NAMES_KEY", "Neo4jStore"]


NAMES_KEY = "names_norm"
"""The stored property listing a node's folded names; not part of the node model."""

CHUNK = 10_000
"""Rows per ``UNWIND`` statement; a larger batch runs as several statements in one transaction."""
LOAD_CHUNK = 500
"""Rows per upsert statement inside a load's transaction, where large upserts slow down as the
transaction grows (at M: 2,780 relationships/s with 500, 1,438 with 10,000; RELIABILITY.md)."""
CREATE_CHUNK = 5_000
"""Rows per statement that creates relationships known to be new (a load's fast path)."""
PAGE = 5_000
"""Nodes per page when streaming the whole graph."""
CLEAR_BATCH = 10_000
"""Items deleted per transaction by :meth:`Neo4jStore.clear`."""
MAX_RETRY_TIME = 5.0
"""Seconds a transaction is retried after a transient failure or a dropped connection, counted from
the first failure; no retry starts while the server refuses connections."""
RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0)
"""Pauses before the first, second, ... retry (the last repeats)."""
LOAD_METADATA = {"app": "innograph", "work": "load"}
"""Attached to a load's transaction, so that ``SHOW TRANSACTIONS`` tells it apart."""

RelKey = tuple[str, str, str]
P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger(__name__)
# The driver logs each retry at WARNING; without a handler of the application's, Python
# would print those to stderr around our one-line error. The application's own logging
# configuration (propagation to the root logger) still receives them.
logging.getLogger("neo4j").addHandler(logging.NullHandler())


class Neo4jStore:
    """A ``GraphStore`` on a Neo4j server (or cluster, through a ``neo4j://`` routing URI).

    Args:
        settings: where and how to connect, and the transaction time limit.

    Raises:
        BackendUnavailable: when the server cannot be reached, refuses the
            credentials, or has no such database.
    """

    name = "neo4j"
    local_generation = False

    def __init__(self, settings: Neo4jSettings) -> None:
        self._uri = settings.uri
        self.load_batch_size: int | None = settings.batch_size
        self._user = settings.user
        self._database = settings.database
        self._timeout = settings.timeout
        self._connect_timeout = settings.connect_timeout
        self._load_timeout = settings.load_timeout
        self._atomic_load_limit = settings.atomic_load_limit
        self._retry_time = min(MAX_RETRY_TIME, settings.timeout)
        self._loads = threading.local()
        try:
            parts = urlsplit(settings.uri)
            self._address = (parts.hostname or "127.0.0.1", parts.port or 7687)
            self._driver: Driver = GraphDatabase.driver(
                settings.uri,
                auth=(settings.user, settings.password.get_secret_value()),
                connection_timeout=settings.connect_timeout,
                connection_acquisition_timeout=settings.connect_timeout + settings.timeout,
                notifications_min_severity="OFF",
            )
        except (ConfigurationError, ValueError):
            raise BackendUnavailable(
                f"NEO4J_URI {settings.uri!r} is not a Neo4j address; "
                "expected bolt://host:7687 or neo4j://host:7687"
            ) from None
        try:
            with self._errors("connecting"):
                self._driver.verify_connectivity()
            self._ensure_schema()
        except BaseException:
            self._driver.close()
            raise

    # -- writes -------------------------------------------------------------

    def upsert_nodes(self, nodes: Sequence[Node]) -> WriteSummary:
        """Create or replace nodes by id, in one transaction.

        Properties a node no longer has are removed. Nodes equal to what is stored
        count as ``unchanged`` and are not written.

        Args:
            nodes: the batch; any size (large batches run as several statements).

        Returns:
            Created, updated and unchanged counts per kind, as the embedded store counts them.
        """
        groups: dict[NodeKind, dict[str, list[dict[str, Any]]]] = {}
        for node in nodes:
            groups.setdefault(node.kind, {}).setdefault(node.id, []).append(_node_props(node))
        if not groups:
            return WriteSummary()
        self._make_room(len(nodes))
        return self._change("writing nodes", _upsert_nodes_tx, groups, self._chunk(), self._tracked_load())

    def upsert_relationships(self, relationships: Sequence[Relationship]) -> WriteSummary:
        """Create or replace relationships by (source, type, target), in one transaction.

        Args:
            relationships: the batch; any size.

        Returns:
            Created, updated and unchanged counts per type.

        Raises:
            InvalidRequest: when an endpoint is missing; nothing of the batch is written.
        """
        rels = list(relationships)
        if not rels:
            return WriteSummary()
        groups: dict[
            RelType, dict[tuple[NodeKind, NodeKind], dict[tuple[str, str], list[dict[str, Any]]]]
        ] = {}
        for rel in rels:
            kinds = (kind_of_id(rel.source), kind_of_id(rel.target))
            by_kinds = groups.setdefault(rel.type, {}).setdefault(kinds, {})
            by_kinds.setdefault((rel.source, rel.target), []).append(rel.to_props())
        self._make_room(len(rels))
        return self._change(
            "writing relationships", _upsert_relationships_tx, groups, self._chunk(), self._tracked_load()
        )

    def staging(self) -> Neo4jStore:
        """This store: :meth:`load_transaction` keeps a load out of readers' sight until it commits."""
        return self

    @contextmanager
    def load_transaction(self) -> Iterator[None]:
        """Writes inside are visible to readers all at once, or not at all.

        The upserts this thread makes inside the block run in one transaction (time limit
        ``NEO4J_LOAD_TIMEOUT``), committed when the block ends and rolled back when it raises
        or the process dies: a failed load leaves the graph as it was. Readers, including this
        thread's own reads inside the block, see the graph as it was until the commit. Nothing
        is retried inside: a dropped connection fails the load, and a re-run writes it again.

        A load of more than ``NEO4J_ATOMIC_LOAD_LIMIT`` nodes plus relationships would hold too
        much of the server's heap: when a write would pass the limit, what is written so far is
        committed and the rest is committed batch by batch, as a warning in the log says.

        Raises:
            BackendUnavailable: when the server cannot be reached, or fails the load or its commit.
            InvalidRequest: when a write inside failed but the block went on; nothing is written.
        """
        if getattr(self._loads, "current", None) is not None or self._atomic_load_limit == 0:
            yield  # nested in a load already, or switched off: each batch commits on its own
            return
        load = self._retrying("starting a load", self._begin_load)
        self._loads.current = load
        try:
            yield
        except BaseException:
            self._loads.current = None
            load.close()  # rolls back whatever the transaction holds
            raise
        self._loads.current = None
        if load.spilled:
            return  # committed when it passed the limit; the rest committed batch by batch
        if load.failed:
            load.close()
            raise InvalidRequest(
                "a write inside the load failed and the load went on; nothing of the load was written"
            )
        with self._errors("committing the load"):
            try:
                if load.changed:
                    load.tx.run(cypher.ADVANCE_GENERATION).consume()
                load.commit()
            finally:
                load.close()
        if load.changed:
            self._advance_after_commit()

    def clear(self) -> None:
        """Remove every node and relationship, in batches so that no transaction grows large.

        Constraints and indexes stay.
        """
        for text in (cypher.CLEAR_RELATIONSHIPS, cypher.CLEAR_NODES):
            while self._write("clearing the graph", _single_int, (text, {"batch": CLEAR_BATCH})):
                pass
        load = self._tracked_load()
        if load is not None:  # cleared inside a load: the nodes it created are gone
            load.created.clear()
            load.changed = True
        self._write("clearing the graph", _run_all, [cypher.ADVANCE_GENERATION])  # a new token

    def generation(self) -> str | None:
        """The generation node's ``token:counter`` (one read transaction), ``None`` before any write.

        Every innograph write transaction that changed something advances it as its last
        statement (a load's, once, at its commit), and a transaction of its own advances it again once that commit has been
        applied (:meth:`_advance_after_commit`): whoever reads a generation after a write
        returned and then reads the graph sees all of that write. Writes made by other
        programs do not advance it.
        """
        return self._read("reading the generation", _optional_text, cypher.READ_GENERATION)

    # -- reads --------------------------------------------------------------

    def get_node(self, node_id: str) -> Node | None:
        """The node with this id, or ``None`` (also for a malformed id)."""
        return self.get_nodes([node_id]).get(node_id)

    def get_nodes(self, node_ids: Iterable[str]) -> dict[str, Node]:
        """The nodes among these ids that exist, by id, in the order asked."""
        wanted = list(dict.fromkeys(node_ids))
        by_kind = _ids_by_kind(wanted)
        if not by_kind:
            return {}
        found = self._read(
            "reading nodes",
            _props_by_id,
            [
                cypher.node_props_by_ids(kind, chunk)
                for kind, ids in by_kind.items()
                for chunk in _chunks(ids)
            ],
        )
        return {i: _to_node(found[i]) for i in wanted if i in found}

    def find_nodes(
        self,
        kind: NodeKind | None = None,
        where: Mapping[str, Any] | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Node]:
        """Nodes of a kind whose properties equal the given values, ordered by id.

        Args:
            kind: the kind, or ``None`` for every kind.
            where: property values to match, as :meth:`Node.to_props` writes them;
                ``None`` matches a property the node does not have.
            limit: at most this many nodes; ``None`` for all.
        """
        conditions = dict(where or {})
        # names_norm is stored but is no property of the model: only "absent" matches it
        if NAMES_KEY in conditions and conditions.pop(NAMES_KEY) is not None:
            return []
        records = self._read("finding nodes", _records, cypher.find_nodes(kind, conditions, limit))
        return [_to_node(r["props"]) for r in records]

    def ids_by_name(self, names: Iterable[str]) -> dict[str, list[str]]:
        """For each name (folded by ``normalize_name``), the sorted ids of nodes answering to it."""
        out: dict[str, list[str]] = {normalize_name(name): [] for name in names}
        keys = [k for k in out if k]
        if not keys:
            return out
        found: dict[str, set[str]] = {}
        for chunk in _chunks(keys):
            for record in self._read("looking up names", _records, cypher.ids_by_name(chunk)):
                found.setdefault(record["key"], set()).add(record["id"])
        for key, ids in found.items():
            out[key] = sorted(ids)
        return out

    def get_relationships(self, keys: Iterable[RelKey]) -> dict[RelKey, Relationship]:
        """The relationships among these (source, type, target) keys that exist, in the order asked."""
        wanted: list[RelKey] = list(dict.fromkeys((k[0], k[1], k[2]) for k in keys))
        groups: dict[tuple[RelType, NodeKind, NodeKind], list[dict[str, str]]] = {}
        for source, rtype, target in wanted:
            try:
                group = (RelType(rtype), kind_of_id(source), kind_of_id(target))
            except (ValueError, InvalidRequest):
                continue
            groups.setdefault(group, []).append({"s": source, "t": target})
        work = [
            (rtype, cypher.existing_relationships(rtype, skind, tkind, list(chunk)))
            for (rtype, skind, tkind), pairs in groups.items()
            for chunk in _chunks(pairs)
        ]
        if not work:
            return {}
        batches = self._read("reading relationships", _records_of_many, [q for _, q in work])
        found: dict[RelKey, dict[str, Any]] = {}
        for (rtype, _), batch in zip(work, batches, strict=True):
            for record in batch:
                found[(record["s"], rtype.value, record["t"])] = record["props"]
        return {key: _to_relationship(key[0], key[1], key[2], found[key]) for key in wanted if key in found}

    def neighbors(
        self,
        node_id: str,
        *,
        direction: Direction = "both",
        types: Sequence[RelType] = (),
        kinds: Sequence[NodeKind] = (),
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Neighbor]:
        """The nodes one hop away, ordered by (type, neighbour id, direction).

        Args:
            node_id: the origin; an unknown id has no neighbours.
            direction: ``out``, ``in`` or ``both``; a self-loop appears once each way.
            types: relationship types to follow; empty for all.
            kinds: kinds of neighbour to keep; empty for all.
            limit: at most this many; ``None`` for all.
        """
        try:
            kind = kind_of_id(node_id)
        except InvalidRequest:
            return []
        query = cypher.neighbors(kind, node_id, direction, types, kinds, limit)
        records = self._read("reading neighbours", _records, query)
        nodes: dict[str, Node] = {}
        out = []
        for r in records:
            node = nodes.get(r["other"]) or nodes.setdefault(r["other"], _to_node(r["node"]))
            rel = _to_relationship(r["s"], r["type"], r["t"], r["props"])
            out.append(Neighbor(node=node, relationship=rel, direction=r["way"]))
        return out

    def match_paths(
        self, start_id: str, steps: Sequence[PathStep], limit: int | None = DEFAULT_LIMIT
    ) -> list[Path]:
        """Every path from ``start_id`` following the steps in order, visiting no node twice.

        One ``MATCH`` runs the whole pattern.

        Args:
            start_id: where paths begin; an unknown id has none.
            steps: per hop, the relationship types, the direction and the kinds to arrive at.
            limit: at most this many paths; ``None`` for all.

        Returns:
            Paths ordered by the ids along them, then by their relationship types.
        """
        try:
            kind = kind_of_id(start_id)
        except InvalidRequest:
            return []
        spec = [(step.types, step.direction, step.kinds) for step in steps]
        records = self._read("matching paths", _records, cypher.match_paths(kind, start_id, spec, limit))
        build = _PathBuilder()
        return [build.path(r["nodes"], r["rels"]) for r in records]

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
        """:meth:`match_paths` grouped by the node each path ends at, counted and weighed on
        the server: only the first ``keep`` paths per end travel (see ``GraphStore.tally_paths``)."""
        try:
            kind = kind_of_id(start_id)
        except InvalidRequest:
            return {}
        spec = [(step.types, step.direction, step.kinds) for step in steps]
        query = cypher.tally_paths(
            kind,
            start_id,
            spec,
            limit=limit,
            as_of=as_of,
            weights={basis.value: w for basis, w in weights.items()},
            keep=keep,
        )
        build = _PathBuilder()
        out: dict[str, PathTally] = {}
        for r in sorted(self._read("tallying paths", _records, query), key=lambda r: str(r["end"])):
            examples = PathsOnRead(build.path)
            for nodes, rels in r["examples"]:
                examples.add(nodes, rels)
            out[r["end"]] = PathTally(weight=float(r["weight"]), count=r["n"], examples=examples)
        return out

    def path_ends(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> set[str]:
        """Where the paths of :meth:`match_paths` end (see ``GraphStore.path_ends``)."""
        return set(self.tally_paths(start_id, steps, weights=UNIT_WEIGHTS, as_of=as_of, limit=limit))

    def path_ends_many(
        self,
        start_ids: Iterable[str],
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, set[str]]:
        """:meth:`path_ends` from many starts (see ``GraphStore.path_ends_many``): one query per
        kind of start and chunk of starts, the pattern matched per start inside it.

        Under a cap, the paths are first counted and their ends gathered in no order; only the
        starts with more paths than the cap (a few hubs) are asked again with their paths in
        order, since only there does the order decide which paths count."""
        starts = list(dict.fromkeys(start_ids))
        out: dict[str, set[str]] = {s: set() for s in starts}
        spec = [(step.types, step.direction, step.kinds) for step in steps]
        for kind, ids in _ids_by_kind(starts).items():
            for chunk in _chunks(ids):
                over: list[str] = []
                if limit is None:
                    query = cypher.path_ends_many(kind, chunk, spec, limit=None, as_of=as_of)
                else:
                    query = cypher.path_ends_counted(kind, chunk, spec, as_of=as_of)
                for r in self._read("finding where paths end", _records, query):
                    if limit is not None and r["n"] > limit:
                        over.append(r["start"])
                    else:
                        out[r["start"]] = set(r["ends"])
                if over:
                    query = cypher.path_ends_many(kind, over, spec, limit=limit, as_of=as_of)
                    for r in self._read("finding where paths end", _records, query):
                        out[r["start"]] = set(r["ends"])
        return out

    def started_between(self, start: str, end: str, *, limit: int) -> Started:
        """What started in a period, filtered, counted and ordered on the server: two queries
        in one read transaction, each one row."""
        nodes, rels = self._read(
            "finding what started in a period",
            _records_of_many,
            [cypher.started_nodes(start, end, limit), cypher.started_relationships(start, end, limit)],
        )
        return Started(
            nodes=[_to_node(props) for props in nodes[0]["first"]],
            relationships=[_to_relationship(s, t, o, props) for s, t, o, props in rels[0]["first"]],
            total_nodes=nodes[0]["total"],
            total_relationships=rels[0]["total"],
        )

    def subgraph(self, node_ids: Iterable[str]) -> Subgraph:
        """The given nodes that exist, by id, and every relationship among them, by key."""
        nodes = self.get_nodes(node_ids)
        ids = sorted(nodes)
        by_kind = _ids_by_kind(ids)
        queries = [
            cypher.subgraph_relationships(kind, chunk, ids)
            for kind, kind_ids in by_kind.items()
            for chunk in _chunks(kind_ids)
        ]
        rels: list[Relationship] = []
        if queries:
            for batch in self._read("reading a subgraph", _records_of_many, queries):
                rels.extend(_to_relationship(r["s"], r["type"], r["t"], r["props"]) for r in batch)
        rels.sort(key=lambda r: r.key)
        return Subgraph(nodes=[nodes[i] for i in ids], relationships=rels)

    def counts(self) -> GraphCounts:
        """Node counts per kind and relationship counts per type; those with none are omitted."""
        found = self._read("counting", _counts_tx)
        return GraphCounts(
            nodes={k.value: found[k.value] for k in NodeKind if found.get(k.value)},
            relationships={t: found[t] for t in sorted(t.value for t in RelType) if found.get(t)},
        )

    def iter_nodes(self, kind: NodeKind | None = None) -> Iterator[Node]:
        """Every node (of a kind), ordered by id, fetched a page (one transaction) at a time."""
        kinds = [NodeKind(kind)] if kind is not None else cypher.kinds_in_id_order()
        cursor: _Cursor | None = (0, "")
        while cursor is not None:
            records, cursor = self._read("reading nodes", _page_tx, kinds, cursor, _node_page)
            for record in records:
                yield _to_node(record["props"])

    def iter_relationships(self, types: Sequence[RelType] = ()) -> Iterator[Relationship]:
        """Every relationship (of some types), ordered by key, a page of source nodes at a time."""
        wanted = [RelType(t) for t in types]
        sources = {s for t in wanted for s, _ in ALLOWED_PAIRS[t]} if wanted else set(NodeKind)
        kinds = [k for k in cypher.kinds_in_id_order() if k in sources]
        cursor: _Cursor | None = (0, "")
        while cursor is not None:
            records, cursor = self._read(
                "reading relationships", _page_tx, kinds, cursor, partial(_relationship_page, types=wanted)
            )
            rels = [_to_relationship(r["s"], r["type"], r["t"], r["props"]) for r in records]
            rels.sort(key=lambda r: r.key)
            yield from rels

    # -- lifecycle ----------------------------------------------------------

    def persist(self) -> None:
        """Nothing to do: every write is durable once its transaction commits."""

    def close(self) -> None:
        """Close the driver and its connections."""
        self._driver.close()

    # -- internals ----------------------------------------------------------

    def _ensure_schema(self) -> None:
        """Create the constraints and indexes the reads need, and wait until they are online."""
        self._write(
            "creating the schema", _run_all, [*cypher.schema_statements(), cypher.GENERATION_CONSTRAINT]
        )
        records = self._read("reading the schema", _records, cypher.show_names_index())
        want = sorted(k.value for k in NodeKind)
        have = [(sorted(r["labels"]), list(r["properties"])) for r in records]
        if have != [(want, [NAMES_KEY])]:
            # absent, or built over other kinds: (re)build it over the ontology's kinds
            self._write("creating the schema", _run_all, [cypher.drop_names_index()])
            self._write("creating the schema", _run_all, [cypher.create_names_index()])
        self._read("waiting for indexes", _run_all, [cypher.AWAIT_INDEXES], {"seconds": int(self._timeout)})

    def _read(
        self,
        action: str,
        work: Callable[Concatenate[Transaction, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work`` in a read transaction (routed to a reader in a cluster), retried as
        :meth:`_retrying` says."""
        return self._retrying(action, partial(self._transact, READ_ACCESS, work, *args, **kwargs))

    def _write(
        self,
        action: str,
        work: Callable[Concatenate[Transaction, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``work`` in a write transaction of its own, or in this thread's load transaction."""
        load: _Load | None = getattr(self._loads, "current", None)
        if load is None:
            return self._retrying(action, partial(self._transact, WRITE_ACCESS, work, *args, **kwargs))
        try:
            with self._errors(action):
                return work(load.tx, *args, **kwargs)
        except BaseException:
            load.failed = True
            raise

    def _change(
        self,
        action: str,
        work: Callable[Concatenate[Transaction, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """A write that may change the graph: inside this thread's load (whose commit advances
        the generation), or in a transaction of its own that advances the generation last.
        A write that changed nothing (an upsert of what is there already) leaves the
        generation as it was, so answers kept for it stay good.

        Last, so that a writer holds the generation node's lock only while it commits and
        needs no other lock meanwhile: writers never wait on each other in a cycle.
        """
        load: _Load | None = getattr(self._loads, "current", None)
        if load is not None:
            result = self._write(action, work, *args, **kwargs)
            load.changed = load.changed or _changed(result)
            return result

        def then_advance(tx: Transaction) -> T:
            result = work(tx, *args, **kwargs)
            if _changed(result):
                tx.run(cypher.ADVANCE_GENERATION).consume()
            return result

        result = self._write(action, then_advance)
        if _changed(result):
            self._advance_after_commit()
        return result

    def _advance_after_commit(self) -> None:
        """Advance the generation again, in a transaction of its own, after a write has committed.

        Neo4j applies a commit to its stores in a fixed order, the generation node's new
        counter before the count store and the indexes, and readers are read-committed: one
        that reads the generation while a commit is being applied can see the new generation
        and then the old counts. A commit returns only once it has been applied in full, so a
        generation advanced after it names the whole write, and an answer kept under it (the
        API's answer cache) is the new graph's. The advance inside the write's own transaction
        stays: should this process die between the two, the generation has still changed, and
        so a failure here is logged rather than raised: the write itself is committed.
        """
        try:
            self._write("advancing the graph's generation", _run_all, [cypher.ADVANCE_GENERATION])
        except GraphServiceError:
            log.warning(
                "a write was committed but the graph's generation could not be advanced again; "
                "answers kept while the commit was being applied may be stale until the next write"
            )

    def _transact(
        self,
        mode: str,
        work: Callable[Concatenate[Transaction, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """One attempt: ``work`` in a new transaction, committed when it returns."""
        with (
            self._driver.session(database=self._database, default_access_mode=mode) as session,
            session.begin_transaction(timeout=self._timeout) as tx,
        ):
            result = work(tx, *args, **kwargs)
            tx.commit()
            return result

    def _retrying(self, action: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt``; after a failure worth retrying, run it again while that is still useful.

        A dropped connection (one left stale by a server restart, or cut mid-transaction) and a
        transient error (a deadlock, a leader switch) are retried with short pauses for up to
        ``MAX_RETRY_TIME`` seconds from the first failure. Before each retry the server's
        address is tried: when it refuses the connection or cannot be reached within the connect
        timeout, the call fails at once: an outage is reported in milliseconds, not after the
        retries. Writes are idempotent upserts, so a retried commit whose first outcome was lost
        does no harm.
        """
        first_failure: float | None = None
        pauses = iter(RETRY_DELAYS)
        with self._errors(action):
            while True:
                try:
                    return attempt()
                except (DriverError, Neo4jError) as exc:
                    now = time.monotonic()
                    first_failure = now if first_failure is None else first_failure
                    pause = next(pauses, RETRY_DELAYS[-1])
                    if (
                        not exc.is_retryable()
                        or now + pause - first_failure > self._retry_time
                        or not self._accepts_connections()
                    ):
                        raise
                    log.info(
                        "Neo4j failed while %s (%s); retrying in %.1f s", action, type(exc).__name__, pause
                    )
                    time.sleep(pause)

    def _accepts_connections(self) -> bool:
        """Whether the server's address takes a TCP connection within the connect timeout."""
        try:
            with socket.create_connection(self._address, timeout=self._connect_timeout):
                return True
        except OSError:
            return False

    def _begin_load(self) -> _Load:
        session = self._driver.session(database=self._database, default_access_mode=WRITE_ACCESS)
        try:
            return _Load(
                session, session.begin_transaction(metadata=LOAD_METADATA, timeout=self._load_timeout)
            )
        except BaseException:
            session.close()
            raise

    def _tracked_load(self) -> _Load | None:
        """This thread's load transaction, whose writes the upserts note down (``None`` outside one)."""
        load: _Load | None = getattr(self._loads, "current", None)
        return load

    def _chunk(self) -> int:
        """Rows per write statement: fewer inside a load's transaction."""
        size = CHUNK  # read at call time, so that tests can shrink it
        return min(size, LOAD_CHUNK) if getattr(self._loads, "current", None) is not None else size

    def _make_room(self, rows: int) -> None:
        """Count a write into this thread's load transaction; past the limit, commit it and go on without."""
        load: _Load | None = getattr(self._loads, "current", None)
        if load is None or load.rows + rows <= self._atomic_load_limit:
            if load is not None:
                load.rows += rows
            return
        log.warning(
            "this load writes more than %d nodes and relationships (NEO4J_ATOMIC_LOAD_LIMIT): "
            "the %d written so far are committed now and the rest batch by batch, "
            "so readers may see the load half-done",
            self._atomic_load_limit,
            load.rows,
        )
        self._loads.current = None
        with self._errors("committing the first part of a load"):
            try:
                load.tx.run(cypher.ADVANCE_GENERATION).consume()
                load.commit()
            finally:
                load.close()
        load.spilled = True
        self._advance_after_commit()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Translate driver errors into the project's tree, with messages that say what to check."""
        try:
            yield
        except (Neo4jError, DriverError, OSError) as exc:
            log.debug("Neo4j failed while %s", action, exc_info=True)
            raise self._translate(exc, action) from None

    def _translate(self, exc: Neo4jError | DriverError | OSError, action: str) -> GraphServiceError:
        where = f"Neo4j at {self._uri}"
        code = exc.code if isinstance(exc, Neo4jError) else None
        code = code or ""
        if isinstance(exc, AuthError):
            return BackendUnavailable(
                f"{where} refused the credentials of user {self._user!r}: check NEO4J_USER and NEO4J_PASSWORD."
            )
        if isinstance(exc, Forbidden):
            return BackendUnavailable(
                f"{where} does not allow user {self._user!r} this operation ({action}): check the user's roles."
            )
        loading = getattr(self._loads, "current", None) is not None
        if loading and ("TimedOut" in code or "Terminated" in code):
            return BackendUnavailable(
                f"{where} did not finish the load within {self._load_timeout:g} s, so nothing of it "
                "was written; raise NEO4J_LOAD_TIMEOUT, or lower NEO4J_ATOMIC_LOAD_LIMIT to commit "
                "large loads batch by batch."
            )
        if loading and "MemoryPoolOutOfMemoryError" in code:
            return BackendUnavailable(
                f"the load needs more memory than {where} lets transactions use "
                "(dbms.memory.transaction.total.max), so nothing of it was written; lower "
                "NEO4J_ATOMIC_LOAD_LIMIT so that large loads are committed batch by batch, or give "
                "the server more heap."
            )
        if "TimedOut" in code or "Terminated" in code:
            return BackendUnavailable(
                f"{where} did not finish {action} within {self._timeout:g} s; "
                "ask for less (a lower limit, fewer steps) or raise NEO4J_TIMEOUT."
            )
        if "DatabaseNotFound" in code:
            return BackendUnavailable(f"{where} has no database {self._database!r}: check NEO4J_DATABASE.")
        if isinstance(exc, ConstraintError):
            return Conflict(
                f"the write contradicts what {where} holds (an id that must be unique is taken) "
                f"while {action}; nothing of the batch was written."
            )
        if isinstance(exc, (ServiceUnavailable, SessionExpired, OSError)):
            lost = "; the load was rolled back, run it again" if loading else ""
            return BackendUnavailable(
                f"cannot reach Neo4j at {self._uri}: is the server running and NEO4J_URI right?{lost}"
            )
        if isinstance(exc, TransientError):
            return BackendUnavailable(f"{where} is busy or restarting ({action}); try again shortly.")
        if isinstance(exc, DatabaseError):
            return BackendUnavailable(f"{where} failed internally while {action}; see the server's log.")
        if isinstance(exc, ClientError):
            return GraphServiceError(f"{where} refused a request while {action}; see innograph's log.")
        return BackendUnavailable(f"{where} failed while {action} ({type(exc).__name__}); try again.")

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
        ``GraphStore.neighbor_hops``): one query per kind and chunk of nodes, all in one
        transaction, returning no properties."""
        ids = list(dict.fromkeys(node_ids))
        out: dict[str, list[Hop]] = {i: [] for i in ids}
        if limit is not None and limit <= 0:
            return out
        queries = [
            cypher.neighbor_hops(kind, chunk, direction, types, as_of, limit)
            for kind, kind_ids in _ids_by_kind(ids).items()
            for chunk in _chunks(kind_ids)
        ]
        if queries:
            for batch in self._read("reading neighbours", _records_of_many, queries):
                for r in batch:
                    out[r["id"]] = [(other, _REL_TYPES[t], way) for other, t, way in r["hops"]]
        return out

    def degrees(
        self, node_ids: Iterable[str], *, direction: Direction = "both", types: Sequence[RelType] = ()
    ) -> dict[str, int]:
        """How many hops :meth:`neighbors` lists for each node, uncapped (see
        ``GraphStore.degrees``): counted from the degree store, one query per kind and chunk."""
        ids = list(dict.fromkeys(node_ids))
        out = dict.fromkeys(ids, 0)
        queries = [
            cypher.degrees(kind, chunk, direction, types)
            for kind, kind_ids in _ids_by_kind(ids).items()
            for chunk in _chunks(kind_ids)
        ]
        if queries:
            for batch in self._read("counting neighbours", _records_of_many, queries):
                out.update((r["id"], r["n"]) for r in batch)
        return out


_REL_TYPES = {t.value: t for t in RelType}


@dataclass
class _Load:
    """A load's transaction, open on one thread, and what its upserts wrote.

    A node the transaction created is invisible to every other transaction until the commit,
    so a relationship at it exists only if this transaction wrote it: a relationship at a node
    of ``created`` whose key is not in ``written`` is new, and is created without a look for it.
    """

    session: Session
    tx: Transaction
    rows: int = 0
    failed: bool = False
    spilled: bool = False
    changed: bool = False
    """Whether a write inside created or changed anything (else the commit keeps the generation)."""
    created: set[str] = field(default_factory=set)
    """Ids of the nodes this transaction created."""
    written: set[tuple[str, RelType, str]] = field(default_factory=set)
    """Keys of the relationships this transaction wrote."""

    def commit(self) -> None:
        self.tx.commit()

    def close(self) -> None:
        """Roll back what is not committed, and give the connection back."""
        with contextlib.suppress(Neo4jError, DriverError, OSError):
            self.tx.close()
        with contextlib.suppress(Neo4jError, DriverError, OSError):
            self.session.close()


# ---------------------------------------------------------------------------
# transaction functions (idempotent: a retry recomputes everything inside the transaction)


def _records(tx: Transaction, query: cypher.CypherQuery) -> list[Record]:
    text, params = query
    return list(tx.run(text, params))


def _records_of_many(tx: Transaction, queries: list[cypher.CypherQuery]) -> list[list[Record]]:
    return [_records(tx, q) for q in queries]


def _props_by_id(tx: Transaction, queries: list[cypher.CypherQuery]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r["props"] for q in queries for r in _records(tx, q)}


def _single_int(tx: Transaction, query: cypher.CypherQuery) -> int:
    record = tx.run(query[0], query[1]).single(strict=True)
    return int(record[0])


def _optional_text(tx: Transaction, query: LiteralString) -> str | None:
    record = tx.run(query).single()
    return None if record is None or record[0] is None else str(record[0])


def _changed(result: object) -> bool:
    """Whether a write's result says it changed the graph (any result but an all-unchanged summary)."""
    return not isinstance(result, WriteSummary) or result.changed > 0


def _run_all(tx: Transaction, texts: list[LiteralString], params: dict[str, Any] | None = None) -> None:
    for text in texts:
        tx.run(text, params or {}).consume()


def _counts_tx(tx: Transaction) -> dict[str, int]:
    return {r["key"]: int(r["n"]) for r in tx.run(cypher.count_all())}


_Cursor = tuple[int, str]
"""Where a paged walk over kinds stands: the index of the kind, and the last id seen in it."""
_PageFn = Callable[[Transaction, NodeKind, str, int], tuple[list[Record], str | None]]


def _page_tx(
    tx: Transaction, kinds: list[NodeKind], cursor: _Cursor, fetch: _PageFn
) -> tuple[list[Record], _Cursor | None]:
    """Up to ``PAGE`` nodes' worth of rows, walking on through the kinds from the cursor.

    One transaction serves several small kinds, so a small graph streams in one round.
    """
    index, after = cursor
    out: list[Record] = []
    budget = PAGE
    while index < len(kinds) and budget > 0:
        records, last = fetch(tx, kinds[index], after, budget)
        out.extend(records)
        if last is None:  # the kind is exhausted
            index, after = index + 1, ""
        else:
            after = last
            budget = 0
    return out, ((index, after) if index < len(kinds) else None)


def _node_page(tx: Transaction, kind: NodeKind, after: str, size: int) -> tuple[list[Record], str | None]:
    records = _records(tx, cypher.nodes_page(kind, after, size))
    return records, (records[-1]["props"]["id"] if len(records) == size else None)


def _relationship_page(
    tx: Transaction, kind: NodeKind, after: str, size: int, *, types: list[RelType]
) -> tuple[list[Record], str | None]:
    ids = [r["id"] for r in _records(tx, cypher.node_ids_page(kind, after, size))]
    records = _records(tx, cypher.relationships_from(kind, ids, types)) if ids else []
    return records, (ids[-1] if len(ids) == size else None)


def _upsert_nodes_tx(
    tx: Transaction,
    groups: dict[NodeKind, dict[str, list[dict[str, Any]]]],
    chunk_rows: int,
    load: _Load | None = None,
) -> WriteSummary:
    """Write each kind's nodes with one statement per chunk; count as the embedded store does.

    Inside a load, the ids created are noted in ``load.created``.
    """
    summary = WriteSummary()
    for kind, versions in groups.items():
        counts = summary.nodes.setdefault(kind.value, WriteCounts())
        rows = [_row({"id": node_id}, props) for node_id, props in versions.items()]
        for chunk in _chunks(rows, chunk_rows):
            text, params = cypher.upsert_nodes(kind, list(chunk))
            record = tx.run(text, params).single(strict=True)
            _count_first(counts, len(chunk), record["existing"], record["same_first"])
            if load is not None:
                existing = set(record["existing_ids"])
                load.created.update(row["id"] for row in chunk if row["id"] not in existing)
        _count_repeats(counts, versions.values())
    return summary


def _upsert_relationships_tx(
    tx: Transaction,
    groups: dict[RelType, dict[tuple[NodeKind, NodeKind], dict[tuple[str, str], list[dict[str, Any]]]]],
    chunk_rows: int,
    load: _Load | None = None,
) -> WriteSummary:
    """Write each type's relationships, one statement per endpoint kinds and chunk.

    Inside a load, relationships that cannot exist yet (see :class:`_Load`) are created
    outright, in larger chunks; the others are upserted.

    A missing endpoint raises ``InvalidRequest`` after every statement has run (so the
    message lists them all); the driver then rolls the whole transaction back.
    """
    summary = WriteSummary()
    missing: set[str] = set()
    for rtype, by_kinds in groups.items():
        counts = summary.relationships.setdefault(rtype.value, WriteCounts())
        for (source, target), versions in by_kinds.items():
            fresh: list[list[Any]] = []
            rows = []
            if load is None:
                rows = [_row({"s": s, "t": t}, props) for (s, t), props in versions.items()]
            else:
                created, written = load.created, load.written
                for (s, t), props in versions.items():
                    key = (s, rtype, t)
                    if (s in created or t in created) and key not in written:
                        fresh.append([s, t, props[-1]])
                    else:
                        rows.append(_row({"s": s, "t": t}, props))
                    written.add(key)
            for chunk in _chunks(rows, chunk_rows):
                text, params = cypher.upsert_relationships(rtype, source, target, list(chunk))
                record = tx.run(text, params).single(strict=True)
                missing.update(record["missing"])
                _count_first(counts, len(chunk), record["existing"], record["same_first"])
            for start in range(0, len(fresh), CREATE_CHUNK):
                new = fresh[start : start + CREATE_CHUNK]
                text, params = cypher.create_relationships(rtype, source, target, new)
                if tx.run(text, params).single(strict=True)["created"] != len(new):
                    missing.update(_missing_endpoints(tx, source, target, new))
                counts.created += len(new)
            _count_repeats(counts, versions.values())
    if missing:
        shown = sorted(missing)
        raise InvalidRequest(f"relationships point at {len(shown)} missing node(s): " + ", ".join(shown[:10]))
    return summary


def _missing_endpoints(
    tx: Transaction, source: NodeKind, target: NodeKind, rows: list[list[Any]]
) -> list[str]:
    """The endpoint ids among ``[s, t, props]`` rows that no node of their kind has."""
    out: list[str] = []
    for kind, ids in ((source, {row[0] for row in rows}), (target, {row[1] for row in rows})):
        text, params = cypher.missing_ids(kind, sorted(ids))
        out.extend(tx.run(text, params).single(strict=True)["missing"])
    return out


# ---------------------------------------------------------------------------
# helpers


def _row(key: dict[str, Any], versions: list[dict[str, Any]]) -> dict[str, Any]:
    """A statement row: the key, the last version's props, and the first version when it differs."""
    row = {**key, "props": versions[-1]}
    if versions[0] != versions[-1]:
        row["first"] = versions[0]
    return row


def _count_first(counts: WriteCounts, rows: int, existing: int, same_first: int) -> None:
    """Count each item's first appearance in the batch against what the database held."""
    counts.created += rows - existing
    counts.unchanged += same_first
    counts.updated += existing - same_first


def _count_repeats(counts: WriteCounts, versions: Iterable[list[dict[str, Any]]]) -> None:
    """Count later appearances of an item in the same batch against the version before them."""
    for props in versions:
        for before, after in itertools.pairwise(props):
            if before == after:
                counts.unchanged += 1
            else:
                counts.updated += 1


def _node_props(node: Node) -> dict[str, Any]:
    """What is stored for a node: its flat properties and its folded names."""
    props = node.to_props()
    props[NAMES_KEY] = list(dict.fromkeys(normalize_name(n) for n in node.names()))
    return props


def _to_node(props: Mapping[str, Any]) -> Node:
    """Rebuild a node from stored properties, validating them through the ontology."""
    data = {k: v for k, v in props.items() if k != NAMES_KEY}
    try:
        return node_from_props(data)
    except (ValidationError, GraphServiceError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(
            f"Neo4j holds a node the ontology refuses ({data.get('id')!r}): {_first_line(exc)}"
        ) from None


def _to_relationship(source: str, rtype: str, target: str, props: Mapping[str, Any]) -> Relationship:
    """Rebuild a relationship from its endpoints, type and stored properties, validating them."""
    try:
        return relationship_from_props(source, rtype, target, props)
    except (ValidationError, GraphServiceError, KeyError, TypeError, ValueError) as exc:
        raise InvalidRequest(
            f"Neo4j holds a relationship the ontology refuses ({source} {rtype} {target}): {_first_line(exc)}"
        ) from None


def _ids_by_kind(ids: Iterable[str]) -> dict[NodeKind, list[str]]:
    """Well-formed ids grouped by the kind their prefix names; malformed ones are dropped."""
    out: dict[NodeKind, list[str]] = {}
    for node_id in ids:
        try:
            kind = kind_of_id(node_id)
        except InvalidRequest:
            continue
        out.setdefault(kind, []).append(node_id)
    return out


def _chunks(items: Sequence[T], size: int | None = None) -> Iterator[Sequence[T]]:
    size = size or CHUNK  # read at call time, so that tests can shrink it
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class _PathBuilder:
    """Paths from rows of node property maps and ``[source, type, target, props]`` lists,
    each node and relationship built once however many paths share it."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.rels: dict[RelKey, Relationship] = {}

    def path(self, nodes: list[Mapping[str, Any]], rels: list[list[Any]]) -> Path:
        return Path(nodes=tuple(self.node(p) for p in nodes), relationships=tuple(self.rel(x) for x in rels))

    def node(self, props: Mapping[str, Any]) -> Node:
        found = self.nodes.get(props["id"])
        return found if found is not None else self.nodes.setdefault(props["id"], _to_node(props))

    def rel(self, row: list[Any]) -> Relationship:
        key: RelKey = (row[0], row[1], row[2])
        found = self.rels.get(key)
        return found if found is not None else self.rels.setdefault(key, _to_relationship(*key, row[3]))
