"""Loading a dataset into a store: read, validate, resolve names, check, then upsert in batches.

By default a load is all-or-nothing: every row is checked before anything is
written, and one bad row means nothing is. With ``partial=True`` the good rows are
written and the bad ones go to a rejects file.

Example:
    >>> from graph_service.backends.embedded import EmbeddedStore
    >>> report = load_dataset(WENZHOU_DATASET, EmbeddedStore(None))  # doctest: +SKIP
    >>> report.summary.changed > 0  # doctest: +SKIP
    True
"""

from __future__ import annotations

import csv
import difflib
import itertools
import json
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import repeat
from pathlib import Path
from typing import Annotated, Any, cast

from pydantic import TypeAdapter, ValidationError

from graph_service.core.cells import safe_cell
from graph_service.core.errors import DataError, GraphServiceError, InvalidRequest, RowError
from graph_service.core.memory import collector_paused
from graph_service.core.ontology import (
    ACYCLIC_TYPES,
    ALLOWED_PAIRS,
    Node,
    NodeKind,
    Provenance,
    Relationship,
    RelationshipColumns,
    RelationshipFacts,
    RelType,
    assemble_relationship,
    kind_of_id,
    normalize_name,
)
from graph_service.core.store import GraphStore, WriteSummary
from graph_service.core.text import canonical_id
from loaders.manifest import FILE_STEMS, RELATIONSHIPS, Manifest, SourceDocument, read_manifest
from loaders.records import (
    ALIAS_SEPARATOR,
    RELATIONSHIP_COLUMNS,
    RawRelationship,
    derive_id,
    distinct_rows,
    kind_columns,
    kind_named,
    node_columns,
    node_from_row,
    provenance_column,
    raw_relationship_from_row,
    rel_type_of,
    rows_holding,
    unknown_columns,
    validation_errors,
)
from loaders.tables import Table, Workbook, read_table

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "WENZHOU_DATASET",
    "LoadReport",
    "Progress",
    "load_dataset",
    "read_dataset",
]

WENZHOU_DATASET = Path(__file__).parent / "datasets" / "wenzhou"
"""The bundled Wenzhou dataset."""
DEFAULT_BATCH_SIZE = 2000
MAX_HINTS = 50
"""Unknown endpoints that get a 'did you mean'; past this many, the error alone."""
MAX_HINT_POOL = 50_000
"""Largest graph whose names are searched for a 'did you mean' (beside the dataset's own)."""
SHEET_NAME_LIKENESS = 0.8
"""How close (difflib's ratio) a sheet name must be to a kind's to be taken for a misspelling of it."""

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)`` while writing."""


@dataclass
class ParsedDataset:
    """A dataset read and checked, ready to write: the good records and every problem found."""

    manifest: Manifest
    nodes: list[Node]
    relationships: Sequence[Relationship]
    errors: list[RowError]
    rejected_rows: list[tuple[RowError, dict[str, str | None]]]
    rows_read: int


@dataclass
class LoadReport:
    """What a load did: counts per kind and type, rejected rows, time taken."""

    dataset: str
    backend: str
    summary: WriteSummary
    rows_read: int
    seconds: float
    rejected: list[RowError] = field(default_factory=list)
    rejects_file: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form of the report."""
        return {
            "dataset": self.dataset,
            "backend": self.backend,
            "rows_read": self.rows_read,
            "seconds": round(self.seconds, 3),
            "nodes": {k: vars(v) for k, v in sorted(self.summary.nodes.items())},
            "relationships": {k: vars(v) for k, v in sorted(self.summary.relationships.items())},
            "rejected": [str(e) for e in self.rejected],
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
        }

    def render(self) -> str:
        """A plain-text table of the report for a terminal."""
        lines = [
            f"Loaded {self.dataset!r} into the {self.backend} store in {self.seconds:.2f} s "
            f"({self.rows_read:,} rows read)."
        ]
        lines.append(f"{'':<18}{'created':>9}{'updated':>9}{'unchanged':>11}")
        for title, group in (
            ("nodes", self.summary.nodes),
            ("relationships", self.summary.relationships),
        ):
            for key, c in sorted(group.items()):
                lines.append(f"{key:<18}{c.created:>9,}{c.updated:>9,}{c.unchanged:>11,}")
            if not group:
                lines.append(f"{'(no ' + title + ')':<18}")
        if self.rejected:
            lines.append(f"{len(self.rejected)} row problem(s) rejected; first ones:")
            lines.extend(f"  {e}" for e in self.rejected[:10])
            if self.rejects_file:
                lines.append(f"Rejected rows written to {self.rejects_file}")
        return "\n".join(lines)


