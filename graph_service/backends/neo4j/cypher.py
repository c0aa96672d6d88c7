"""Every Cypher text the Neo4j backend runs: constants, and small builders returning ``(text, params)``.

How the text stays safe:

- Every *value* (ids, names, property maps, limits, cursors) is a ``$parameter``.
- Cypher cannot parameterize labels or relationship types, so they come only from
  :data:`LABELS` and :data:`REL_TYPES`: one hand-written, backtick-quoted literal per
  :class:`~graph_service.core.ontology.NodeKind` / :class:`~graph_service.core.ontology.RelType`
  member, checked against the enums when this module is imported (a new kind without
  a table entry stops the import). Builders accept only enum members, convert them
  with ``NodeKind(x)`` / ``RelType(x)`` (anything else raises ``InvalidRequest``) and
  look the literal up; they never format a caller's string into the text.
- Query text is typed :data:`typing.LiteralString` and built only by ``+`` and
  ``str.join`` (and slicing) over literals from this module, which PEP 675 keeps
  ``LiteralString``; the driver's ``tx.run`` takes ``LiteralString | Query`` too. A
  checker that enforces PEP 675 refuses an f-string or any ``str`` built from input:
  pyright passes this module and the store (``store.py``) and rejects such a query. mypy (2.x)
  reads ``LiteralString`` as plain ``str`` and checks nothing here, so under mypy
  alone the by-construction rule above is what holds the line.

Property *keys* chosen by a caller (``find_nodes(where=...)``) are values too: they are
read with ``n[key]`` from a parameter map, never written into the text.

Example:
    >>> text, params = node_props_by_ids(NodeKind.SOCIETY, ["society:cmes"])
    >>> text
    'MATCH (n:`Society`) WHERE n.id IN $ids RETURN n.id AS id, properties(n) AS props'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, LiteralString

from graph_service.core.errors import InvalidRequest
from graph_service.core.ontology import ID_PREFIX, NodeKind, RelType

__all__ = [
    "ADVANCE_GENERATION",
    "AWAIT_INDEXES",
    "CLEAR_NODES",
    "CLEAR_RELATIONSHIPS",
    "FULLTEXT_NAMES_INDEX",
    "GENERATION_CONSTRAINT",
    "GENERATION_LABEL",
    "LABELS",
    "READ_GENERATION",
    "REL_TYPES",
    "CypherQuery",
    "count_all",
    "create_names_index",
    "create_relationships",
    "degrees",
    "drop_names_index",
    "existing_relationships",
    "find_nodes",
    "ids_by_name",
    "kinds_in_id_order",
    "label",
    "match_paths",
    "missing_ids",
    "neighbor_hops",
    "neighbors",
    "node_ids_page",
    "node_props_by_ids",
    "nodes_page",
    "rel_type",
    "relationships_from",
    "schema_statements",
    "show_names_index",
    "subgraph_relationships",
    "upsert_nodes",
    "upsert_relationships",
]

CypherQuery = tuple[LiteralString, dict[str, Any]]
"""A query text and its parameters, ready for ``tx.run(text, params)``."""

LABELS: Final[Mapping[NodeKind, LiteralString]] = {
    NodeKind.SOCIETY: "`Society`",
    NodeKind.TALENT: "`Talent`",
    NodeKind.ENTERPRISE: "`Enterprise`",
    NodeKind.PARK: "`Park`",
    NodeKind.INDUSTRY: "`Industry`",
    NodeKind.AGREEMENT: "`Agreement`",
    NodeKind.REGION: "`Region`",
    NodeKind.ORGANIZATION: "`Organization`",
    NodeKind.PROGRAM: "`Program`",
}
"""The backtick-quoted label of each node kind, as literal text."""

REL_TYPES: Final[Mapping[RelType, LiteralString]] = {
    RelType.SERVES: "`SERVES`",
    RelType.PARTY_TO: "`PARTY_TO`",
    RelType.COVERS: "`COVERS`",
    RelType.PARTICIPATES_IN: "`PARTICIPATES_IN`",
    RelType.MEMBER_OF: "`MEMBER_OF`",
    RelType.ADVISES: "`ADVISES`",
    RelType.HOSTS: "`HOSTS`",
    RelType.LOCATED_IN: "`LOCATED_IN`",
    RelType.OPERATES_IN: "`OPERATES_IN`",
    RelType.FOCUSES_ON: "`FOCUSES_ON`",
    RelType.PART_OF: "`PART_OF`",
    RelType.EXPERT_IN: "`EXPERT_IN`",
}
"""The backtick-quoted relationship type of each ``RelType``, as literal text."""


def _check_tables() -> None:
    """Refuse to import when a table and its enum disagree (a kind added to the ontology only)."""
    pairs: list[tuple[str, str]] = [(k.value, text) for k, text in LABELS.items()]
    pairs += [(t.value, text) for t, text in REL_TYPES.items()]
    expected = {k.value for k in NodeKind} | {t.value for t in RelType}
    if {value for value, _ in pairs} != expected or len(pairs) != len(NodeKind) + len(RelType):
        raise RuntimeError("cypher.py: LABELS / REL_TYPES are out of step with NodeKind / RelType")
    for value, text in pairs:
        if text != f"`{value}`" or not value.replace("_", "").isalnum():
            raise RuntimeError(f"cypher.py: bad literal {text!r} for {value!r}")


_check_tables()

FULLTEXT_NAMES_INDEX: Final[LiteralString] = "innograph_names"
"""The full-text index (keyword analyzer) on ``names_norm`` that ``ids_by_name`` reads."""

_ANY_LABEL: Final[LiteralString] = "|".join(LABELS[k] for k in NodeKind)
"""A label expression matching a node of any kind: ``Society|Talent|…``."""

AWAIT_INDEXES: Final[LiteralString] = "CALL db.awaitIndexes($seconds)"
"""Wait (up to ``$seconds``) until every index is online."""

CLEAR_RELATIONSHIPS: Final[LiteralString] = (
    "MATCH ()-[r]->() WITH r LIMIT $batch DELETE r RETURN count(r) AS deleted"
)
"""Delete up to ``$batch`` relationships; repeat until it deletes none."""

CLEAR_NODES: Final[LiteralString] = "MATCH (n) WITH n LIMIT $batch DETACH DELETE n RETURN count(n) AS deleted"
"""Delete up to ``$batch`` nodes; repeat until it deletes none."""

# The graph's generation: one node outside the ontology, ``(:InnographGeneration {key: 'graph'})``,
# whose ``counter`` every innograph write transaction that changed something advances as its last
# statement (and a transaction of its own again after the commit), and whose
# ``token`` is new whenever the node is (re)created (after a clear, or by anyone deleting it), so a
# generation once seen never comes back.
GENERATION_LABEL: Final[LiteralString] = "InnographGeneration"
"""The label of the generation node (not a node kind: reads of the graph never match it)."""

GENERATION_CONSTRAINT: Final[LiteralString] = (
    "CREATE CONSTRAINT IF NOT EXISTS FOR (g:InnographGeneration) REQUIRE g.key IS UNIQUE"
)
"""One generation node, even when two writers create it at once."""

ADVANCE_GENERATION: Final[LiteralString] = (
    "MERGE (g:InnographGeneration {key: 'graph'})"
    " ON CREATE SET g.token = randomUUID(), g.counter = 0"
    " SET g.counter = g.counter + 1"
)
"""Advance the generation; run last in a write transaction, so its lock is held only until the commit."""

# ``CYPHER replan=skip`` keeps a query's cached plan when a load has changed the graph's
# statistics. Neo4j otherwise plans such a query again on its first run after the load, which
# took 0.8-1.3 s for the counts below on the test server (against 15-30 ms to run it), and
# /api/health asks for them on every call. Only for queries whose plan cannot depend on the
# statistics: counts read from the count store, and the one generation node by its key.
READ_GENERATION: Final[LiteralString] = (
    "CYPHER replan=skip"
    " MATCH (g:InnographGeneration {key: 'graph'}) RETURN g.token + ':' + toString(g.counter) AS generation"
)
"""The generation as ``token:counter``; no row when the node does not exist."""


# ---------------------------------------------------------------------------
# labels and types


def label(kind: NodeKind | str) -> LiteralString:
    """The quoted label of a node kind.

    Raises:
        InvalidRequest: when ``kind`` is not a ``NodeKind`` value.
    """
    try:
        return LABELS[NodeKind(kind)]
    except ValueError:
        raise InvalidRequest(f"unknown node kind {kind!r}; known: {', '.join(NodeKind)}") from None


def rel_type(value: RelType | str) -> LiteralString:
    """The quoted relationship type of a ``RelType``.

    Raises:
        InvalidRequest: when ``value`` is not a ``RelType`` value.
    """
    try:
        return REL_TYPES[RelType(value)]
    except ValueError:
        raise InvalidRequest(f"unknown relationship type {value!r}; known: {', '.join(RelType)}") from None


def kinds_in_id_order() -> list[NodeKind]:
    """Kinds sorted by their id prefix, so that walking them in turn walks every id in order.

    An id is ``prefix:key`` and ``:`` sorts before every letter, so all ids of one
    prefix sort together, and prefixes sort as the kinds here.
    """
    return sorted(NodeKind, key=lambda k: ID_PREFIX[k] + ":")


def _label_expr(kinds: Iterable[NodeKind]) -> LiteralString:
    """``:A|B`` for the given kinds (deduplicated, in enum order), or ``""`` for any."""
    wanted = {label(k) for k in kinds}
    if not wanted:
        return ""
    return ":" + "|".join(LABELS[k] for k in NodeKind if LABELS[k] in wanted)


def _type_expr(types: Iterable[RelType]) -> LiteralString:
    """``:A|B`` for the given relationship types (deduplicated), or ``""`` for any."""
    wanted = {rel_type(t) for t in types}
    if not wanted:
        return ""
    return ":" + "|".join(REL_TYPES[t] for t in RelType if REL_TYPES[t] in wanted)


def _limit(limit: int | None, params: dict[str, Any]) -> LiteralString:
    if limit is None:
        return ""
    params["limit"] = max(int(limit), 0)
    return " LIMIT $limit"


# ---------------------------------------------------------------------------
# schema


def schema_statements() -> list[LiteralString]:
    """Uniqueness of ``id`` and an index on ``name`` for every kind; safe to run again."""
    out: list[LiteralString] = []
    for kind in NodeKind:
        out.append("CREATE CONSTRAINT IF NOT EXISTS FOR (n:" + LABELS[kind] + ") REQUIRE n.id IS UNIQUE")
        out.append("CREATE INDEX IF NOT EXISTS FOR (n:" + LABELS[kind] + ") ON (n.name)")
    return out


def show_names_index() -> CypherQuery:
    """The labels the names index covers, if it exists."""
    return (
        "SHOW FULLTEXT INDEXES YIELD name, labelsOrTypes, properties WHERE name = $name "
        "RETURN labelsOrTypes AS labels, properties",
        {"name": FULLTEXT_NAMES_INDEX},
    )


def drop_names_index() -> LiteralString:
    """Drop the names index (to rebuild it over a changed set of kinds)."""
    return "DROP INDEX " + FULLTEXT_NAMES_INDEX + " IF EXISTS"


def create_names_index() -> LiteralString:
    """A full-text index with the keyword analyzer on ``names_norm`` over every kind.

    The keyword analyzer keeps each folded name whole, so a phrase query for it is an
    exact term lookup; the caller still re-checks membership in ``names_norm``.
    """
    return (
        "CREATE FULLTEXT INDEX "
        + FULLTEXT_NAMES_INDEX
        + " IF NOT EXISTS FOR (n:"
        + _ANY_LABEL
        + ") ON EACH [n.names_norm] OPTIONS {indexConfig: {`fulltext.analyzer`: 'keyword'}}"
    )


# ---------------------------------------------------------------------------
# writes


def upsert_nodes(kind: NodeKind, rows: list[dict[str, Any]]) -> CypherQuery:
    """Create or replace nodes of one kind, writing only those that differ, and count what was there.

    Each row is ``{id, props, first?}`` with one row per id: ``props`` the last version
    the batch gives, ``first`` its first version when that differs. ``SET n = props``
    replaces the whole map, so keys a node no longer has disappear. The one result row
    has ``existing`` (ids already present) and ``same_first`` (present and equal to
    the first version), from which the caller derives created / updated / unchanged,
    and ``existing_ids``, so that the caller knows which ids it created.
    """
    return (
        "UNWIND $rows AS row OPTIONAL MATCH (old:"
        + label(kind)
        + " {id: row.id}) WITH row, properties(old) AS before "
        "FOREACH (_ IN CASE WHEN before = row.props THEN [] ELSE [1] END | MERGE (n:"
        + label(kind)
        + " {id: row.id}) SET n = row.props) "
        "RETURN count(before) AS existing, "
        "count(CASE WHEN before = coalesce(row.first, row.props) THEN 1 END) AS same_first, "
        "collect(CASE WHEN before IS NOT NULL THEN row.id END) AS existing_ids",
        {"rows": rows},
    )


def upsert_relationships(
    rtype: RelType, source: NodeKind, target: NodeKind, rows: list[dict[str, Any]]
) -> CypherQuery:
    """Create or replace relationships of one type and endpoint kinds, writing only those that differ.

    Each row is ``{s, t, props, first?}`` with one row per (s, t), as for
    :func:`upsert_nodes`. The result row adds ``missing``: endpoint ids not found (the
    caller then rolls the transaction back, so nothing of the batch is written).
    """
    return (
        "UNWIND $rows AS row OPTIONAL MATCH (a:"
        + label(source)
        + " {id: row.s}) OPTIONAL MATCH (b:"
        + label(target)
        + " {id: row.t}) OPTIONAL MATCH (a)-[old:"
        + rel_type(rtype)
        + "]->(b) WITH row, a, b, properties(old) AS before "
        "FOREACH (_ IN CASE WHEN a IS NULL OR b IS NULL OR before = row.props THEN [] ELSE [1] END | "
        "MERGE (a)-[r:" + rel_type(rtype) + "]->(b) SET r = row.props) "
        "RETURN count(before) AS existing, "
        "count(CASE WHEN before = coalesce(row.first, row.props) THEN 1 END) AS same_first, "
        "collect(DISTINCT CASE WHEN a IS NULL THEN row.s END) "
        "+ collect(DISTINCT CASE WHEN b IS NULL THEN row.t END) AS missing",
        {"rows": rows},
    )


def create_relationships(
    rtype: RelType, source: NodeKind, target: NodeKind, rows: list[list[Any]]
) -> CypherQuery:
    """Create relationships that are known not to exist yet, without looking for them first.

    Each row is ``[source id, target id, props]``. Both endpoints are found through the
    ``id`` uniqueness index of their label. The result row has ``created``: fewer than the
    rows when an endpoint is missing (the caller then asks :func:`missing_ids` which, and
    rolls the transaction back). Only for a caller that knows no such relationship exists:
    one at a node its own transaction created and that it has not written before.
    """
    return (
        "UNWIND $rows AS row MATCH (a:"
        + label(source)
        + " {id: row[0]}) MATCH (b:"
        + label(target)
        + " {id: row[1]}) CREATE (a)-[r:"
        + rel_type(rtype)
        + "]->(b) SET r = row[2] RETURN count(r) AS created",
        {"rows": rows},
    )


def missing_ids(kind: NodeKind, ids: Sequence[str]) -> CypherQuery:
    """The ids among ``ids`` that no node of the kind has, as one list ``missing``."""
    return (
        "UNWIND $ids AS id OPTIONAL MATCH (n:"
        + label(kind)
        + " {id: id}) WITH id, n WHERE n IS NULL RETURN collect(id) AS missing",
        {"ids": list(ids)},
    )


# ---------------------------------------------------------------------------
# reads


def existing_relationships(
    rtype: RelType, source: NodeKind, target: NodeKind, pairs: list[dict[str, str]]
) -> CypherQuery:
    """Properties of the relationships among ``pairs`` (``{s, t}`` ids) of one type and endpoint kinds."""
    return (
        "UNWIND $pairs AS p MATCH (a:"
        + label(source)
        + " {id: p.s})-[r:"
        + rel_type(rtype)
        + "]->(b:"
        + label(target)
        + " {id: p.t}) RETURN a.id AS s, b.id AS t, properties(r) AS props",
        {"pairs": pairs},
    )


def node_props_by_ids(kind: NodeKind, ids: Sequence[str]) -> CypherQuery:
    """Properties of the nodes of one kind among ``ids``."""
    return (
        "MATCH (n:" + label(kind) + ") WHERE n.id IN $ids RETURN n.id AS id, properties(n) AS props",
        {"ids": list(ids)},
    )


def find_nodes(kind: NodeKind | None, where: Mapping[str, Any], limit: int | None) -> CypherQuery:
    """Nodes (of a kind) whose properties equal ``where`` (``None`` meaning absent), ordered by id."""
    params: dict[str, Any] = {"where": dict(where)}
    text: LiteralString = "MATCH (n" + (":" + label(kind) if kind is not None else ":" + _ANY_LABEL) + ")"
    if where:
        text += (
            " WHERE all(k IN keys($where) WHERE CASE WHEN $where[k] IS NULL "
            "THEN n[k] IS NULL ELSE n[k] = $where[k] END)"
        )
    text += " RETURN properties(n) AS props ORDER BY n.id" + _limit(limit, params)
    return text, params


def ids_by_name(keys: Sequence[str]) -> CypherQuery:
    """Ids of the nodes having each folded name among their ``names_norm``.

    The full-text phrase of each key finds candidates through the index; the
    ``IN`` check keeps exact matches only.
    """
    rows = [{"k": k, "q": _lucene_phrase(k)} for k in keys if k]
    return (
        "UNWIND $keys AS key CALL db.index.fulltext.queryNodes($index, key.q) YIELD node "
        "WHERE key.k IN node.names_norm RETURN key.k AS key, node.id AS id",
        {"keys": rows, "index": FULLTEXT_NAMES_INDEX},
    )


def nodes_page(kind: NodeKind, after: str, page: int) -> CypherQuery:
    """The next ``page`` nodes of a kind with ids after ``after``, in id order."""
    return (
        "MATCH (n:"
        + label(kind)
        + ") WHERE n.id > $after RETURN properties(n) AS props ORDER BY n.id LIMIT $page",
        {"after": after, "page": page},
    )


def node_ids_page(kind: NodeKind, after: str, page: int) -> CypherQuery:
    """The next ``page`` ids of a kind after ``after``, in order."""
    return (
        "MATCH (n:" + label(kind) + ") WHERE n.id > $after RETURN n.id AS id ORDER BY n.id LIMIT $page",
        {"after": after, "page": page},
    )


def relationships_from(kind: NodeKind, ids: Sequence[str], types: Sequence[RelType]) -> CypherQuery:
    """Outgoing relationships (of some types) of the nodes of one kind among ``ids``."""
    return (
        "MATCH (a:"
        + label(kind)
        + ") WHERE a.id IN $ids MATCH (a)-[r"
        + _type_expr(types)
        + "]->(b) RETURN a.id AS s, type(r) AS type, b.id AS t, properties(r) AS props",
        {"ids": list(ids)},
    )


_STARTS_WITHIN_X: LiteralString = (
    "x.since IS NOT NULL AND left(x.since, size($start)) >= left($start, size(x.since))"
    " AND left(x.since, size($end)) <= left($end, size(x.since))"
)
"""``ontology.starts_within`` of ``x``: ``left(a, size(b))`` and ``left(b, size(a))`` are the
two dates cut to their common precision."""


def started_nodes(start: str, end: str, limit: int) -> CypherQuery:
    """How many nodes of every kind started from ``start`` up to ``end``, and the first
    ``limit`` of them (their properties) by ``since`` and id: one row ``(total, first)``."""
    nodes: LiteralString = "MATCH (x" + _label_expr(NodeKind) + ") WHERE " + _STARTS_WITHIN_X
    return (
        nodes + " WITH count(x) AS total CALL () { " + nodes + " WITH x ORDER BY x.since, x.id LIMIT $limit"
        " RETURN collect(properties(x)) AS first } RETURN total, first",
        {"start": start, "end": end, "limit": max(int(limit), 0)},
    )


def started_relationships(start: str, end: str, limit: int) -> CypherQuery:
    """How many relationships of every type started from ``start`` up to ``end``, and the
    first ``limit`` of them ``[source, type, target, properties]`` by ``since``, source,
    target and type: one row ``(total, first)``."""
    rels: LiteralString = "MATCH (a)-[x" + _type_expr(RelType) + "]->(b) WHERE " + _STARTS_WITHIN_X
    return (
        rels + " WITH count(x) AS total CALL () { " + rels + " WITH a, x, b"
        " ORDER BY x.since, a.id, b.id, type(x) LIMIT $limit"
        " RETURN collect([a.id, type(x), b.id, properties(x)]) AS first } RETURN total, first",
        {"start": start, "end": end, "limit": max(int(limit), 0)},
    )


def subgraph_relationships(kind: NodeKind, ids: Sequence[str], among: Sequence[str]) -> CypherQuery:
    """Relationships from the nodes of one kind among ``ids`` to any node among ``among``."""
    return (
        "MATCH (a:" + label(kind) + ") WHERE a.id IN $ids MATCH (a)-[r]->(b) WHERE b.id IN $among "
        "RETURN a.id AS s, type(r) AS type, b.id AS t, properties(r) AS props",
        {"ids": list(ids), "among": list(among)},
    )


def neighbors(
    kind: NodeKind,
    node_id: str,
    direction: str,
    types: Sequence[RelType],
    kinds: Sequence[NodeKind],
    limit: int | None,
) -> CypherQuery:
    """Relationships at a node with the node at their other end, ordered by (type, other id, way).

    ``both`` is an ``out`` branch plus an ``in`` branch (``UNION ALL``), so a
    self-loop is listed once each way, as the embedded store lists it.
    """
    if direction not in ("out", "in", "both"):
        raise InvalidRequest(f"direction must be 'out', 'in' or 'both', not {direction!r}")
    rel: LiteralString = "[r" + _type_expr(types) + "]"
    other: LiteralString = "(b" + _label_expr(kinds) + ")"
    branches: list[LiteralString] = []
    if direction in ("out", "both"):
        branches.append("MATCH (a)-" + rel + "->" + other + " RETURN r, b, 'out' AS way")
    if direction in ("in", "both"):
        branches.append("MATCH (a)<-" + rel + "-" + other + " RETURN r, b, 'in' AS way")
    params: dict[str, Any] = {"id": node_id}
    text: LiteralString = (
        _ANCHORED
        + "MATCH (a:"
        + label(kind)
        + " {id: $id}) USING INDEX SEEK a:"
        + label(kind)
        + "(id) CALL (a) { "
        + " UNION ALL ".join(branches)
        + " } RETURN type(r) AS type, b.id AS other, way, properties(b) AS node, "
        "startNode(r).id AS s, endNode(r).id AS t, properties(r) AS props "
        "ORDER BY type, other, way" + _limit(limit, params)
    )
    return text, params


def match_paths(
    kind: NodeKind,
    start_id: str,
    steps: Sequence[tuple[Sequence[RelType], str, Sequence[NodeKind]]],
    limit: int | None,
) -> CypherQuery:
    """One ``MATCH`` for a typed path pattern; no node twice; ordered by the ids, then the types.

    Ties (the same ids and types, walked against the direction at some step) go
    out-before-in, step by step, which is the order the embedded store's walk finds them.

    Each step is ``(types, direction, kinds)``; empty types or kinds mean any.
    """
    params: dict[str, Any] = {"start": start_id}
    text: LiteralString = (
        _ANCHORED
        + _ordered_paths(kind, steps, limit, params)
        + " RETURN [x IN nodes(p) | properties(x)] AS nodes, "
        + _RELS_OF_P
    )
    return text, params


def tally_paths(
    kind: NodeKind,
    start_id: str,
    steps: Sequence[tuple[Sequence[RelType], str, Sequence[NodeKind]]],
    *,
    limit: int | None,
    as_of: str | None,
    weights: Mapping[str, float],
    keep: int,
) -> CypherQuery:
    """The paths of :func:`match_paths` alive at ``as_of``, grouped by the node they end at:
    one row per end with the summed weight (``weights`` by basis, multiplied along a path),
    the count, and the first ``keep`` paths as ``[nodes, rels]``.

    A fact is alive when its ``since`` (cut to the length of ``as_of``) is not after
    ``as_of`` and ``as_of`` (cut to the length of its ``until``) is not after its ``until``.
    """
    params: dict[str, Any] = {
        "start": start_id,
        "as_of": as_of,
        "weights": dict(weights),
        "keep": max(keep, 0),
    }
    text: LiteralString = (
        _ANCHORED + _ordered_paths(kind, steps, limit, params) + " WITH p WHERE $as_of IS NULL OR ("
        "all(x IN nodes(p) WHERE " + _ALIVE_X + ") AND all(x IN relationships(p) WHERE " + _ALIVE_X + "))"
        " WITH last(nodes(p)).id AS end, p, reduce(w = 1.0, r IN relationships(p) | w * $weights[r.basis]) AS weight"
        " WITH end, sum(weight) AS weight, count(p) AS n, collect(p)[..$keep] AS examples"
        " RETURN end, weight, n, [p IN examples | [[x IN nodes(p) | properties(x)], "
        + _RELS_OF_P_LIST
        + "]] AS examples"
    )
    return text, params


_ALIVE_X: LiteralString = (
    "(x.since IS NULL OR left(x.since, size($as_of)) <= $as_of)"
    " AND (x.until IS NULL OR left($as_of, size(x.until)) <= x.until)"
)
_RELS_OF_P_LIST: LiteralString = (
    "[r IN relationships(p) | [startNode(r).id, type(r), endNode(r).id, properties(r)]]"
)
_RELS_OF_P: LiteralString = _RELS_OF_P_LIST + " AS rels"


_ANCHORED: LiteralString = "CYPHER replan=skip "
"""For a query that starts at one node by its id, named in a ``USING INDEX SEEK`` hint: its
plan is that seek and expansions outward, whatever the graph's statistics, so the plan cached
before a load is kept after it (see READ_GENERATION). Without a hint the planner chose, on a
loaded graph, to scan the far end's kind and filter on the start's id at the end; with a plain
``USING INDEX`` it sometimes scanned the whole id index and filtered (a hint an index scan
fulfils); and planning a serving pattern again after a load took 1.4-3 s on the test server."""


def _ordered_paths(
    kind: NodeKind,
    steps: Sequence[tuple[Sequence[RelType], str, Sequence[NodeKind]]],
    limit: int | None,
    params: dict[str, Any],
    start: LiteralString = "$start",
) -> LiteralString:
    """``MATCH`` the pattern from the node whose id is ``start`` (the parameter ``$start``, or a
    variable) and keep ``p`` in the order of :func:`match_paths`."""
    return (
        _paths(kind, steps, start)
        + " WITH p, [x IN nodes(p) | x.id] AS ids, [r IN relationships(p) | type(r)] AS types,"
        " [i IN range(0, size(relationships(p)) - 1) |"
        " CASE WHEN startNode(relationships(p)[i]) = nodes(p)[i] THEN 0 ELSE 1 END] AS ways"
        " ORDER BY ids, types, ways" + _limit(limit, params)
    )


def _paths(
    kind: NodeKind, steps: Sequence[tuple[Sequence[RelType], str, Sequence[NodeKind]]], start: LiteralString
) -> LiteralString:
    """``MATCH p`` = the pattern from the node whose id is ``start``, no node twice, in no order.

    The start is found on its own by a seek of its id's index (``USING INDEX SEEK``; see
    ``_ANCHORED``), and ``WITH s`` ends that part of the query, so the pattern is planned
    outward from a node already found."""
    pattern: LiteralString = "(s)"
    for types, direction, kinds in steps:
        rel: LiteralString = "[" + _type_expr(types) + "]"
        if direction == "out":
            pattern += "-" + rel + "->"
        elif direction == "in":
            pattern += "<-" + rel + "-"
        elif direction == "both":
            pattern += "-" + rel + "-"
        else:
            raise InvalidRequest(f"direction must be 'out', 'in' or 'both', not {direction!r}")
        pattern += "(" + _label_expr(kinds) + ")"
    return (
        "MATCH (s:"
        + label(kind)
        + " {id: "
        + start
        + "}) USING INDEX SEEK s:"
        + label(kind)
        + "(id) WITH s MATCH p = "
        + pattern
        + " WHERE all(x IN nodes(p) WHERE single(y IN nodes(p) WHERE y = x))"
    )


def path_ends_many(
    kind: NodeKind,
    start_ids: Sequence[str],
    steps: Sequence[tuple[Sequence[RelType], str, Sequence[NodeKind]]],
    *,
    limit: int | None,
    as_of: str | None,
) -> CypherQuery:
    """For each start (all of one kind), where the paths of :func:`tally_paths` end: one row
    ``(start, ends)`` per start. The pattern runs once per start (``CALL`` per row of the
    ``UNWIND``), so the cap holds per start; without a cap the paths need no order."""
    params: dict[str, Any] = {"starts": list(start_ids), "as_of": as_of}
    paths: LiteralString = (
        _ordered_paths(kind, steps, limit, params, start="start")
        if limit is not None
        else _paths(kind, steps, "start")
    )
    text: LiteralString = (
        _ANCHORED
        + "UNWIND $starts AS start CALL (start) { "
        + paths
        + " WITH p WHERE $as_of IS NULL OR (all(x IN nodes(p) WHERE "
        + _ALIVE_X
        + ") AND all(x IN relationships(p) WHERE "
        + _ALIVE_X
        + ")) RETURN collect(DISTINCT last(nodes(p)).id) AS ends } RETURN start, ends"
    )
    return text, params


def path_ends_counted(
    kind: NodeKind,
    start_ids: Sequence[str],
    steps: Sequence[tuple[Sequence[RelType], str, Sequence[NodeKind]]],
    *,
    as_of: str | None,
) -> CypherQuery:
    """For each start (all of one kind), how many paths of the pattern it has, alive or not,
    and where those alive at ``as_of`` end: one row ``(start, n, ends)`` per start, the paths
    in no order. A start with no more paths than a cap has the ends of
    :func:`path_ends_many` under that cap, without putting its paths in order; only the
    starts over it need that."""
    params: dict[str, Any] = {"starts": list(start_ids), "as_of": as_of}
    text: LiteralString = (
        _ANCHORED
        + "UNWIND $starts AS start CALL (start) { "
        + _paths(kind, steps, "start")
        + " WITH p, $as_of IS NULL OR (all(x IN nodes(p) WHERE "
        + _ALIVE_X
        + ") AND all(x IN relationships(p) WHERE "
        + _ALIVE_X
        + ")) AS alive RETURN count(p) AS n,"
        " collect(DISTINCT CASE WHEN alive THEN last(nodes(p)).id END) AS ends } RETURN start, n, ends"
    )
    return text, params


def count_all() -> LiteralString:
    """Node counts per kind and relationship counts per type in one query, each from the count store.

    Rows are ``(key, n)`` where ``key`` is the kind or type name.
    """
    # the names are the table literals without their backticks (checked to be [A-Za-z0-9_]+)
    node_branches: list[LiteralString] = [
        "MATCH (n:" + LABELS[k] + ") RETURN '" + LABELS[k][1:-1] + "' AS key, count(n) AS n" for k in NodeKind
    ]
    rel_branches: list[LiteralString] = [
        "MATCH ()-[r:" + REL_TYPES[t] + "]->() RETURN '" + REL_TYPES[t][1:-1] + "' AS key, count(r) AS n"
        for t in RelType
    ]
    # replan=skip: each branch is a count-store read whatever the statistics (see READ_GENERATION)
    return (
        "CYPHER replan=skip CALL () { "
        + " UNION ALL ".join(node_branches + rel_branches)
        + " } RETURN key, n"
    )


def _lucene_phrase(text: str) -> str:
    """A Lucene phrase query for ``text``: quoted, with ``\\`` and ``"`` escaped (a value, not Cypher)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def neighbor_hops(
    kind: NodeKind,
    node_ids: Sequence[str],
    direction: str,
    types: Sequence[RelType],
    as_of: str | None,
    limit: int | None,
) -> CypherQuery:
    """For each node of one kind among ``node_ids``, the hops of :func:`neighbors` (in its order,
    the first ``limit`` of them), then those whose relationship and neighbour are alive at
    ``as_of``, by id: one row ``(id, hops)`` per node found, ``hops`` a list of
    ``[neighbour id, type, way]``. Only ids and types come back, no properties."""
    if direction not in ("out", "in", "both"):
        raise InvalidRequest(f"direction must be 'out', 'in' or 'both', not {direction!r}")
    rel: LiteralString = "[r" + _type_expr(types) + "]"
    branches: list[LiteralString] = []
    if direction in ("out", "both"):
        branches.append("MATCH (a)-" + rel + "->(b) RETURN r, b, 'out' AS way")
    if direction in ("in", "both"):
        branches.append("MATCH (a)<-" + rel + "-(b) RETURN r, b, 'in' AS way")
    params: dict[str, Any] = {"ids": list(node_ids), "as_of": as_of}
    text: LiteralString = (
        _each_node(kind)
        + " CALL (a) { CALL (a) { "
        + " UNION ALL ".join(branches)
        + " } WITH r, b, way, type(r) AS type, b.id AS other ORDER BY type, other, way"
        + _limit(limit, params)
        + " WITH r, b, way, type, other WHERE $as_of IS NULL OR all(x IN [r, b] WHERE "
        + _ALIVE_X
        + ") RETURN collect([other, type, way]) AS hops } RETURN a.id AS id, hops"
    )
    return text, params


