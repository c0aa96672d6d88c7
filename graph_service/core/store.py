"""The ``GraphStore`` protocol: the primitives every backend does natively, and their result types.

The query catalog is written once against these primitives; the embedded
(networkx) and Neo4j backends each implement them, and one contract suite demands
the same answers from both.
"""

from __future__ import annotations

import contextlib
import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, overload, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from graph_service.core.ontology import Basis, Node, NodeKind, Relationship, RelType, alive, starts_within

__all__ = [
    "UNIT_WEIGHTS",
    "Direction",
    "GraphCounts",
    "GraphStore",
    "Hop",
    "Neighbor",
    "Path",
    "PathStep",
    "PathTally",
    "PathsOnRead",
    "Started",
    "Subgraph",
    "WriteCounts",
    "WriteSummary",
    "started_of",
    "tally_of_paths",
]

Direction = Literal["out", "in", "both"]

DEFAULT_LIMIT = 1000
"""Cap on results a primitive returns when the caller gives none."""


@dataclass
class WriteCounts:
    """How many items a write created, changed, or found already as given."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: WriteCounts) -> None:
        """Add another count into this one."""
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged

    @property
    def total(self) -> int:
        """Items written or confirmed."""
        return self.created + self.updated + self.unchanged


@dataclass
class WriteSummary:
    """Write counts per node kind and per relationship type."""

    nodes: dict[str, WriteCounts] = field(default_factory=dict)
    relationships: dict[str, WriteCounts] = field(default_factory=dict)

    def merge(self, other: WriteSummary) -> None:
        """Fold another summary into this one."""
        for mine, theirs in ((self.nodes, other.nodes), (self.relationships, other.relationships)):
            for key, counts in theirs.items():
                mine.setdefault(key, WriteCounts()).add(counts)

    @property
    def changed(self) -> int:
        """Items created or updated; zero for a re-load of the same data."""
        return sum(c.created + c.updated for c in [*self.nodes.values(), *self.relationships.values()])


class GraphCounts(BaseModel):
    """Node counts per kind and relationship counts per type."""

    model_config = ConfigDict(extra="forbid")

    nodes: dict[str, int] = Field(default_factory=dict)
    relationships: dict[str, int] = Field(default_factory=dict)

    @property
    def total_nodes(self) -> int:
        """All nodes."""
        return sum(self.nodes.values())

    @property
    def total_relationships(self) -> int:
        """All relationships."""
        return sum(self.relationships.values())


class PathStep(BaseModel):
    """One hop of a typed path pattern: which relationship types, which way, to which kinds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    types: tuple[RelType, ...] = Field(description="Relationship types allowed; empty means any.")
    direction: Direction = "out"
    kinds: tuple[NodeKind, ...] = Field(
        default=(), description="Kinds the hop may arrive at; empty means any."
    )


class Neighbor(BaseModel):
    """A node next to another, with the relationship between them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    node: Node
    relationship: Relationship
    direction: Literal["out", "in"] = Field(description="'out' when the relationship starts at the origin.")


Hop = tuple[str, RelType, Literal["out", "in"]]
"""A hop from a node, without models: the neighbour's id, the relationship's type, and
``out`` when the relationship starts at the origin (as :attr:`Neighbor.direction`)."""


class Path(BaseModel):
    """A chain of nodes joined by relationships: ``nodes[i]`` and ``nodes[i+1]`` by ``relationships[i]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: tuple[Node, ...]
    relationships: tuple[Relationship, ...]


class PathsOnRead(Sequence[Path]):
    """Paths kept as a backend found them (``add(*found)``) and made into models when read,
    each once: a tally keeps the first paths of hundreds of ends, and an answer puts into
    words those of one page."""

    __slots__ = ("_build", "_built", "_found")

    def __init__(self, build: Callable[..., Path]) -> None:
        self._build = build
        self._found: list[tuple[Any, ...]] = []
        self._built: list[Path | None] = []

    def add(self, *found: Any) -> None:
        """Keep a path as the arguments ``build`` makes it from."""
        self._found.append(found)
        self._built.append(None)

    def __len__(self) -> int:
        return len(self._found)

    @overload
    def __getitem__(self, index: int) -> Path: ...
    @overload
    def __getitem__(self, index: slice) -> list[Path]: ...
    def __getitem__(self, index: int | slice) -> Path | list[Path]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._found)))]
        built = self._built[index]
        if built is None:
            built = self._built[index] = self._build(*self._found[index])
        return built

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