def load_dataset(
    path: Path,
    store: GraphStore,
    *,
    partial: bool = False,
    encoding: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
    rejects_path: Path | None = None,
    max_file_bytes: int | None = None,
) -> LoadReport:
    """Load a dataset directory or workbook into a store.

    Args:
        path: a dataset directory (with ``dataset.toml``) or an ``.xlsx`` workbook.
        store: where to write.
        partial: write the good rows and reject the bad ones instead of refusing the load.
        encoding: force the encoding of CSV files.
        batch_size: records per write batch.
        progress: called with (stage, done, total) while writing.
        rejects_path: where a partial load writes its rejected rows (CSV).
        max_file_bytes: refuse source files larger than this.

    Raises:
        DataError: listing every problem, when ``partial`` is off and any row is bad;
            nothing has been written.
        BackendUnavailable: when the store fails during the write. Inside the store's
            load transaction nothing is written (Neo4j below ``NEO4J_ATOMIC_LOAD_LIMIT``);
            beyond it the batches written before are intact. Either way a re-run completes
            the load without duplicates.
    """
    started = time.perf_counter()
    # Reading allocates a few objects per cell and writing a few per node and relationship,
    # none in cycles: the collector stays paused from the read through the write. Back on
    # in between, its first run would go over everything read (~0.4 s at L) to free nothing;
    # the embedded store settles the graph it loaded before it runs again (EmbeddedStore._settle).
    with collector_paused():
        parsed = read_dataset(path, store, encoding=encoding, max_file_bytes=max_file_bytes)
        if parsed.errors and not partial:
            raise DataError(parsed.errors)
        summary = WriteSummary()
        total = len(parsed.nodes) + len(parsed.relationships)
        done = 0
        with store.load_transaction():
            for stage, items, write in (
                ("nodes", parsed.nodes, store.upsert_nodes),
                ("relationships", parsed.relationships, store.upsert_relationships),
            ):
                for start in range(0, len(items), batch_size):
                    batch: Sequence[Any] = items[start : start + batch_size]
                    summary.merge(write(batch))
                    done += len(batch)
                    if progress is not None:
                        progress(stage, done, total)
    store.persist()
    rejects_file = None
    if parsed.errors and rejects_path is not None:
        _write_rejects(rejects_path, parsed.rejected_rows)
        rejects_file = rejects_path
    return LoadReport(
        dataset=parsed.manifest.name,
        backend=store.name,
        summary=summary,
        rows_read=parsed.rows_read,
        seconds=time.perf_counter() - started,
        rejected=parsed.errors,
        rejects_file=rejects_file,
    )


def read_dataset(
    path: Path, store: GraphStore, *, encoding: str | None = None, max_file_bytes: int | None = None
) -> ParsedDataset:
    """Read and check a dataset against the ontology and the store, without writing anything."""
    with collector_paused():
        return _read_dataset(path, store, encoding, max_file_bytes)


def _read_dataset(
    path: Path, store: GraphStore, encoding: str | None, max_file_bytes: int | None
) -> ParsedDataset:
    manifest, tables = _open(path, encoding, max_file_bytes)
    reading = _Reading(set(manifest.sources))
    rows_read = 0
    for kind in NodeKind:
        table = tables.get(kind.value)
        if table is None:
            continue
        rows_read += len(table) + len(table.errors)
        reading.reject(table.errors, {})
        allowed = kind_columns(kind)
        column_errors = unknown_columns(table.columns, allowed, table.name, f"{FILE_STEMS[kind]} ({kind})")
        if column_errors:
            reading.reject(column_errors, {})
            continue
        _add_nodes(kind, table, reading)

    relationships = RelationshipColumns([], [], [], [])
    rel_table = tables.get(RELATIONSHIPS)
    if rel_table is not None:
        rows_read += len(rel_table) + len(rel_table.errors)
        reading.reject(rel_table.errors, {})
        column_errors = unknown_columns(
            rel_table.columns, RELATIONSHIP_COLUMNS, rel_table.name, "relationships"
        )
        if column_errors:
            reading.reject(column_errors, {})
        else:
            relationships = _relationships(rel_table, store, reading)
    return ParsedDataset(
        manifest=manifest,
        nodes=list(reading.nodes.values()),
        relationships=relationships,
        errors=reading.errors,
        rejected_rows=reading.rejected_rows,
        rows_read=rows_read,
    )


