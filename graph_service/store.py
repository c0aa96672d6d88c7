"""The ``GraphStore`` protocol: the primitives every backend does natively, and their result types.

The query catalog is written once against these primitives; the embedded
(networkx) and Neo4j backends each implement them, and one contract suite demands
the same answers from both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from graph_service.ontology import Node, NodeKind, Relationship, RelType

__all__ = [
    "Direction",
    "GraphCounts",
    "GraphStore",
    "Neighbor",
    "Path",
    "PathStep",
    "Subgraph",
    "WriteCounts",
    "WriteSummary",
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


class Path(BaseModel):
    """A chain of nodes joined by relationships: ``nodes[i]`` and ``nodes[i+1]`` by ``relationships[i]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    nodes: tuple[Node, ...]
    relationships: tuple[Relationship, ...]


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

    def persist(self) -> None:
        """Make the writes so far durable (the embedded store saves its snapshot)."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
