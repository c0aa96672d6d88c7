"""The planner's web pages and the standalone views, server-rendered with Jinja2 (autoescape on).

Pages: ``/`` (search, priority industries with coverage badges, counts), ``/search``,
``/entities/{id}``, ``/industries/{id}``, ``/gaps``, ``/path``. Views (one self-contained
HTML file each, the same the CLI writes): ``/views/ego/{id}``, ``/views/industry/{id}``,
``/views/gaps``, ``/views/matrix``, ``/views/path``, ``/views/overview``.

:func:`mount` adds them to the API app, with:

- a Content-Security-Policy on every HTML response (a fresh nonce per response for
  our inline scripts, no remote script, no plugin, no ``<base>``, framing only by
  ourselves) and ``X-Content-Type-Options: nosniff`` on every response;
- friendly HTML error pages (404 with suggestions, 422 saying what to fix) for the
  pages and views, while ``/api`` keeps its JSON errors.

The API documentation pages (``/docs``, ``/redoc``) are served with their scripts from
this server and carry the same policy.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_service.app.api.app import suggestions_in
from graph_service.app.api.deps import StoreDep
from graph_service.core.errors import GraphServiceError, InvalidRequest, NotFound
from graph_service.core.ontology import NodeKind, kind_of_id
from graph_service.core.store import GraphStore
from queries.common import resolve_entity
from queries.explore import (
    MAX_DEPTH,
    MAX_HOPS,
    VIEW_SHAPES,
    GraphEdge,
    GraphNode,
    drawn_neighborhood,
    paths_between,
)
from queries.gaps import GapAnalysis, coverage_matrix, gap_analysis
from queries.gaps import Scope as GapScope
from queries.models import EvidenceStep, NodeRef
from queries.recommend import recommendations
from queries.search import search
from queries.serving import CHANNELS, industries_served_by, societies_serving
from visualizations.i18n import (
    Lang,
    basis_label,
    chain_sentence,
    channel_label,
    error_heading,
    error_message,
    kind_label,
    page_text,
    pick_name,
    property_label,
    rel_label,
    status_label,
    support_label,
    taxonomy_label,
    validation_problem,
    value_label,
)
from visualizations.model import Links
from visualizations.views import (
    AGGREGATE_ABOVE,
    coverage_view,
    ego_view,
    gap_map_view,
    matrix_view,
    overview_view,
    path_view,
)

__all__ = [
    "DEFAULT_TAXONOMY",
    "SecurityHeaders",
    "content_security_policy",
    "mount",
    "router",
    "view_html",
]

DEFAULT_TAXONOMY = "wenzhou-5+5"
"""The priority list the home and gaps pages show unless asked for another taxonomy."""
EGO_LIMIT = 1000
"""Most entities an ego view draws."""
_HERE = Path(__file__).resolve().parent
_TEMPLATES = _HERE / "templates"
_STATIC = _HERE / "static"
_NOT_PAGES = ("/api/", "/api", "/openapi.json", "/docs", "/redoc")
_PAGE_PREFIXES = ("/entities/", "/industries/", "/gaps", "/path", "/views/", "/search", "/static/")

router = APIRouter(include_in_schema=False)

LangParam = Annotated[Literal["en", "zh"], Query(description="Language of the page: en or zh.")]
TaxonomyParam = Annotated[str, Query(min_length=1, max_length=100)]
OptionalText = Annotated[str | None, Query(max_length=300)]


def content_security_policy(nonce: str) -> str:
    """The policy of our HTML responses: our own origin only, inline scripts only with the nonce."""
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; "
        "base-uri 'none'; "
        "form-action 'self'; "
        "frame-src 'self'; "
        "frame-ancestors 'self'"
    )


class SecurityHeaders:
    """ASGI middleware: a per-response CSP nonce in ``request.state.csp_nonce``, the policy on HTML
    responses, ``nosniff`` on all of them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        scope.setdefault("state", {})["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if headers.get("content-type", "").startswith("text/html"):
                    if "content-security-policy" not in headers:  # a page may widen it (/redoc)
                        headers["Content-Security-Policy"] = content_security_policy(nonce)
                    headers["X-Frame-Options"] = "SAMEORIGIN"
                    headers["Referrer-Policy"] = "same-origin"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount(app: FastAPI) -> None:
    """Add the pages, the views, their static files, the security headers and the HTML error pages.

    Call it after the app's own error handlers are registered: for pages it puts HTML
    error pages in front of them, and hands ``/api`` errors on to them unchanged.
    """
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(_STATIC)), name="static")
    app.add_middleware(SecurityHeaders)
    for exc_type in (GraphServiceError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(exc_type, _page_or_api(app.exception_handlers.get(exc_type)))


def view_html(
    store: GraphStore,
    view: str,
    *,
    lang: Lang = "en",
    entity: str | None = None,
    target: str | None = None,
    depth: int = 1,
    taxonomy: str | None = DEFAULT_TAXONOMY,
    nonce: str | None = None,
    links: Links | None = None,
) -> str:
    """One view as a standalone HTML document: runs the query, then draws its answer.

    This is what the ``/views`` routes serve and what a command line can write to a file.

    Args:
        store: the graph.
        view: ego, industry, gaps, matrix, path or overview.
        lang: en or zh.
        entity: the entity (ego), the industry (industry) or the source (path).
        target: the target (path).
        depth: the depth of an ego view.
        taxonomy: the scope of the gaps and matrix views.
        nonce: the CSP nonce, when served.
        links: where links point (default: none, for a file).

    Raises:
        InvalidRequest: an unknown view, or a missing entity or target.
        NotFound: an entity the graph does not hold.
    """
    scope = GapScope(taxonomy=taxonomy)
    if view in ("ego", "industry", "path") and not entity:
        raise InvalidRequest(f"the {view} view needs an entity")
    if view == "ego" and entity:
        return ego_view(drawn_neighborhood(store, entity, depth=depth), lang=lang, links=links, nonce=nonce)
    if view == "industry" and entity:
        return coverage_view(societies_serving(store, entity), lang=lang, links=links, nonce=nonce)
    if view == "gaps":
        return gap_map_view(gap_analysis(store, scope), lang=lang, links=links, nonce=nonce)
    if view == "matrix":
        return matrix_view(coverage_matrix(store, scope), lang=lang, links=links, nonce=nonce)
    if view == "path" and entity:
        if not target:
            raise InvalidRequest("the path view needs a target")
        return path_view(paths_between(store, entity, target), lang=lang, links=links, nonce=nonce)
    if view == "overview":
        nodes, edges = _projection(store)
        return overview_view(nodes, edges, lang=lang, links=links, nonce=nonce)
    raise InvalidRequest(f"unknown view {view!r}; views are ego, industry, gaps, matrix, path, overview")


# ---------------------------------------------------------------------------
# dependencies


def _nonce(request: Request) -> str:
    nonce = getattr(request.state, "csp_nonce", None)
    if not isinstance(nonce, str):
        nonce = secrets.token_urlsafe(18)
        request.state.csp_nonce = nonce
    return nonce


NonceDep = Annotated[str, Depends(_nonce)]


# ---------------------------------------------------------------------------
# pages


@router.get("/", response_class=HTMLResponse)
def home(
    request: Request,
    store: StoreDep,
    nonce: NonceDep,
    lang: LangParam = "en",
    taxonomy: TaxonomyParam = DEFAULT_TAXONOMY,
    thin_below: Annotated[int, Query(ge=1, le=100)] = 2,
) -> HTMLResponse:
    """Search, the priority industries with coverage badges, and what the graph holds.

    A taxonomy asked for by name must exist (else the 404 page names those there are); the
    default one may be missing, in an empty store or a city without it, and the page then says so.
    """
    try:
        analysis = gap_analysis(store, GapScope(taxonomy=taxonomy), thin_below=thin_below)
    except NotFound:
        if "taxonomy" in request.query_params:
            raise
        analysis = GapAnalysis(
            scope=GapScope(taxonomy=taxonomy), thin_below=thin_below, count=0, summary={}, rows=[]
        )
    counts = store.counts()
    kinds = [
        (kind_label(kind, lang), counts.nodes.get(kind.value, 0))
        for kind in NodeKind
        if counts.nodes.get(kind.value)
    ]
    rows = [
        {
            "id": r.industry.id,
            "name": pick_name(r.industry.name, r.industry.name_zh, lang),
            "href": _url(f"/industries/{_seg(r.industry.id)}", lang=lang),
            "status": r.status,
            "status_label": status_label(r.status, lang),
            "societies": r.supply.societies,
            "demand": r.demand_total,
            "channels": [
                (channel_label(c, lang), r.supply.by_channel.get(c, 0))
                for c in CHANNELS
                if r.supply.by_channel.get(c)
            ],
        }
        for r in analysis.rows
    ]
    return _page(
        request,
        "home.html",
        lang,
        nonce,
        title=page_text(lang)("app"),
        taxonomy=taxonomy,
        thin_below=thin_below,
        summary=[(status_label(s, lang), s, n) for s, n in analysis.summary.items()],
        rows=rows,
        kinds=kinds,
        total_nodes=counts.total_nodes,
        total_relationships=counts.total_relationships,
        taxonomies=_taxonomies(store),
        gaps_href=_url("/gaps", taxonomy=taxonomy, lang=lang),
        overview_href=_url("/views/overview", lang=lang),
    )


@router.get("/search", response_class=HTMLResponse, response_model=None)
def search_page(
    request: Request,
    store: StoreDep,
    nonce: NonceDep,
    q: Annotated[str, Query(max_length=200)] = "",
    lang: LangParam = "en",
) -> Response:
    """Entities matching what the planner typed; an exact id goes straight to its page."""
    text = q.strip()
    if text and _looks_like_id(text) and store.get_node(text) is not None:
        return RedirectResponse(_entity_href(text, lang), status_code=303)
    hits = []
    if text:
        for hit in search(store, text, limit=50).results:
            hits.append(
                {
                    "name": pick_name(hit.node.name, hit.node.name_zh, lang),
                    "other": _other_name(hit.node.name, hit.node.name_zh, lang),
                    "kind": kind_label(hit.node.kind, lang),
                    "kind_key": hit.node.kind.value,
                    "id": hit.node.id,
                    "matched": hit.matched,
                    "href": _entity_href(hit.node.id, lang),
                }
            )
    say = page_text(lang)
    return _page(
        request,
        "search.html",
        lang,
        nonce,
        title=say("results_for", q=text) if text else say("search"),
        q=text,
        hits=hits,
    )


@router.get("/entities/{entity:path}", response_class=HTMLResponse)
def entity_page(
    request: Request, store: StoreDep, nonce: NonceDep, entity: str, lang: LangParam = "en"
) -> HTMLResponse:
    """An entity: properties, evidence, relationships with theirs, and its neighbourhood drawn."""
    node = resolve_entity(store, entity)
    neighbours = store.neighbors(node.id, limit=None)
    shown = neighbours[:300]
    props = node.public_view()
    skip = {"id", "name", "name_zh", "kind", "source", "evidence", "basis", "description", "aliases"}
    relationships = []
    for nb in shown:
        rel = nb.relationship
        relationships.append(
            {
                "out": nb.direction == "out",
                "verb": rel_label(rel.type, lang),
                "type": rel.type.value,
                "other": pick_name(nb.node.name, nb.node.name_zh, lang),
                "other_kind": kind_label(nb.node.kind, lang),
                "other_kind_key": nb.node.kind.value,
                "href": _entity_href(nb.node.id, lang),
                "evidence": rel.provenance.evidence,
                "document": rel.provenance.source,
                "basis": basis_label(rel.provenance.basis, lang),
                "basis_key": rel.provenance.basis.value,
                "since": rel.since or "",
            }
        )
    served = []
    if node.kind is NodeKind.SOCIETY:
        for item in industries_served_by(store, node.id, limit=20).results:
            served.append(
                {
                    "name": pick_name(item.industry.name, item.industry.name_zh, lang),
                    "href": _url(f"/industries/{_seg(item.industry.id)}", lang=lang),
                    "channels": ", ".join(channel_label(c, lang) for c in item.channels),
                    "score": item.score,
                }
            )
    name = pick_name(node.name, node.name_zh, lang)
    return _page(
        request,
        "entity.html",
        lang,
        nonce,
        title=name,
        node=node,
        name=name,
        other_name=_other_name(node.name, node.name_zh, lang),
        kind=kind_label(node.kind, lang),
        kind_key=node.kind.value,
        aliases=", ".join(node.aliases),
        properties=[
            (property_label(k, lang), taxonomy_label(str(v), lang) if k == "taxonomy" else _show(v, lang))
            for k, v in sorted(props.items())
            if k not in skip
        ],
        evidence={
            "source": node.provenance.source,
            "clause": node.provenance.evidence,
            "basis": basis_label(node.provenance.basis, lang),
            "basis_key": node.provenance.basis.value,
        },
        relationships=relationships,
        total=len(neighbours),
        served=served,
        industry_href=_url(f"/industries/{_seg(node.id)}", lang=lang)
        if node.kind is NodeKind.INDUSTRY
        else None,
        view_href=_url(f"/views/ego/{_seg(node.id)}", depth=1, lang=lang),
        api_href=f"/api/entities/{_seg(node.id)}",
    )


@router.get("/industries/{industry:path}", response_class=HTMLResponse)
def industry_page(
    request: Request,
    store: StoreDep,
    nonce: NonceDep,
    industry: str,
    lang: LangParam = "en",
    include_sub_industries: bool = True,
) -> HTMLResponse:
    """An industry: the societies serving it by channel with evidence, recommendations, the coverage view."""
    node = resolve_entity(store, industry, NodeKind.INDUSTRY)
    answer = societies_serving(store, node.id, include_sub_industries=include_sub_industries)
    advice = recommendations(store, node.id, limit=10)
    labels = {node.id: pick_name(node.name, node.name_zh, lang)}
    channels = []
    for channel in CHANNELS:
        members = []
        for entry in answer.results:
            paths = [p for p in entry.paths if p.channel == channel]
            if not paths:
                continue
            members.append(
                {
                    "name": pick_name(entry.society.name, entry.society.name_zh, lang),
                    "href": _entity_href(entry.society.id, lang),
                    "score": entry.score,
                    "paths": [
                        {
                            "sentence": _sentence(p.nodes, p.steps, lang),
                            "steps": [_step(s, p.nodes, lang) for s in p.steps],
                            "basis": basis_label(p.weakest_basis, lang),
                            "basis_key": p.weakest_basis.value,
                        }
                        for p in paths[:10]
                    ],
                }
            )
        channels.append({"key": channel, "label": channel_label(channel, lang), "members": members})
    name = labels[node.id]
    return _page(
        request,
        "industry.html",
        lang,
        nonce,
        title=name,
        node=node,
        name=name,
        other_name=_other_name(node.name, node.name_zh, lang),
        taxonomy=taxonomy_label(str(getattr(node, "taxonomy", "")), lang),
        total=answer.total,
        channels=channels,
        include_sub_industries=include_sub_industries,
        subs=[pick_name(i.name, i.name_zh, lang) for i in answer.industries[1:]],
        advice=[
            {
                "name": pick_name(r.society.name, r.society.name_zh, lang),
                "href": _entity_href(r.society.id, lang),
                "score": r.score,
                "reasons": [x.text_zh if lang == "zh" else x.text for x in r.reasons],
            }
            for r in advice.results
        ],
        entity_href=_entity_href(node.id, lang),
        view_href=_url(
            f"/views/industry/{_seg(node.id)}",
            lang=lang,
            include_sub_industries=None if include_sub_industries else "false",
        ),
        api_href=_url(
            f"/api/industries/{_seg(node.id)}/societies",
            include_sub_industries=None if include_sub_industries else "false",
        ),
        api_recommend=f"/api/industries/{_seg(node.id)}/recommendations",
    )


APPROACH_ROWS = 12
"""Gaps (uncovered or thin, most severe first) for which the gaps page names whom to approach."""
APPROACH_SHOWN = 3
"""Societies named per gap."""


@router.get("/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    store: StoreDep,
    nonce: NonceDep,
    lang: LangParam = "en",
    taxonomy: TaxonomyParam = DEFAULT_TAXONOMY,
    thin_below: Annotated[int, Query(ge=1, le=100)] = 2,
) -> HTMLResponse:
    """The gap analysis of a taxonomy: the table, the matrix, the gap map, and a CSV download."""
    analysis = gap_analysis(store, GapScope(taxonomy=taxonomy), thin_below=thin_below)
    matrix = coverage_matrix(store, GapScope(taxonomy=taxonomy))
    # whom to approach, for the most severe gaps that are not covered yet
    approach = {
        r.industry.id: [
            {
                "name": pick_name(c.society.name, c.society.name_zh, lang),
                "href": _entity_href(c.society.id, lang),
            }
            for c in recommendations(store, r.industry.id, limit=APPROACH_SHOWN).results
        ]
        for r in [r for r in analysis.rows if r.status != "covered"][:APPROACH_ROWS]
    }
    rows = [
        {
            "name": pick_name(r.industry.name, r.industry.name_zh, lang),
            "href": _url(f"/industries/{_seg(r.industry.id)}", lang=lang),
            "status": r.status,
            "status_label": status_label(r.status, lang),
            "severity": r.severity,
            "demand": r.demand_total,
            "enterprises": r.demand.enterprises,
            "parks": r.demand.parks,
            "programs": r.demand.programs,
            "production_bases": r.demand.production_bases,
            "approach": approach.get(r.industry.id, []),
            "societies": r.supply.societies,
            "by_channel": [r.supply.by_channel.get(c, 0) for c in CHANNELS],
            "talents": r.supply.talents,
            "agreements": r.supply.agreements,
            "society_names": ", ".join(pick_name(s.name, s.name_zh, lang) for s in r.societies[:12]),
        }
        for r in analysis.rows
    ]
    matrix_rows = [
        {
            "name": pick_name(r.industry.name, r.industry.name_zh, lang),
            "href": _url(f"/industries/{_seg(r.industry.id)}", lang=lang),
            "cells": [
                {
                    "count": r.cells[c].count if c in r.cells else 0,
                    "names": ", ".join(pick_name(e.name, e.name_zh, lang) for e in r.cells[c].entities[:15])
                    if c in r.cells
                    else "",
                }
                for c in matrix.columns
            ],
        }
        for r in matrix.rows
    ]
    scope_query = {"taxonomy": taxonomy, "thin_below": thin_below}
    return _page(
        request,
        "gaps.html",
        lang,
        nonce,
        title=f"{page_text(lang)('gaps')} · {taxonomy_label(taxonomy, lang)}",
        taxonomy=taxonomy,
        thin_below=thin_below,
        taxonomies=_taxonomies(store),
        summary=[(status_label(s, lang), s, n) for s, n in analysis.summary.items()],
        rows=rows,
        channel_labels=[channel_label(c, lang) for c in CHANNELS],
        matrix_columns=[support_label(c, lang) for c in matrix.columns],
        matrix_rows=matrix_rows,
        orphan_agreements=[
            {"name": pick_name(a.name, a.name_zh, lang), "href": _entity_href(a.id, lang)}
            for a in analysis.agreements_covering_nothing
        ],
        csv_href=_url("/api/gaps", **scope_query, format="csv"),
        api_href=_url("/api/gaps", **scope_query),
        api_matrix=_url("/api/coverage", taxonomy=taxonomy),
        map_href=_url("/views/gaps", **scope_query, lang=lang),
        matrix_href=_url("/views/matrix", taxonomy=taxonomy, lang=lang),
    )


@router.get("/path", response_class=HTMLResponse)
def path_page(
    request: Request,
    store: StoreDep,
    nonce: NonceDep,
    lang: LangParam = "en",
    source: OptionalText = None,
    target: OptionalText = None,
    k: Annotated[int, Query(ge=1, le=20)] = 3,
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 4,
) -> HTMLResponse:
    """Pick two entities and see the chains between them, each told as a sentence with its evidence."""
    source = (source or "").strip()
    target = (target or "").strip()
    found = None
    chains = []
    if source and target:
        found = paths_between(store, source, target, k=k, max_hops=max_hops)
        for p in found.paths:
            chains.append(
                {
                    "sentence": _sentence(p.nodes, p.steps, lang),
                    "steps": [_step(s, p.nodes, lang) for s in p.steps],
                    "basis": basis_label(p.weakest_basis, lang),
                    "basis_key": p.weakest_basis.value,
                }
            )
    query = (
        {"source": found.source.id, "target": found.target.id, "k": k, "max_hops": max_hops} if found else {}
    )
    return _page(
        request,
        "path.html",
        lang,
        nonce,
        title=page_text(lang)("path"),
        source=source,
        target=target,
        k=k,
        max_hops=max_hops,
        max_hops_limit=MAX_HOPS,
        found=found is not None,
        source_name=pick_name(found.source.name, found.source.name_zh, lang) if found else "",
        target_name=pick_name(found.target.name, found.target.name_zh, lang) if found else "",
        source_href=_entity_href(found.source.id, lang) if found else "",
        target_href=_entity_href(found.target.id, lang) if found else "",
        chains=chains,
        view_href=_url("/views/path", **query, lang=lang) if found else "",
        api_href=_url("/api/paths", **query) if found else "",
    )


# ---------------------------------------------------------------------------
# views


@router.get("/views/ego/{entity:path}", response_class=HTMLResponse)
def ego_view_route(
    store: StoreDep,
    nonce: NonceDep,
    entity: str,
    depth: Annotated[int, Query(ge=1, le=MAX_DEPTH)] = 1,
    lang: LangParam = "en",
    limit: Annotated[
        int,
        Query(
            ge=1,
            le=EGO_LIMIT,
            description=f"Shapes drawn at most, entities and folded groups together (default {VIEW_SHAPES}), "
            "nearest first; the view says when it cut.",
        ),
    ] = VIEW_SHAPES,
) -> HTMLResponse:
    """An entity and its neighbours to a depth, with links one degree in and out."""
    result = drawn_neighborhood(store, entity, depth=depth, shapes=limit)
    centre = _seg(result.center.id)
    links = Links(
        entity=f"/entities/{{id}}?lang={lang}",
        industry=f"/industries/{{id}}?lang={lang}",
        recentre=f"/views/ego/{{id}}?depth={depth}&lang={lang}",
        depth={d: _url(f"/views/ego/{centre}", depth=d, lang=lang) for d in range(1, MAX_DEPTH + 1)},
    )
    return _html(
        ego_view(
            result,
            lang=lang,
            links=links,
            nonce=nonce,
            api_path=_url(f"/api/entities/{centre}/neighborhood", depth=depth, limit=limit),
        )
    )


@router.get("/views/industry/{industry:path}", response_class=HTMLResponse)
def industry_view_route(
    store: StoreDep,
    nonce: NonceDep,
    industry: str,
    lang: LangParam = "en",
    include_sub_industries: bool = True,
) -> HTMLResponse:
    """An industry and the societies serving it, one sector per channel."""
    result = societies_serving(store, industry, include_sub_industries=include_sub_industries)
    return _html(
        coverage_view(
            result,
            lang=lang,
            links=_links(lang),
            nonce=nonce,
            api_path=_url(
                f"/api/industries/{_seg(result.industry.id)}/societies",
                include_sub_industries=None if include_sub_industries else "false",
            ),
        )
    )


@router.get("/views/gaps", response_class=HTMLResponse)
def gaps_view_route(
    store: StoreDep,
    nonce: NonceDep,
    lang: LangParam = "en",
    taxonomy: TaxonomyParam = DEFAULT_TAXONOMY,
    thin_below: Annotated[int, Query(ge=1, le=100)] = 2,
) -> HTMLResponse:
    """The gap map of a taxonomy."""
    result = gap_analysis(store, GapScope(taxonomy=taxonomy), thin_below=thin_below)
    return _html(gap_map_view(result, lang=lang, links=_links(lang), nonce=nonce))


@router.get("/views/matrix", response_class=HTMLResponse)
def matrix_view_route(
    store: StoreDep, nonce: NonceDep, lang: LangParam = "en", taxonomy: TaxonomyParam = DEFAULT_TAXONOMY
) -> HTMLResponse:
    """The coverage matrix of a taxonomy, as a table beside a graph."""
    result = coverage_matrix(store, GapScope(taxonomy=taxonomy))
    return _html(matrix_view(result, lang=lang, links=_links(lang), nonce=nonce))


@router.get("/views/path", response_class=HTMLResponse)
def path_view_route(
    store: StoreDep,
    nonce: NonceDep,
    source: Annotated[str, Query(min_length=1, max_length=300)],
    target: Annotated[str, Query(min_length=1, max_length=300)],
    lang: LangParam = "en",
    k: Annotated[int, Query(ge=1, le=20)] = 3,
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS)] = 4,
) -> HTMLResponse:
    """The chains between two entities."""
    result = paths_between(store, source, target, k=k, max_hops=max_hops)
    api = _url("/api/paths", source=result.source.id, target=result.target.id, k=k, max_hops=max_hops)
    return _html(path_view(result, lang=lang, links=_links(lang), nonce=nonce, api_path=api))