@dataclass
class _Reading:
    """What reading a dataset has found so far: the good nodes and every problem."""

    sources: set[str]
    errors: list[RowError] = field(default_factory=list)
    rejected_rows: list[tuple[RowError, dict[str, str | None]]] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)
    """A number for each id of ``nodes`` (and each id of the graph's a relationship names)."""
    id_at: list[str] = field(default_factory=list)
    """The id of each number (the very string the node holds: later look-ups compare by identity)."""
    kind_at: list[NodeKind] = field(default_factory=list)
    """The kind of the node of each number."""
    row_at: list[int | None] = field(default_factory=list)
    """The row the node of each number was read from (in its kind's file), ``None`` for the graph's."""
    files: dict[NodeKind, str] = field(default_factory=dict)
    rejected_ids: dict[str, str] = field(default_factory=dict)
    rejected_names: dict[str, str] = field(default_factory=dict)

    def reject(self, problems: list[RowError], cells: dict[str, str | None]) -> None:
        self.errors.extend(problems)
        self.rejected_rows.extend((p, cells) for p in problems)

    def number(self, node_id: str, kind: NodeKind, row: int | None) -> int:
        """The number of an id, given it now if it has none."""
        at = self.position.setdefault(node_id, len(self.kind_at))
        if at == len(self.kind_at):
            self.id_at.append(node_id)
            self.kind_at.append(kind)
            self.row_at.append(row)
        return at

    def where(self, node_id: str) -> str:
        """Where a node of the dataset was read: file and row."""
        at = self.position[node_id]
        return f"{self.files[self.kind_at[at]]}, row {self.row_at[at]}"


def _add_nodes(kind: NodeKind, table: Table, reading: _Reading) -> None:
    """Read a kind's table: its nodes into ``reading``, its bad rows and repeated ids as errors.

    The rows are checked a column at a time (:func:`node_columns`); the few it cannot pass
    and any repeated id are then taken row by row in table order, so the errors come out as
    a row-by-row reading gives them.
    """
    built, positions, suspects = node_columns(kind, table, reading.sources)
    numbers, nodes = table.numbers, reading.nodes
    reading.files[kind] = table.name
    if not suspects:  # then every row gave a node, whose id is the row's cell
        ids = cast(list[str], table.column("id"))
        start = len(reading.kind_at)
        fresh = dict(zip(ids, range(start, start + len(ids)), strict=True))
        if len(fresh) == len(ids) and fresh.keys().isdisjoint(nodes):
            nodes.update(zip(ids, built, strict=True))
            reading.position.update(fresh)
            reading.id_at += ids
            reading.kind_at += [kind] * len(ids)
            reading.row_at += numbers
            return
    ready = dict(zip(positions, built, strict=True))
    for i, row_no in enumerate(numbers):
        node = ready.get(i)
        if node is None:
            cells = table.cells(i)
            node, problems = node_from_row(kind, cells, table.name, row_no, reading.sources)
            if node is None:
                reading.reject(problems, cells)
                _remember_rejected(
                    kind, cells, f"{table.name}, row {row_no}", reading.rejected_ids, reading.rejected_names
                )
                continue
        if node.id in nodes:
            problem = f"duplicate id {node.id!r}, first at {reading.where(node.id)}"
            reading.reject([RowError(table.name, row_no, "id", problem)], table.cells(i))
            continue
        nodes[node.id] = node
        reading.number(node.id, kind, row_no)


