"""Query parameters shared by several routes, with their limits.

An optional query parameter carries no OpenAPI example: Swagger UI's "Try it out" fills a
parameter in with its first example, so an example of a filter would filter the first call
and make it disagree with the pages. Examples of values are given in the descriptions."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from graph_service.core.ontology import NodeKind, RelType
from graph_service.core.text import DATE_FORMS, partial_date

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
        description=f"Answer as the ecosystem stood on this date: {DATE_FORMS}. Empty: as it stands now.",
    ),
]
Offset = Annotated[
    int,
    Query(
        ge=0,
        le=1_000_000,
        description="Skip this many results (pagination): 50 for the second page of 50.",
    ),
]
Limit = Annotated[
    int,
    Query(
        ge=1,
        le=500,
        description="Return at most this many results (1–500).",
    ),
]
Kinds = Annotated[
    list[NodeKind] | None,
    Query(
        description="Only these kinds of entity (repeat the parameter for several). Empty: every kind.",
    ),
]
Types = Annotated[
    list[RelType] | None,
    Query(
        description="Only these relationship types (repeat the parameter for several), such as "
        "SERVES and PARTICIPATES_IN. Empty: every type.",
    ),
]