@dataclass(slots=True)
class PathTally:
    """The paths of a pattern that end at one node: how many, their summed weight, the first few."""

    weight: float = 0.0
    """Sum over the paths of the product of their relationships' basis weights."""
    count: int = 0
    examples: Sequence[Path] = field(default_factory=list)
    """The first paths, in the order :meth:`GraphStore.match_paths` gives them. A backend
    may build them only when they are read: an answer usually shows a few ends' paths."""


def tally_of_paths(
    paths: Iterable[Path], weights: Mapping[Basis, float], as_of: str | None, keep: int
) -> dict[str, PathTally]:
    """:meth:`GraphStore.tally_paths` over paths already found: what a backend without a
    native tally returns, and the definition a native one must agree with."""
    out: dict[str, PathTally] = {}
    kept: dict[str, list[Path]] = {}
    for path in paths:
        if as_of is not None and not (
            all(alive(n, as_of) for n in path.nodes) and all(alive(r, as_of) for r in path.relationships)
        ):
            continue
        weight = 1.0
        for rel in path.relationships:
            weight *= weights[rel.provenance.basis]
        end = path.nodes[-1].id
        tally = out.get(end)
        if tally is None:
            tally = out[end] = PathTally(examples=kept.setdefault(end, []))
        tally.weight += weight
        tally.count += 1
        if len(kept[end]) < keep:
            kept[end].append(path)
    return out


@dataclass(slots=True)
class Started:
    """What started in a period (:meth:`GraphStore.started_between`): the first nodes and
    relationships by date, and how many there are in all."""

    nodes: list[Node]
    """The first, by ``since`` and then id."""
    relationships: list[Relationship]
    """The first, by ``since``, then source, target and type."""
    total_nodes: int
    total_relationships: int


def started_of(
    nodes: Iterable[Node], relationships: Iterable[Relationship], start: str, end: str, limit: int
) -> Started:
    """:meth:`GraphStore.started_between` over every node and relationship: the definition a
    backend's own must agree with."""
    found_nodes = [n for n in nodes if starts_within(n.since, start, end)]
    found_rels = [r for r in relationships if starts_within(r.since, start, end)]
    return Started(
        nodes=heapq.nsmallest(limit, found_nodes, key=lambda n: (n.since, n.id)),
        relationships=heapq.nsmallest(
            limit, found_rels, key=lambda r: (r.since, r.source, r.target, r.type.value)
        ),
        total_nodes=len(found_nodes),
        total_relationships=len(found_rels),
    )


UNIT_WEIGHTS: Mapping[Basis, float] = dict.fromkeys(Basis, 1.0)
"""Every basis counting the same: for tallies that only count."""


class Subgraph(BaseModel):
    """Nodes and the relationships among them."""

    model_config = ConfigDict(extra="forbid")

    nodes: list[Node] = Field(default_factory=list)
    relationships: list[Relationship] = Field(default_factory=list)