def _relationships(table: Table, store: GraphStore, reading: _Reading) -> RelationshipColumns:
    """Read the relationships table: the good relationships, and every bad row as errors.

    Checked a column at a time, each distinct value once (a type, a kind, a provenance, a
    role or date, an endpoint id; a kind pair per type). A row is read the usual way, by
    :func:`raw_relationship_from_row` and :func:`_relationship`, only when a value of it
    fails or needs more than an id look-up (a name, an unknown id), so that such rows get
    the errors, and the good rows the relationships, that reading row by row gives. Errors
    come in the same order too: the rows' own cells, then endpoints, fields and repeats in
    row order, then cycles.
    """
    file, numbers, column = table.name, table.numbers, table.column
    size = len(table)
    froms, tos, roles, starts, untils = (column(c) for c in ("from", "to", "role", "since", "until"))
    type_of: dict[str | None, RelType | None] = {
        cell: rel_type_of(cell) for cell in set(column("type")) if cell
    }
    types = list(map(type_of.get, column("type")))
    provs, prov_index = provenance_column(table, reading.sources)

    position = cast(dict[str | None, int], reading.position)
    numbered = [list(map(position.get, froms, repeat(-1))), list(map(position.get, tos, repeat(-1)))]
    unknown = [rows_holding(numbered[0], {-1}), rows_holding(numbered[1], {-1})]  # ends with no number yet

    # the rows' own cells: rows that fail them get raw_relationship_from_row's errors
    refused: set[int] = set()
    refused.update(rows_holding(types, {None}))
    refused.update(rows_holding(prov_index, {i for i, p in enumerate(provs) if p is None}))
    refused.update(i for i in unknown[0] if froms[i] is None)
    refused.update(i for i in unknown[1] if tos[i] is None)
    for name in ("from_kind", "to_kind"):
        kind_cells = column(name)
        refused.update(rows_holding(kind_cells, {c for c in set(kind_cells) if c and kind_named(c) is None}))
    raws: dict[int, RawRelationship] = {}
    for i in sorted(refused):
        cells = table.cells(i)
        raw, problems = raw_relationship_from_row(cells, file, numbers[i], reading.sources)
        if raw is None:
            reading.reject(problems, cells)
        else:  # not refused after all: read it the usual way below
            raws[i] = raw
    refused.difference_update(raws)

    # endpoints, kind pairs, fields: rows that need more than a look-up are read the usual way
    others = {froms[i] for i in unknown[0]} | {tos[i] for i in unknown[1]}  # not ids of the dataset
    others.discard(None)
    resolver = _Resolver(reading.nodes, store, reading.rejected_ids, reading.rejected_names)
    resolver.prefetch(cast(set[str], others))
    if resolver.store_ids:  # ids of the graph's: as good as the dataset's
        for node_id in sorted(resolver.store_ids):
            reading.number(node_id, kind_of_id(node_id), None)
        for numbers_of_ends, refs, rows_unknown in zip(numbered, (froms, tos), unknown, strict=True):
            for i in rows_unknown:
                numbers_of_ends[i] = position.get(refs[i], -1)
    kind_at = cast(list[NodeKind | None], [*reading.kind_at, None])  # number -1, no node: no kind
    source_kinds, target_kinds = (
        list(map(kind_at.__getitem__, numbers_of_ends)) for numbers_of_ends in numbered
    )
    usual = set(raws)
    wrong = {
        triple
        for triple in set(zip(types, source_kinds, target_kinds, strict=True))
        if None in triple or triple[1:] not in ALLOWED_PAIRS[triple[0]]  # type: ignore[index]
    }
    if wrong:
        usual.update(
            i
            for i, triple in enumerate(zip(types, source_kinds, target_kinds, strict=True))
            if triple in wrong
        )
    checked = _CheckedRelationships()
    for name, values in (("role", roles), ("since", starts), ("until", untils)):
        usual.update(rows_holding(values, {v for v in set(values) if v and not checked.passes(name, v)}))
    hierarchy = itertools.compress(range(size), map(ACYCLIC_TYPES.__contains__, types))
    usual.update(i for i in hierarchy if froms[i] == tos[i])  # a loop, which the model refuses
    usual.difference_update(refused)

    combinations, fact_index = distinct_rows(prov_index, roles, starts, untils)
    packs = [(provs[p], role or "", since, until) for p, role, since, until in combinations]
    facts = cast(list[RelationshipFacts], list(map(packs.__getitem__, fact_index)))
    id_at = cast(list[str | None], [*reading.id_at, None])  # the ids as the nodes hold them
    sources, targets = (list(map(id_at.__getitem__, numbers_of_ends)) for numbers_of_ends in numbered)
    failed: dict[int, list[RowError]] = {}
    if usual:
        for i in sorted(usual):
            raw = (
                raws.get(i) or raw_relationship_from_row(table.cells(i), file, numbers[i], reading.sources)[0]
            )
            assert raw is not None  # the row's own cells passed
            rel, problems = _relationship(raw, resolver, checked)
            if rel is None:
                failed[i] = problems
                continue
            sources[i], types[i], targets[i] = rel.source, rel.type, rel.target
            facts[i] = (rel.provenance, rel.role, rel.since, rel.until)
            numbered[0][i] = reading.number(rel.source, kind_of_id(rel.source), None)
            numbered[1][i] = reading.number(rel.target, kind_of_id(rel.target), None)
    columns: list[list[Any]] = [sources, types, targets, facts, *numbered]
    rows: Sequence[int] = range(size)  # the table row (position) of each relationship kept
    if refused or failed:
        rows = [i for i in rows if i not in refused and i not in failed]
        columns = [list(map(column.__getitem__, rows)) for column in columns]

    # repeats: the first row of a relationship stands, each later one is an error
    repeats: dict[int, list[RowError]] = {}
    if len(set(_key_numbers(columns[4], columns[1], columns[5], len(reading.kind_at)))) < len(rows):
        first: dict[tuple[str, RelType, str], int] = {}
        for at, key in enumerate(zip(columns[0], columns[1], columns[2], strict=True)):
            if key in first:
                problem = f"repeats the relationship of row {first[key]} ({key[0]} {key[1]} {key[2]})"
                repeats[at] = [RowError(file, numbers[rows[at]], None, problem)]
            else:
                first[key] = numbers[rows[at]]
    problems_by_row = sorted([*failed.items(), *((rows[at], p) for at, p in repeats.items())], key=_first)
    for i, problems in problems_by_row:
        reading.reject(problems, table.cells(i))
    if repeats:
        rows = [i for at, i in enumerate(rows) if at not in repeats]
        columns = [[v for at, v in enumerate(column) if at not in repeats] for column in columns]

    cycles = _cycles(columns[0], columns[1], columns[2], lambda at: numbers[rows[at]], store, file)
    if cycles:
        reading.reject(list(cycles.values()), {})
        columns = [[v for at, v in enumerate(column) if at not in cycles] for column in columns]
    return RelationshipColumns(*columns[:4])