@router.get("/views/overview", response_class=HTMLResponse)
def overview_view_route(store: StoreDep, nonce: NonceDep, lang: LangParam = "en") -> HTMLResponse:
    """The whole graph, aggregated by kind when it is large."""
    nodes, edges = _projection(store)
    return _html(overview_view(nodes, edges, lang=lang, links=_links(lang), nonce=nonce))


# ---------------------------------------------------------------------------
# error pages


def _page_or_api(original: Any) -> Callable[[Request, Exception], Awaitable[Response]]:
    """An error handler that answers pages with HTML and hands everything else to ``original``."""

    async def handle(request: Request, exc: Exception) -> Response:
        if not _wants_html(request) and original is not None:
            result = original(request, exc)
            if isinstance(result, Response):
                return result
            response: Response = await result
            return response
        return _error_page(request, exc)

    return handle


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(_NOT_PAGES):
        return False
    if path == "/" or path.startswith(_PAGE_PREFIXES):
        return True
    return "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, exc: Exception) -> HTMLResponse:
    lang: Lang = "zh" if request.query_params.get("lang") == "zh" else "en"
    say = page_text(lang)
    suggestions: list[dict[str, str]] = []
    status = 500
    kind = "InternalError"
    if isinstance(exc, GraphServiceError):
        status = exc.status_code
        kind = type(exc).__name__
        message = error_message(exc.message, lang, kind)
        if isinstance(exc, NotFound):
            for text in suggestions_in(request, exc.suggestions, lang):
                first = text.split(" ", 1)[0]
                if _looks_like_id(first):
                    suggestions.append({"text": text, "href": _entity_href(first, lang)})
                else:
                    suggestions.append({"text": text, "href": _url("/search", q=text, lang=lang)})
    elif isinstance(exc, RequestValidationError):
        status = 422
        kind = "InvalidRequest"
        message = "; ".join(validation_problem(error, lang) for error in exc.errors())
    elif isinstance(exc, StarletteHTTPException):
        status = exc.status_code
        kind = "NotFound" if status == 404 else "HTTPError"
        message = error_message("no such page" if status == 404 else str(exc.detail), lang, kind)
    else:
        message = error_message("the server met an unexpected problem", lang, kind)
    heading = (
        say("not_found")
        if status == 404
        else say("bad_request")
        if status < 500
        else error_heading(kind, lang)
    )
    # the name asked for: the route's own parameter (it may hold "/"), else the path's last segment
    asked = next((str(v) for v in request.path_params.values() if v), "")
    last = asked or request.url.path.rstrip("/").rsplit("/", 1)[-1]
    guess = last.split(":", 1)[-1].replace("-", " ") if status == 404 else ""
    nonce = _nonce(request)
    body = _render(
        "error.html",
        lang,
        nonce,
        request,
        title=heading,
        status=status,
        heading=heading,
        message=message,
        suggestions=suggestions,
        search_href=_url("/search", q=guess[:100], lang=lang) if guess else "",
    )
    headers = {"Retry-After": "5"} if status == 503 else None
    return HTMLResponse(body, status_code=status, headers=headers)