@runtime_checkable
class GraphStore(Protocol):
    """What a backend offers; each primitive is one native operation on it.

    Writes are idempotent: upserting what the graph already holds changes nothing
    and counts as ``unchanged``. Relationships are identified by (source, type,
    target); upserting one whose endpoints are missing raises ``InvalidRequest``.
    """

    name: str
    local_generation: bool
    """True when :meth:`generation` is read in this process with no I/O (cheap enough to ask for
    every question, on the event loop); False when it is a round trip to a server."""
    load_batch_size: int | None
    """How many rows a load writes per batch into this store; ``None`` for the loader's default."""

    def upsert_nodes(self, nodes: Sequence[Node]) -> WriteSummary:
        """Create or replace nodes by id; one batch, applied whole or not at all."""
        ...

    def upsert_relationships(self, relationships: Sequence[Relationship]) -> WriteSummary:
        """Create or replace relationships by (source, type, target); one batch, whole or not at all."""
        ...

    def get_node(self, node_id: str) -> Node | None:
        """The node with this id, or ``None``."""
        ...

    def get_nodes(self, node_ids: Iterable[str]) -> dict[str, Node]:
        """The nodes among these ids that exist, by id."""
        ...

    def find_nodes(
        self,
        kind: NodeKind | None = None,
        where: Mapping[str, Any] | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Node]:
        """Nodes of a kind whose properties equal the given values, ordered by id."""
        ...

    def ids_by_name(self, names: Iterable[str]) -> dict[str, list[str]]:
        """For each name (folded by ``normalize_name``), the ids of nodes that have it as name,
        Chinese name or alias."""
        ...

    def get_relationships(
        self, keys: Iterable[tuple[str, str, str]]
    ) -> dict[tuple[str, str, str], Relationship]:
        """The relationships among these (source, type, target) keys that exist."""
        ...

    def neighbors(
        self,
        node_id: str,
        *,
        direction: Direction = "both",
        types: Sequence[RelType] = (),
        kinds: Sequence[NodeKind] = (),
        limit: int | None = DEFAULT_LIMIT,
    ) -> list[Neighbor]:
        """The nodes one hop away, filtered by relationship type, direction and node kind,
        ordered by (type, neighbour id)."""
        ...

    def match_paths(
        self, start_id: str, steps: Sequence[PathStep], limit: int | None = DEFAULT_LIMIT
    ) -> list[Path]:
        """Every path from ``start_id`` that follows the steps in order, visiting no node twice,
        ordered by the ids along it."""
        ...

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
        """The first ``limit`` paths of :meth:`match_paths`, those alive at ``as_of``, grouped by
        the node they end at: count, summed weight (``weights`` per basis, multiplied along a
        path) and the first ``keep`` paths. Equal to :func:`tally_of_paths` over ``match_paths``;
        a backend may compute it without building every path."""
        ...

    def path_ends(
        self,
        start_id: str,
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> set[str]:
        """The nodes that the first ``limit`` paths of :meth:`match_paths`, those alive at
        ``as_of``, end at: the keys of :meth:`tally_paths`, without weighing anything."""
        ...

    def path_ends_many(
        self,
        start_ids: Iterable[str],
        steps: Sequence[PathStep],
        *,
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, set[str]]:
        """:meth:`path_ends` from many starts at once: ``{start: path_ends(start, steps, as_of=as_of,
        limit=limit)}`` for each distinct start given, in the order given (an unknown one has no
        ends), the cap holding per start. A backend may share the work between the starts: the
        paths onwards from a node that many starts reach are walked once, not once per start."""
        ...

    def started_between(self, start: str, end: str, *, limit: int) -> Started:
        """The nodes and relationships whose ``since`` falls from ``start`` up to ``end``, both
        included, compared at their common precision (see ``ontology.starts_within``): the
        first ``limit`` of each by date, and how many there are in all."""
        ...

    def subgraph(self, node_ids: Iterable[str]) -> Subgraph:
        """The given nodes (those that exist) and every relationship among them."""
        ...

    def counts(self) -> GraphCounts:
        """Node counts per kind and relationship counts per type."""
        ...

    def iter_nodes(self, kind: NodeKind | None = None) -> Iterator[Node]:
        """Every node (of a kind), ordered by id: the projection for export and analytics."""
        ...

    def iter_relationships(self, types: Sequence[RelType] = ()) -> Iterator[Relationship]:
        """Every relationship (of some types), ordered by key."""
        ...

    def clear(self) -> None:
        """Remove every node and relationship."""
        ...

    def generation(self) -> str | None:
        """The graph's version: it changes once every write that changes the graph is visible
        (upserts, a load's commit, ``clear``) and never comes back, so an answer computed at one
        generation may be reused while the generation stays the same. ``None`` when unknown
        (nothing to reuse answers by)."""
        ...

    def load_transaction(self) -> contextlib.AbstractContextManager[None]:
        """Group a load's writes: writes inside are visible to readers all at once, or not at all.

        A load that fails or is killed inside leaves the graph as it was.
        """
        ...

    def staging(self) -> GraphStore:
        """The store a load that must appear at once writes into: a copy to swap in when the load
        is complete (the embedded store: readers go on reading the old graph meanwhile), or this
        store itself when :meth:`load_transaction` already hides a load until its commit (Neo4j)."""
        ...

    def persist(self) -> None:
        """Make the writes so far durable (the embedded store saves its snapshot)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...

    def neighbor_hops(
        self,
        node_ids: Iterable[str],
        *,
        direction: Direction = "both",
        types: Sequence[RelType] = (),
        as_of: str | None = None,
        limit: int | None = DEFAULT_LIMIT,
    ) -> dict[str, list[Hop]]:
        """For each node, the first ``limit`` hops of :meth:`neighbors` (no kind filter), those
        whose relationship and neighbour are alive at ``as_of``, as ids: ``{node: [(nb.node.id,
        nb.relationship.type, nb.direction) for nb in neighbors(node, direction=direction,
        types=types, limit=limit) if alive(nb.node, as_of) and alive(nb.relationship, as_of)]}``
        for each distinct node given, in the order given (an unknown one has none).

        For walks over many nodes (the chains between two entities): no node or relationship
        is built, and a backend may answer for all the nodes at once."""
        ...

    def degrees(
        self, node_ids: Iterable[str], *, direction: Direction = "both", types: Sequence[RelType] = ()
    ) -> dict[str, int]:
        """For each distinct node given, in the order given, how many hops :meth:`neighbors` lists
        for it without a cap or a kind filter (a self-loop counts once each way; an unknown node
        has none): what reading its hops costs, known without reading them."""
        ...