def _first(item: tuple[int, Any]) -> int:
    return item[0]


_TYPE_NUMBERS = {rel_type: i for i, rel_type in enumerate(RelType)}


def _key_numbers(sources: list[int], types: list[RelType], targets: list[int], nodes: int) -> Iterator[int]:
    """One number per relationship key, (source, type, target) given by the numbers of its ends:
    equal numbers for equal keys only, and cheaper to compare than the ids (the loops run in C)."""
    pairs = map(operator.add, map(operator.mul, sources, repeat(nodes)), targets)
    return map(
        operator.add,
        map(operator.mul, pairs, repeat(len(_TYPE_NUMBERS))),
        map(_TYPE_NUMBERS.__getitem__, types),
    )


class _Resolver:
    """Turns a relationship endpoint (an id, a name, a Chinese name or an alias) into an id."""

    def __init__(
        self,
        nodes: dict[str, Node],
        store: GraphStore,
        rejected_ids: dict[str, str],
        rejected_names: dict[str, str],
    ) -> None:
        self.nodes = nodes
        self.store = store
        self.rejected_ids = rejected_ids
        self.rejected_names = rejected_names
        self._names: tuple[dict[str, set[str]], dict[str, str]] | None = None
        self.store_ids: set[str] = set()
        self.store_names: dict[str, list[str]] = {}
        self.store_kinds: dict[str, NodeKind] = {}
        self._hint_pool: tuple[list[str], dict[str, str]] | None = None
        self._hints_given = 0

    def _name_index(self) -> tuple[dict[str, set[str]], dict[str, str]]:
        """The dataset's nodes by folded name, and each folded name as first written; built on first use."""
        if self._names is None:
            names: dict[str, set[str]] = {}
            shown: dict[str, str] = {}
            for node in self.nodes.values():
                for name in node.names():
                    folded = normalize_name(name)
                    names.setdefault(folded, set()).add(node.id)
                    shown.setdefault(folded, name)
            self._names = (names, shown)
        return self._names

    def prefetch(self, refs: Iterable[str]) -> None:
        """Look up in the store, in two round trips, every id and name the rows mention."""
        ids: set[str] = set()
        names: set[str] = set()
        for ref in itertools.filterfalse(self.nodes.__contains__, refs):
            node_id = _as_id(ref)
            if node_id is None:
                names.add(ref)
            elif node_id not in self.nodes:  # not an id of the dataset's own: ask the store
                ids.add(node_id)
        if ids:
            self.store_ids = set(self.store.get_nodes(sorted(ids)))
        if names:
            self.store_names = self.store.ids_by_name(sorted(names))

    def resolve(self, ref: str, kind: NodeKind | None, allowed: frozenset[NodeKind]) -> str:
        if ref in self.nodes or ref in self.store_ids:  # only well-formed ids are either
            return ref
        node_id = _as_id(ref)  # an id in another spelling (Society:CMES, full width) is the same id
        if node_id is not None:
            if node_id in self.nodes or node_id in self.store_ids:
                return node_id
            if node_id in self.rejected_ids:
                raise InvalidRequest(f"{ref!r} was rejected at {self.rejected_ids[node_id]}")
            raise InvalidRequest(f"no node has the id {ref!r}{self._hint(node_id)}")
        key = normalize_name(ref)
        candidates = set(self._name_index()[0].get(key, ()))
        for node_id in self.store_names.get(key, []):
            node = self.nodes.get(node_id)
            if node is None or key in {normalize_name(n) for n in node.names()}:
                candidates.add(node_id)
        if kind is not None:
            candidates = {c for c in candidates if kind_of_id(c) is kind}
        fitting = {c for c in candidates if kind_of_id(c) in allowed}
        if len(fitting) == 1:
            return fitting.pop()
        if len(fitting) > 1:
            raise InvalidRequest(
                f"{ref!r} is ambiguous: it names {', '.join(sorted(fitting))}; "
                "give the id, or the kind in from_kind / to_kind"
            )
        if candidates:
            raise InvalidRequest(
                f"{ref!r} names {', '.join(sorted(candidates))}, which this relationship type cannot join"
            )
        if key in self.rejected_names:
            raise InvalidRequest(f"{ref!r} names the row rejected at {self.rejected_names[key]}")
        try:  # an id with an invisible character in it: say which, rather than that no name matches
            canonical_id(ref)
        except ValueError as exc:
            if _ID_FORM.match(ref):
                raise InvalidRequest(str(exc)) from None
        raise InvalidRequest(f"no node is named {ref!r}{self._hint(ref)}")

    def _hint(self, ref: str) -> str:
        """A 'did you mean' among the dataset's nodes and (up to a bound) the graph's."""
        if self._hints_given >= MAX_HINTS:
            return ""  # a file of thousands of misspellings must not take minutes to refuse
        self._hints_given += 1
        store_ids, store_shown = self._store_hint_pool()
        if _as_id(ref) is not None:
            close = difflib.get_close_matches(ref, [*self.nodes, *store_ids], n=3, cutoff=0.75)
        else:
            shown = {**store_shown, **self._name_index()[1]}
            folded = difflib.get_close_matches(normalize_name(ref), list(shown), n=3, cutoff=0.75)
            close = [shown[f] for f in folded]
        return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""

    def _store_hint_pool(self) -> tuple[list[str], dict[str, str]]:
        """Ids and names of the graph's nodes, read once on the first miss when the graph is small."""
        if self._hint_pool is None:
            ids: list[str] = []
            shown: dict[str, str] = {}
            if self.store.counts().total_nodes <= MAX_HINT_POOL:
                for node in self.store.iter_nodes():
                    ids.append(node.id)
                    for name in node.names():
                        shown.setdefault(normalize_name(name), name)
            self._hint_pool = (ids, shown)
        return self._hint_pool