def _each_node(kind: NodeKind) -> LiteralString:
    """``a``: each node of one kind whose id is in ``$ids``, found by a seek of its id index."""
    return (
        _ANCHORED
        + "UNWIND $ids AS id MATCH (a:"
        + label(kind)
        + " {id: id}) USING INDEX SEEK a:"
        + label(kind)
        + "(id)"
    )


def degrees(kind: NodeKind, node_ids: Sequence[str], direction: str, types: Sequence[RelType]) -> CypherQuery:
    """For each node of one kind among ``node_ids``, how many hops :func:`neighbors` lists for it
    uncapped: one row ``(id, n)`` per node found, counted from the degree store."""
    if direction not in ("out", "in", "both"):
        raise InvalidRequest(f"direction must be 'out', 'in' or 'both', not {direction!r}")
    rel: LiteralString = "[" + _type_expr(types) + "]"
    counts: list[LiteralString] = []
    if direction in ("out", "both"):
        counts.append("COUNT { (a)-" + rel + "->() }")
    if direction in ("in", "both"):
        counts.append("COUNT { (a)<-" + rel + "-() }")
    text: LiteralString = _each_node(kind) + " RETURN a.id AS id, " + " + ".join(counts) + " AS n"
    return text, {"ids": list(node_ids)}
