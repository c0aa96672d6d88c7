"""The error answers of every route, declared in the OpenAPI document as the app sends them.

A generated client learns from the document which statuses a route answers and what their
body is; an undeclared status makes it drop the body or raise "unexpected status". Each
operation declares:

- ``404`` when it takes a name or id (in its path, or ``source``, ``target``, ``region``,
  ``industries``, ``explain``): the message names it and ``suggestions`` lists near names;
- ``422`` everywhere: a value out of its limits, or a query parameter the route does not know;
- ``400``, ``401``, ``409`` and ``413`` on writes: a body that is not valid form data, a
  missing or wrong key, a write the graph refuses, an upload over its size limit;
- ``503`` everywhere (with ``Retry-After``): the store cannot be reached, or the question ran
  past its time limit; ``500`` for a fault of the server itself.

Every error body is :class:`~graph_service.app.api.app.ErrorResponse`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NAME_QUERY_PARAMETERS", "declare_error_responses", "error_statuses"]

NAME_QUERY_PARAMETERS = frozenset({"source", "target", "region", "industries", "explain"})
"""Query parameters holding a name or id that must match an entity (an unknown one is a 404)."""

_WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before asking again.",
        "schema": {"type": "integer", "example": 5},
    }
}
_ERRORS: dict[str, tuple[str, dict[str, Any]]] = {
    "400": (
        "The request body cannot be read as form data.",
        {"type": "HTTPError", "message": "Invalid multipart data."},
    ),
    "401": (
        "No or wrong `X-API-Key` header.",
        {"type": "Unauthorized", "message": "missing or wrong X-API-Key header"},
    ),
    "404": (
        "No entity matches a name or id of the request; `suggestions` lists near names.",
        {
            "type": "NotFound",
            "message": "no industry matches 'electrcal'",
            "suggestions": ["industry:wenzhou-5-5:electrical"],
        },
    ),
    "409": (
        "The write contradicts what the graph holds; nothing of it was written.",
        {"type": "Conflict", "message": "the write contradicts what Neo4j holds; nothing was written."},
    ),
    "413": (
        "The upload, or a file inside it, is over its size limit.",
        {"type": "PayloadTooLarge", "message": "the upload is over the limit of 52,428,800 bytes"},
    ),
    "422": (
        "Invalid request: the message says what to change.",
        {"type": "InvalidRequest", "message": "limit: Input should be less than or equal to 500"},
    ),
    "429": (
        "Another upload is being loaded; loads run one at a time: try again after `Retry-After`.",
        {
            "type": "Busy",
            "message": "another upload is being loaded; loads run one at a time: try again in 10 s",
        },
    ),
    "500": (
        "A fault of the server; it is logged.",
        {"type": "InternalError", "message": "the server met an unexpected problem; it has been logged"},
    ),
    "503": (
        "The store cannot be reached, or the question ran past the time limit; try again "
        "(`Retry-After`) or ask for less.",
        {"type": "BackendUnavailable", "message": "the question took longer than 30 s; narrow it"},
    ),
}


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer, by what it takes and whether it writes."""
    params = operation.get("parameters", [])
    takes_name = "{" in path or any(
        p.get("in") == "query" and p.get("name") in NAME_QUERY_PARAMETERS for p in params
    )
    statuses = ["422", "500", "503"]
    if takes_name:
        statuses.append("404")
    if method.lower() in _WRITE_METHODS:
        statuses += ["400", "401", "409", "413"]
    return sorted(statuses)


def declare_error_responses(schema: dict[str, Any], ref: str) -> None:
    """Add the error statuses of every operation under ``/api`` to an OpenAPI document, each
    with the error body at ``ref`` and an example; a route's own description is kept."""
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            wanted = error_statuses(method, path, operation) if path.startswith("/api") else []
            for code in sorted({*wanted, *(c for c in responses if c.startswith(("4", "5")))}):
                description, example = _ERRORS.get(code, ("An error; the message says what.", {}))
                response = responses.setdefault(code, {"description": description})
                content: dict[str, Any] = {"schema": {"$ref": ref}}
                if example:
                    content["example"] = {"error": example}
                response["content"] = {"application/json": content}
                if code in ("429", "503"):
                    response["headers"] = _RETRY_AFTER