_ENDS: dict[RelType, tuple[frozenset[NodeKind], frozenset[NodeKind]]] = {
    rel_type: (frozenset(s for s, _ in pairs), frozenset(t for _, t in pairs))
    for rel_type, pairs in ALLOWED_PAIRS.items()
}
"""The kinds each relationship type may start from, and end at."""


_CHECKED_FIELDS = ("role", "since", "until")
"""The relationship fields a row's cells fill, beside provenance (already a validated Provenance)."""


class _CheckedRelationships:
    """Builds a relationship without validating it again when every field has passed the model's own checks.

    The checks are those ``Relationship(...)`` runs: each of role, since and until goes through
    the very validator of its field (once per distinct value) and must come out unchanged; the
    endpoints are well-formed ids (their kinds looked up once per id); the (type, source kind,
    target kind) triple is one the ontology allows (once per triple); a hierarchy is no
    self-loop. Anything else returns ``None``, and the caller validates the usual way.
    """

    def __init__(self) -> None:
        self.adapters = _field_validators()
        self.valid: dict[tuple[str, object], bool] = {}
        self.kinds: dict[str, NodeKind | None] = {}
        self.pairs: dict[tuple[RelType, NodeKind, NodeKind], bool] = {}

    def build(
        self, source: str, rel_type: RelType, target: str, fields: dict[str, Any]
    ) -> Relationship | None:
        """The relationship, or ``None`` when any field needs the model's full validation."""
        provenance = fields.get("provenance")
        if not isinstance(provenance, Provenance):
            return None
        valid = self.valid
        for item in fields.items():
            if item[1] is provenance:
                continue
            ok = valid.get(item)
            if ok is None:
                ok = self._check(*item)
            if not ok:
                return None
        kinds = self.kinds
        source_kind = kinds.get(source) or self._kind(source)
        target_kind = kinds.get(target) or self._kind(target)
        if source_kind is None or target_kind is None:
            return None
        triple = (rel_type, source_kind, target_kind)
        allowed = self.pairs.get(triple)
        if allowed is None:
            allowed = self.pairs[triple] = (source_kind, target_kind) in ALLOWED_PAIRS[rel_type]
        if not allowed or (source == target and rel_type in ACYCLIC_TYPES):
            return None
        get = fields.get
        rel = assemble_relationship(
            source,
            rel_type,
            target,
            provenance,
            get("role", ""),
            get("since"),
            get("until"),
            fields_set={"source", "type", "target", *fields},
        )
        return rel

    def passes(self, name: str, value: object) -> bool:
        """Whether a value of role, since or until passes its field's validator unchanged."""
        ok = self.valid.get((name, value))
        return self._check(name, value) if ok is None else ok

    def _check(self, name: str, value: object) -> bool:
        """Whether a field's value passes the field's validator unchanged (remembered per value)."""
        adapter = self.adapters.get(name)
        try:
            ok = adapter is not None and isinstance(value, str) and adapter.validate_python(value) == value
        except ValidationError:
            ok = False
        self.valid[(name, value)] = ok
        return ok

    def _kind(self, node_id: str) -> NodeKind | None:
        try:
            kind: NodeKind | None = kind_of_id(node_id)
        except GraphServiceError:
            kind = None
        self.kinds[node_id] = kind
        return kind


