"""The FastAPI application factory and its one error handler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.app.api.admin import MULTIPART_SLACK, sweep_stale_uploads
from graph_service.app.api.answers import CachedAnswers
from graph_service.app.api.deps import Loads, StoreHolder, has_key, key_problem, writes_enabled
from graph_service.core.errors import (
    BadRequest,
    Busy,
    GraphServiceError,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
)
from graph_service.core.settings import Settings, get_settings
from graph_service.core.store import GraphStore
from visualizations.i18n import (
    Lang,
    error_message,
    kind_label,
    lang_from_accept,
    pick_name,
    validation_problem,
)

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
The message is in English, or in Chinese when the request's `Accept-Language` prefers
Chinese (`zh`, `zh-CN` …) to English; `Content-Language` says which.
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
    from graph_service.app.api import admin, entities, questions

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
    from graph_service.app import web

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

    from graph_service.app.api.openapi import declare_error_responses

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
        declare_error_responses(schema, "#/components/schemas/ErrorResponse")
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
        accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        response = error_response(
            "BackendUnavailable", message, lang_from_accept(accept), 503, headers={"Retry-After": "5"}
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
        accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        await error_of(refusal, lang_from_accept(accept))(scope, receive, send)

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


def error_of(exc: GraphServiceError, lang: Lang, request: Request | None = None) -> JSONResponse:
    """The JSON answer to one of the project's errors, in a language: its type, message,
    suggestions (named in that language when a request gives the open store), and
    ``Retry-After`` when trying again later may work (503, 429)."""
    suggestions = None
    if isinstance(exc, NotFound):
        suggestions = (
            suggestions_in(request, exc.suggestions, lang) if request is not None else exc.suggestions
        )
    retry = {503: "5", 429: str(BUSY_RETRY_SECONDS)}.get(exc.status_code)
    return error_response(
        type(exc).__name__,
        exc.message,
        lang,
        exc.status_code,
        suggestions,
        headers={"Retry-After": retry} if retry else None,
    )


def _offline_docs(app: FastAPI) -> None:
    """``/docs`` and ``/redoc`` served with their scripts from this server: intranets have no CDN."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    from graph_service.app.api.redoc import mount_redoc

    static = Path(str(files("fastapi_offline") / "static"))
    favicon = "/docs-static/favicon.png" if (static / "favicon.png").exists() else "/static/favicon.svg"
    mount_redoc(app, favicon)  # before the mount, which would answer for its script's address
    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

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


def error_body(kind: str, message: str, suggestions: list[str] | None = None) -> dict[str, object]:
    """The JSON body of every error response."""
    body: dict[str, object] = {"type": kind, "message": message}
    if suggestions:
        body["suggestions"] = suggestions
    return {"error": body}


def error_response(
    kind: str,
    message: str,
    lang: Lang,
    status: int,
    suggestions: list[str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An error answer: the English message, or its Chinese wording when ``lang`` is ``zh``."""
    return JSONResponse(
        error_body(kind, error_message(message, lang, kind), suggestions),
        status_code=status,
        headers={**(headers or {}), **_language_headers(lang)},
    )


def _language_headers(lang: Lang) -> dict[str, str]:
    return {"Content-Language": "zh-CN" if lang == "zh" else "en", "Vary": "Accept-Language"}


def suggestions_in(request: Request, suggestions: list[str], lang: Lang) -> list[str]:
    """A not-found error's suggestions (``"id (name · name_zh · Kind)"``, as
    ``queries.common.suggestion`` writes them) in a language: in Chinese, the Chinese name first
    and the kind in Chinese. A suggestion that names no entity the open store holds stays as it is."""
    holder = getattr(request.app.state, "holder", None)
    store = holder.opened() if holder is not None else None
    if store is None or lang == "en":
        return suggestions
    named = []
    for text in suggestions:
        first = text.split(" ", 1)[0]
        node = store.get_node(first) if ":" in first else None
        if node is None:
            named.append(text)
            continue
        shown = pick_name(node.name, node.name_zh, lang)
        names = [shown, node.name] if node.name != shown else [shown]
        named.append(f"{first} ({' · '.join([*names, kind_label(node.kind, lang)])})")
    return named


def request_lang(request: Request) -> Lang:
    """The language of an API answer: the one ``Accept-Language`` prefers, English by default."""
    return lang_from_accept(request.headers.get("accept-language"))


def _register_errors(app: FastAPI) -> None:
    @app.exception_handler(GraphServiceError)
    async def graph_error(request: Request, exc: GraphServiceError) -> JSONResponse:
        if exc.status_code >= 500:
            log.warning("%s on %s: %s", type(exc).__name__, request.url.path, exc.message)
        return error_of(exc, request_lang(request), request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        lang = request_lang(request)
        message = "; ".join(validation_problem(error, lang) for error in exc.errors())
        return JSONResponse(
            error_body("InvalidRequest", message),
            status_code=422,
            headers=_language_headers(lang),
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "NotFound" if exc.status_code == 404 else "HTTPError"
        message = "no such page or route" if exc.status_code == 404 else str(exc.detail)
        return error_response(kind, message, request_lang(request), exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return error_response(
            "InternalError",
            "the server met an unexpected problem; it has been logged",
            request_lang(request),
            500,
        )
