"""Routes to browse, search and explore entities."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from graph_service.app.api.deps import KeyHolderDep, StoreDep
from graph_service.app.api.params import AsOf, Kinds, Limit, Offset, Types
from graph_service.core.ontology import NodeKind
from queries.common import resolve_entity
from queries.explore import MAX_DEPTH, Neighborhood, neighborhood
from queries.models import EvidenceStep, NodeRef
from queries.search import SearchResults, search

__all__ = ["router"]

router = APIRouter(tags=["entities"])

EntityRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=300,
        description="An id (such as society:cmes), or an English or Chinese name or alias.",
        openapi_examples={"a society": {"value": "society:cmes"}, "a region by name": {"value": "Wenzhou"}},
    ),
]


class EntitiesPublic(BaseModel):
    """A page of entities."""

    model_config = ConfigDict(extra="forbid")

    data: list[NodeRef]
    count: int = Field(description="Entities in this page.")
    total: int = Field(description="Entities matching in all.")
    offset: int
    limit: int


class RelationshipPublic(BaseModel):
    """A relationship of an entity, the entity at its other end, and its evidence."""

    model_config = ConfigDict(extra="forbid")

    direction: str = Field(description="'out' when the relationship starts at this entity.")
    other: NodeRef
    evidence: EvidenceStep


class EntityPublic(BaseModel):
    """An entity: its properties, its provenance and its relationships."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: NodeKind
    name: str
    name_zh: str | None
    properties: dict[str, object] = Field(description="Private fields appear only with the API key.")
    source: str
    evidence: str
    basis: str
    relationships: list[RelationshipPublic]
    relationships_total: int


@router.get("/entities", response_model=EntitiesPublic)
def list_entities(
    store: StoreDep,
    kind: Annotated[
        NodeKind | None,
        Query(description="Only entities of this kind. Empty: every kind."),
    ] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> EntitiesPublic:
    """Entities ordered by id, optionally of one kind, a page at a time."""
    nodes = store.find_nodes(kind, None, limit=offset + limit)
    page = nodes[offset : offset + limit]
    counts = store.counts().nodes
    total = counts.get(kind.value, 0) if kind else sum(counts.values())
    return EntitiesPublic(
        data=[NodeRef.of(n) for n in page], count=len(page), total=total, offset=offset, limit=limit
    )


# The suffixed route comes first: ``{entity:path}`` alone would also match ".../neighborhood".
# A name holding "/" (such as "Clothing/apparel") works written plainly or as %2F.
@router.get("/entities/{entity:path}/neighborhood", response_model=Neighborhood)
def get_neighborhood(
    store: StoreDep,
    entity: EntityRef,
    depth: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_DEPTH,
            description=f"Hops from the entity, 1–{MAX_DEPTH}.",
        ),
    ] = 1,
    kinds: Kinds = None,
    types: Types = None,
    limit: Annotated[int, Query(ge=1, le=5000, description="Most nodes to return.")] = 200,
    as_of: AsOf = None,
) -> Neighborhood:
    """An entity and what lies around it, filtered by kind and relationship type; `truncated` says when the cap cut."""
    return neighborhood(
        store, entity, depth=depth, kinds=kinds or (), types=types or (), limit=limit, as_of=as_of
    )


@router.get("/entities/{entity:path}", response_model=EntityPublic)
def get_entity(
    store: StoreDep, entity: EntityRef, authorized: KeyHolderDep, limit: Limit = 100
) -> EntityPublic:
    """One entity with its properties, evidence and relationships. An unknown one is a 404 naming near matches."""
    node = resolve_entity(store, entity)
    neighbors = store.neighbors(node.id, limit=None)
    props = node.to_props() if authorized else node.public_view()
    return EntityPublic(
        id=node.id,
        kind=node.kind,
        name=node.name,
        name_zh=node.name_zh,
        properties=props,
        source=node.provenance.source,
        evidence=node.provenance.evidence,
        basis=node.provenance.basis.value,
        relationships=[
            RelationshipPublic(
                direction=nb.direction, other=NodeRef.of(nb.node), evidence=EvidenceStep.of(nb.relationship)
            )
            for nb in neighbors[:limit]
        ],
        relationships_total=len(neighbors),
    )


@router.get("/search", response_model=SearchResults)
def get_search(
    store: StoreDep,
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="English, Chinese, pinyin, an alias or abbreviation; typos are tolerated.",
            openapi_examples={
                "abbreviation": {"value": "CMES"},
                "pinyin": {"value": "jixie"},
                "Chinese": {"value": "电气"},
            },
        ),
    ],
    kinds: Kinds = None,
    limit: Annotated[
        int,
        Query(ge=1, le=200, description="At most this many hits."),
    ] = 20,
) -> SearchResults:
    """Find entities by name, ranked."""
    return search(store, q, kinds=kinds or (), limit=limit)
