"""Query parameters shared by several routes, with their limits and OpenAPI examples."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from graph_service.ontology import NodeKind, RelType

__all__ = ["AsOf", "Kinds", "Limit", "Offset", "Types"]

_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"

AsOf = Annotated[
    str | None,
    Query(
        pattern=_DATE,
        description="Answer as the ecosystem stood on this date: 2021, 2021-09 or 2021-09-30.",
        openapi_examples={"after the WYSS agreements": {"value": "2021-10"}},
    ),
]
Offset = Annotated[
    int,
    Query(
        ge=0,
        le=1_000_000,
        description="Skip this many results (pagination).",
        openapi_examples={"the second page of 50": {"value": 50}},
    ),
]
Limit = Annotated[
    int,
    Query(
        ge=1,
        le=500,
        description="Return at most this many results (1–500).",
        openapi_examples={"ten": {"value": 10}},
    ),
]
Kinds = Annotated[
    list[NodeKind] | None,
    Query(
        description="Only these kinds of entity (repeat the parameter for several).",
        openapi_examples={"societies": {"value": ["Society"]}},
    ),
]
Types = Annotated[
    list[RelType] | None,
    Query(
        description="Only these relationship types (repeat the parameter for several).",
        openapi_examples={"serving": {"value": ["SERVES", "PARTICIPATES_IN"]}},
    ),
]
