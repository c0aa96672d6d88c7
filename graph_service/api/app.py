"""The FastAPI application factory and its one error handler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from graph_service.api.deps import StoreHolder
from graph_service.errors import GraphServiceError, NotFound
from graph_service.settings import Settings, get_settings
from graph_service.store import GraphStore

__all__ = ["create_app"]

log = logging.getLogger("innograph.api")

DESCRIPTION = """
Ask relationship questions of a city's innovation ecosystem — above all
**which societies serve this industry?** — and get the evidence for every answer.

Every answer names its evidence: the chain of relationships, each with the
clause of the source document that supports it and whether the source states it
(`stated`), a curator inferred it (`inferred`), or it comes from a reference list
(`reference`).

Errors are JSON: `{"error": {"type": "NotFound", "message": "...", "suggestions": [...]}}`.
Ids look like `society:cmes`, `industry:wenzhou-5-5:electrical`, `region:330300`;
wherever an id is expected, an English or Chinese name or an alias works too.
"""

TAGS = [
    {"name": "questions", "description": "The planners' questions: who serves what, where the gaps are."},
    {"name": "entities", "description": "Browse, search and explore entities."},
    {"name": "analytics", "description": "Whole-graph measures: brokers and communities."},
    {"name": "service", "description": "Health, counts, and loading data (key required)."},
]


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the API for some settings (default: the environment's), optionally over a given store."""
    from graph_service.api import admin, entities, questions

    settings = settings or get_settings()
    holder = StoreHolder(settings, store)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        holder.close()

    app = FastAPI(
        title="innograph",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.include_router(questions.router, prefix="/api")
    app.include_router(entities.router, prefix="/api")
    app.include_router(admin.router, prefix="/api")
    _register_errors(app)
    return app


def error_body(kind: str, message: str, suggestions: list[str] | None = None) -> dict[str, object]:
    """The JSON body of every error response."""
    body: dict[str, object] = {"type": kind, "message": message}
    if suggestions:
        body["suggestions"] = suggestions
    return {"error": body}


def _register_errors(app: FastAPI) -> None:
    @app.exception_handler(GraphServiceError)
    async def graph_error(request: Request, exc: GraphServiceError) -> JSONResponse:
        suggestions = exc.suggestions if isinstance(exc, NotFound) else None
        if exc.status_code >= 500:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc.message)
        return JSONResponse(
            error_body(type(exc).__name__, exc.message, suggestions),
            status_code=exc.status_code,
            headers={"Retry-After": "5"} if exc.status_code == 503 else None,
        )

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
            problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg")))
        return JSONResponse(error_body("InvalidRequest", "; ".join(problems)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "NotFound" if exc.status_code == 404 else "HTTPError"
        message = "no such page or route" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(error_body(kind, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse(
            error_body("InternalError", "the server met an unexpected problem; it has been logged"),
            status_code=500,
        )
