"""The FastAPI application factory and its one error handler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.api.admin import MULTIPART_SLACK, sweep_stale_uploads
from graph_service.api.answers import CachedAnswers
from graph_service.api.deps import Loads, StoreHolder, has_key, key_problem, writes_enabled
from graph_service.errors import (
    BadRequest,
    Busy,
    GraphServiceError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
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
    {"name": "service", "description": "Health, counts, and loading data (only with a configured key)."},
]


def create_app(settings: Settings | None = None, store: GraphStore | None = None) -> FastAPI:
    """Build the API for some settings (default: the environment's), optionally over a given store."""
    from graph_service.api import admin, entities, questions

    settings = settings or get_settings()
    holder = StoreHolder(settings, store)
    loads = Loads()
    problem = key_problem(settings)
    if problem:  # `innograph serve` refuses to start; an app built otherwise says so in its log
        log.error("%s", problem)
    sweep_stale_uploads(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        loads.close()
        holder.close()

    app = FastAPI(
        title="innograph",
        version="0.1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.loads = loads
    strict = [Depends(reject_unknown_query)]
    app.include_router(questions.router, prefix="/api", dependencies=strict)
    app.include_router(entities.router, prefix="/api", dependencies=strict)
    app.include_router(admin.router, prefix="/api", dependencies=strict)
    if writes_enabled(settings):  # without a key the write routes do not exist (404, absent from the schema)
        app.include_router(admin.write_router, prefix="/api", dependencies=strict)
    _register_errors(app)
    app.add_middleware(TimeLimit, seconds=settings.request_timeout)
    if settings.answer_cache_bytes > 0:  # outside the time limit: a kept answer is sent at once
        app.add_middleware(
            CachedAnswers,
            holder=holder,
            max_bytes=settings.answer_cache_bytes,
            max_entries=settings.answer_cache_entries,
        )
    app.add_middleware(UploadGate, settings=settings, loads=loads)  # outermost: before any body is read
    _openapi_with_our_errors(app)
    _offline_docs(app)
    from graph_service import web

    web.mount(app)  # the planner's pages and views; after the error handlers, which it wraps for pages
    return app


class ErrorDetail(BaseModel):
    """What went wrong, for a person to read."""

    model_config = ConfigDict(extra="forbid")

    type: str
    message: str
    suggestions: list[str] | None = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def reject_unknown_query(request: Request) -> None:
    """Refuse query parameters a route does not know, so a misspelt ``limt=`` is not silently ignored."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    known: set[str] = set()
    stack = [dependant]
    while stack:  # the route's own parameters and those of its dependencies
        current = stack.pop()
        known |= {field.alias for field in current.query_params}
        stack.extend(current.dependencies)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise InvalidRequest(
            f"unknown query parameter(s): {', '.join(repr(u[:40]) for u in unknown[:5])}; "
            f"this route takes: {', '.join(sorted(known)) or 'none'}"
        )


def _openapi_with_our_errors(app: FastAPI) -> None:
    """Describe the error body the app really sends (not FastAPI's default ``detail`` shape)."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorResponse"] = ErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        for defs_name, defs in components["ErrorResponse"].pop("$defs", {}).items():
            components[defs_name] = defs
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        ref = {"$ref": "#/components/schemas/ErrorResponse"}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    if code.startswith(("4", "5")):
                        response["content"] = {"application/json": {"schema": ref}}
                responses = operation.setdefault("responses", {})
                responses.setdefault(
                    "422",
                    {
                        "description": "Invalid request: the message says what to change.",
                        "content": {"application/json": {"schema": ref}},
                    },
                )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class TimeLimit:
    """ASGI middleware: answer 503 to a question that runs past the time limit, instead of keeping
    the client waiting. The limit runs until the answer starts (its status and headers).

    Loads (POST) are exempt: they are bounded by their size limit and must not be cut halfway.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the request; past the limit without an answer begun, send the 503 instead."""
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()
        late = False

        async def send_unless_late(message: Message) -> None:
            if late:
                return  # the client already has its 503
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, send_unless_late))
        begun = asyncio.ensure_future(started.wait())
        try:
            await asyncio.wait({task, begun}, timeout=self.seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            begun.cancel()
        if task.done() or started.is_set():
            await task
            return
        # A worker thread cannot be stopped: let it finish in the background, its answer unused.
        late = True
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        message = (
            f"the question took longer than {self.seconds:g} s; narrow it (a smaller depth, scope or limit)"
        )
        response = JSONResponse(
            error_body("BackendUnavailable", message), status_code=503, headers={"Retry-After": "5"}
        )
        await response(scope, receive, send)


UPLOAD_PATH = "/api/datasets"


class UploadGate:
    """ASGI middleware: what can be refused about a request before any of its body is read, is.

    Every request: an ``X-API-Key`` header sent more than once is a 400 (which one counts would be
    a guess). An upload (``POST /api/datasets``, when writes are on): no or a wrong key is a 401,
    a declared ``Content-Length`` over the limit a 413, and an upload arriving while another is
    being loaded a 429 with ``Retry-After`` — each answered while the client is still sending,
    without reading the body. An upload let through holds the right to load (``scope
    ["innograph.load"]``) until its load ends; the route streams its body to disk under the
    same limit, so a chunked body is cut off at it too.
    """

    def __init__(self, app: ASGIApp, settings: Settings, loads: Loads) -> None:
        self.app = app
        self.settings = settings
        self.loads = loads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse what the headers already condemn; pass the rest on."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        keys = [value for name, value in scope["headers"] if name == b"x-api-key"]
        refusal: GraphServiceError | None = None
        if len(keys) > 1:
            refusal = BadRequest(f"the X-API-Key header is sent {len(keys)} times; send it once")
        elif (
            scope["method"] == "POST"
            and scope["path"].rstrip("/") == UPLOAD_PATH
            and writes_enabled(self.settings)
        ):
            refusal = self._upload_refusal(scope, keys[0].decode("latin-1") if keys else None)
            if refusal is None:
                claim = self.loads.claim()
                if claim is None:
                    refusal = Busy(
                        "another upload is being loaded; loads run one at a time: "
                        f"try again in {BUSY_RETRY_SECONDS} s"
                    )
                else:
                    scope["innograph.load"] = claim
                    try:
                        await self.app(scope, receive, send)
                    finally:
                        claim.end_of_request()
                    return
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await error_response(refusal)(scope, receive, send)

    def _upload_refusal(self, scope: Scope, key: str | None) -> GraphServiceError | None:
        if not has_key(self.settings, key):
            return Unauthorized("missing or wrong X-API-Key header")
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        limit = self.settings.max_upload_bytes
        if declared is not None:
            if not declared.isdigit():
                return BadRequest("the Content-Length header is not a number of bytes")
            if int(declared) > limit + MULTIPART_SLACK:
                return PayloadTooLarge(
                    f"the upload is over the limit of {limit:,} bytes (it declares {int(declared):,}); "
                    "split the dataset, or raise INNOGRAPH_MAX_UPLOAD_BYTES"
                )
        return None


BUSY_RETRY_SECONDS = 10
"""``Retry-After`` of an upload refused because another is being loaded."""


def error_response(exc: GraphServiceError) -> JSONResponse:
    """The JSON answer to one of the project's errors: its type, message, suggestions, and
    ``Retry-After`` when trying again later may work (503, 429)."""
    suggestions = exc.suggestions if isinstance(exc, NotFound) else None
    retry = {503: "5", 429: str(BUSY_RETRY_SECONDS)}.get(exc.status_code)
    return JSONResponse(
        error_body(type(exc).__name__, exc.message, suggestions),
        status_code=exc.status_code,
        headers={"Retry-After": retry} if retry else None,
    )


def _offline_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` served with their scripts from this server: intranets have no CDN."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    static = Path(str(files("fastapi_offline") / "static"))
    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")
    favicon = "/docs-static/favicon.png" if (static / "favicon.png").exists() else "/static/favicon.svg"

    def with_nonce(request: Request, html: str) -> HTMLResponse:
        nonce = getattr(request.state, "csp_nonce", "")
        return HTMLResponse(html.replace("<script>", f'<script nonce="{nonce}">'))

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="innograph API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url=favicon,
        )
        return with_nonce(request, bytes(page.body).decode())

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url="/openapi.json",
            title="innograph API",
            redoc_js_url="/docs-static/redoc.standalone.js",
            redoc_favicon_url=favicon,
            with_google_fonts=False,
        )
        return with_nonce(request, bytes(page.body).decode())


def error_body(kind: str, message: str, suggestions: list[str] | None = None) -> dict[str, object]:
    """The JSON body of every error response."""
    body: dict[str, object] = {"type": kind, "message": message}
    if suggestions:
        body["suggestions"] = suggestions
    return {"error": body}


def _register_errors(app: FastAPI) -> None:
    @app.exception_handler(GraphServiceError)
    async def graph_error(request: Request, exc: GraphServiceError) -> JSONResponse:
        if exc.status_code >= 500:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc.message)
        return error_response(exc)

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