@cache
def _field_validators() -> dict[str, TypeAdapter[Any]]:
    """A validator for each of the fields a row fills, exactly as the model declares the field."""
    fields = Relationship.model_fields
    return {
        name: TypeAdapter(cast(Any, Annotated[fields[name].annotation, fields[name]]))
        for name in _CHECKED_FIELDS
    }


def _relationship(
    raw: RawRelationship, resolver: _Resolver, checked: _CheckedRelationships
) -> tuple[Relationship | None, list[RowError]]:
    starts, ends_at = _ENDS[raw.type]
    problems = []
    source = target = ""
    try:
        source = resolver.resolve(raw.source_ref, raw.source_kind, starts)
    except GraphServiceError as exc:
        problems.append(RowError(raw.file, raw.row, "from", exc.message))
    try:
        target = resolver.resolve(raw.target_ref, raw.target_kind, ends_at)
    except GraphServiceError as exc:
        problems.append(RowError(raw.file, raw.row, "to", exc.message))
    if problems:
        return None, problems
    rel = checked.build(source, raw.type, target, raw.fields)
    if rel is not None:
        return rel, []
    try:
        return Relationship(source=source, type=raw.type, target=target, **raw.fields), []
    except ValidationError as exc:
        return None, validation_errors(exc, raw.file, raw.row, {"source": "from", "target": "to"})
    except GraphServiceError as exc:
        return None, [RowError(raw.file, raw.row, "type", exc.message)]