# ---------------------------------------------------------------------------
# helpers


def _page(request: Request, template: str, lang: Lang, nonce: str, **context: Any) -> HTMLResponse:
    return _html(_render(template, lang, nonce, request, **context))


def _render(template: str, lang: Lang, nonce: str, request: Request, **context: Any) -> str:
    params = dict(request.query_params)
    params["lang"] = "en" if lang == "zh" else "zh"
    return (
        _env()
        .get_template(template)
        .render(
            lang=lang,
            lang_tag="zh-CN" if lang == "zh" else "en",
            _=page_text(lang),
            kind_label=lambda k: kind_label(k, lang),
            taxonomy_label=lambda tx: taxonomy_label(tx, lang),
            kind_labels_json=json.dumps(
                {kind.value: kind_label(kind, lang) for kind in NodeKind}, ensure_ascii=False
            ),
            text_lang=_text_lang,
            nonce=nonce,
            nav={
                "home": _url("/", lang=lang),
                "gaps": _url("/gaps", lang=lang),
                "path": _url("/path", lang=lang),
                "overview": _url("/views/overview", lang=lang),
                "switch": request.url.path + "?" + urlencode(params),
            },
            path=request.url.path,
            **context,
        )
    )


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, media_type="text/html; charset=utf-8")


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _links(lang: Lang) -> Links:
    return Links(
        entity=f"/entities/{{id}}?lang={lang}",
        industry=f"/industries/{{id}}?lang={lang}",
        recentre=f"/views/ego/{{id}}?depth=1&lang={lang}",
    )


