"""Query parameters shared by several routes, with their limits and OpenAPI examples."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from graph_service.ontology import NodeKind, RelType
from graph_service.text import DATE_FORMS, partial_date

__all__ = ["AsOf", "DateParam", "Kinds", "Limit", "Offset", "Types"]


def _date(value: str) -> str:
    """The text rules' partial date; its refusal is the 422's message as it stands (no 'Value error')."""
    try:
        return partial_date(value)
    except ValueError as exc:
        raise PydanticCustomError("partial_date", str(exc)) from None


DateParam = Annotated[str, AfterValidator(_date)]
"""A date parameter: ``2021``, ``2021-09`` or ``2021-09-30`` (full-width digits read as ASCII)."""

AsOf = Annotated[
    DateParam | None,
    Query(
        max_length=40,
        description=f"Answer as the ecosystem stood on this date: {DATE_FORMS}.",
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