def _cycles(
    sources: list[str],
    types: list[RelType],
    targets: list[str],
    row_of: Callable[[int], int],
    store: GraphStore,
    file: str,
) -> dict[int, RowError]:
    """The relationships (by position) of hierarchical types that would close a cycle, with their
    errors (``row_of`` gives the row number of a position)."""
    out: dict[int, RowError] = {}
    for rel_type in ACYCLIC_TYPES:
        new = list(itertools.compress(range(len(types)), map(rel_type.__eq__, types)))
        if not new:
            continue
        edges: dict[str, set[str]] = {}
        for rel in store.iter_relationships([rel_type]):
            edges.setdefault(rel.source, set()).add(rel.target)
        for at in new:
            edges.setdefault(sources[at], set()).add(targets[at])
        for at in new:
            if _reaches(edges, targets[at], sources[at]):
                out[at] = RowError(
                    file,
                    row_of(at),
                    None,
                    f"{sources[at]} {rel_type} {targets[at]} would close a cycle; {rel_type} must form a hierarchy",
                )
    return out


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    stack, seen = [start], {start}
    while stack:
        here = stack.pop()
        if here == goal:
            return True
        for nxt in edges.get(here, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _remember_rejected(
    kind: NodeKind,
    cells: dict[str, str | None],
    where: str,
    rejected_ids: dict[str, str],
    rejected_names: dict[str, str],
) -> None:
    """Note the id and names of a rejected node row, so relationships citing it say why they fail."""
    node_id = cells.get("id")
    if not node_id:
        try:
            node_id = derive_id(kind, cells)
        except GraphServiceError:
            node_id = None
    if node_id:
        rejected_ids.setdefault(_as_id(str(node_id)) or str(node_id), where)
    aliases = (cells.get("aliases") or "").split(ALIAS_SEPARATOR)
    for name in (cells.get("name"), cells.get("name_zh"), *aliases):
        if name and name.strip():
            rejected_names.setdefault(normalize_name(name), where)


def _as_id(ref: str) -> str | None:
    """The id a relationship end spells, in its canonical form; ``None`` for a name."""
    try:
        node_id = canonical_id(ref)
        kind_of_id(node_id)
    except (ValueError, GraphServiceError):
        return None
    return node_id


_ID_FORM = re.compile(r"[A-Za-z]+:\S")
"""What a relationship end that is meant as an id starts with: a kind, a colon, a key."""


def _open(path: Path, encoding: str | None, max_file_bytes: int | None) -> tuple[Manifest, dict[str, Table]]:
    if not path.exists():
        raise DataError([RowError(str(path), None, None, "does not exist")])
    if path.is_dir():
        manifest, files = read_manifest(path)
        tables = {
            key: read_table(file, encoding=encoding, display_name=file.name, max_bytes=max_file_bytes)
            for key, file in files.items()
        }
        return manifest, tables
    if path.suffix.lower() != ".xlsx":
        raise DataError(
            [RowError(str(path), None, None, "is neither a dataset directory nor an .xlsx workbook")]
        )
    return _open_workbook(path, max_file_bytes)


def _open_workbook(path: Path, max_file_bytes: int | None) -> tuple[Manifest, dict[str, Table]]:
    if max_file_bytes is not None and path.stat().st_size > max_file_bytes:
        read_table(path, max_bytes=max_file_bytes)  # raises the size error
    with Workbook(path) as book:  # opened once for all its sheets
        names = book.sheet_names
        if "sources" not in names:
            raise DataError(
                [RowError(path.name, None, None, "has no 'sources' sheet; start from `innograph template`")]
            )
        sources_table = book.table("sources")
        sources: dict[str, SourceDocument] = {}
        problems = list(sources_table.errors)
        for row_no, cells in sources_table.rows:
            key = cells.get("key")
            if not key:
                problems.append(RowError(sources_table.name, row_no, "key", "is required"))
                continue
            try:
                sources[key] = SourceDocument.model_validate(
                    {k: v for k, v in cells.items() if k != "key" and v is not None}
                )
            except ValidationError as exc:
                problems.extend(validation_errors(exc, sources_table.name, row_no))
        if problems:
            raise DataError(problems)
        tables: dict[str, Table] = {}
        by_stem = {stem: key for key, stem in FILE_STEMS.items()}
        sheets = _data_sheets(path.name, names, by_stem)
        for sheet, key in sheets.items():
            table = book.table(sheet)
            if table.rows or table.errors:
                tables[str(key)] = table
    manifest = Manifest(name=path.stem, sources=sources, files={})
    return manifest, tables


def _data_sheets(book: str, names: list[str], by_stem: dict[str, str]) -> dict[str, str]:
    """The sheets of a workbook that hold data, each with the kind (or relationships) it holds.

    A sheet named like a kind is read (case and spaces around aside); any other is ignored, except
    one whose name is close to a kind's, which is refused rather than silently left out.

    Raises:
        DataError: naming each misspelt sheet and the name it probably means, and each kind
            that two sheets hold.
    """
    likely = {stem: stem for stem in by_stem} | {kind.value.lower(): FILE_STEMS[kind] for kind in NodeKind}
    sheets: dict[str, str] = {}
    holder: dict[str, str] = {}
    problems = []
    for sheet in names:
        folded = sheet.strip().lower()
        key = by_stem.get(folded)
        if key is not None:
            if key in holder:
                problems.append(
                    RowError(
                        f"{book}[{sheet}]",
                        None,
                        None,
                        f"sheet {sheet!r} holds {FILE_STEMS[key]}, and so does sheet {holder[key]!r}; "
                        "put them in one sheet",
                    )
                )
                continue
            holder[key] = sheet
            sheets[sheet] = key
            continue
        if sheet == "sources":
            continue
        close = difflib.get_close_matches(folded, list(likely), n=1, cutoff=SHEET_NAME_LIKENESS)
        if close:
            problems.append(
                RowError(
                    f"{book}[{sheet}]",
                    None,
                    None,
                    f"sheet {sheet!r} is not read: did you mean {likely[close[0]]!r}? Rename it; a sheet "
                    "that holds nothing to load needs a name unlike any kind's",
                )
            )
    if problems:
        raise DataError(problems)
    return sheets


def _write_rejects(path: Path, rejected: list[tuple[RowError, dict[str, str | None]]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "row", "column", "problem", "cells"])
        for error, cells in rejected:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        error.file,
                        error.row or "",
                        error.column or "",
                        error.problem,
                        json.dumps(cells, ensure_ascii=False) if cells else "",
                    )
                ]
            )