def _url(path: str, **params: object) -> str:
    pairs = [(k, v) for k, v in params.items() if v is not None and v != ""]
    return f"{path}?{urlencode(pairs)}" if pairs else path


def _seg(node_id: str) -> str:
    return quote(node_id, safe="")


def _entity_href(node_id: str, lang: Lang) -> str:
    return _url(f"/entities/{_seg(node_id)}", lang=lang)


def _looks_like_id(text: str) -> bool:
    try:
        kind_of_id(text)
    except InvalidRequest:
        return False
    return True


def _show(value: object, lang: Lang) -> str:
    """A property's value in a language: the words of a level or a kind translated, lists joined."""
    if isinstance(value, list | tuple):
        return ", ".join(_show(v, lang) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{_show(k, lang)} {_show(v, lang)}" for k, v in value.items())
    return value_label(str(value), lang)


def _other_name(name: str, name_zh: str | None, lang: Lang) -> str:
    """The name in the other language, shown beside the name in the page's language (empty when
    the entity has one name only)."""
    if not name_zh or name_zh == name:
        return ""
    return name if lang == "zh" else name_zh


def _text_lang(text: object) -> str:
    """The language tag of a text from the data (evidence, descriptions): English when it holds
    a Latin word, else Chinese."""
    return "en" if _LATIN_WORD.search(str(text)) else "zh-CN"


_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def _sentence(nodes: Sequence[NodeRef], steps: Sequence[EvidenceStep], lang: Lang) -> str:
    return chain_sentence(
        [pick_name(n.name, n.name_zh, lang) for n in nodes],
        [(step.type, step.source == nodes[i].id) for i, step in enumerate(steps)],
        lang,
    )


def _step(step: EvidenceStep, nodes: Sequence[NodeRef], lang: Lang) -> dict[str, str]:
    names = {n.id: pick_name(n.name, n.name_zh, lang) for n in nodes}
    ends = [names.get(step.source, step.source), names.get(step.target, step.target)]
    return {
        "text": chain_sentence(ends, [(step.type, True)], lang),
        "evidence": step.evidence,
        "document": step.document,
        "basis": basis_label(step.basis, lang),
        "basis_key": step.basis.value,
    }


def _taxonomies(store: GraphStore) -> list[str]:
    found: set[str] = set()
    for node in store.find_nodes(NodeKind.INDUSTRY, None, limit=20000):
        taxonomy = getattr(node, "taxonomy", None)
        if taxonomy:
            found.add(taxonomy)
    return sorted(found)


def _projection(store: GraphStore) -> tuple[list[GraphNode], list[GraphEdge]]:
    """The whole graph as result models; light (no properties) when the overview will aggregate it."""
    light = store.counts().total_nodes > AGGREGATE_ABOVE
    nodes = [
        GraphNode(
            id=n.id,
            kind=n.kind,
            name=n.name,
            name_zh=n.name_zh,
            depth=0,
            properties={} if light else n.public_view(),
        )
        for n in store.iter_nodes()
    ]
    edges = [
        GraphEdge(source=r.source, type=r.type, target=r.target, evidence=EvidenceStep.of(r))
        for r in store.iter_relationships()
    ]
    return nodes, edges
