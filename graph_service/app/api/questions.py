"""Routes for the planners' questions: who serves an industry, what a society serves, gaps, paths, plans."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from graph_service.app.api.deps import StoreDep
from graph_service.app.api.params import AsOf, DateParam, Kinds, Limit, Offset, Types
from queries.analytics import Brokers, Communities, brokers, communities
from queries.explore import MAX_HOPS, Paths, paths_between
from queries.gaps import CoverageMatrix, GapAnalysis, Scope, coverage_matrix, gap_analysis, gaps_csv
from queries.models import Channel
from queries.plans import Changes, PlanProgress, changes, plan_progress
from queries.recommend import Recommendations, recommendations
from queries.serving import (
    CHANNELS,
    IndustriesServed,
    SocietiesServing,
    industries_served_by,
    societies_serving,
)

__all__ = ["router"]

router = APIRouter()
# Names and ids in the path are ``{...:path}``: a name holding "/" (the 5+5 industry
# "Clothing/apparel") works written plainly or as %2F; each route's fixed suffix ends it.

IndustryRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=300,
        description="An industry id, code, English or Chinese name, or alias.",
        openapi_examples={
            "by id": {"value": "industry:wenzhou-5-5:electrical"},
            "by Chinese name": {"value": "电气"},
            "by GB/T code": {"value": "C38"},
        },
    ),
]
SocietyRef = Annotated[
    str,
    Path(
        min_length=1,
        max_length=300,
        description="A society id, English or Chinese name, or abbreviation.",
        openapi_examples={"by id": {"value": "society:cmes"}, "by abbreviation": {"value": "CMES"}},
    ),
]


@router.get("/industries/{industry:path}/societies", tags=["questions"], response_model=SocietiesServing)
def get_societies_serving(
    store: StoreDep,
    industry: IndustryRef,
    include_sub_industries: Annotated[
        bool,
        Query(
            description="Count societies serving industries below it too (the default, as every "
            "count of serving does); `false` for the industry by itself.",
        ),
    ] = True,
    channels: Annotated[
        list[Channel] | None,
        Query(
            description="Only these channels: direct, agreement, program, talent (the four of service, "
            "followed when none is given), or expertise (societies whose field covers it: who could serve).",
        ),
    ] = None,
    as_of: AsOf = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> SocietiesServing:
    """**Which societies serve this industry?** Every channel, ranked, each with its evidence chains.

    Channels: `direct` (the society SERVES it), `agreement` (party to an agreement
    that COVERS it), `program` (takes part in a program that SERVES it), `talent`
    (a member talent ADVISES one of its enterprises). The score adds, per chain, the
    channel's weight (3, 3, 2, 1) times the product of its facts' basis weights
    (stated 1, reference 0.9, inferred 0.5); chains to sub-industries count 0.8.
    """
    return societies_serving(
        store,
        industry,
        include_sub_industries=include_sub_industries,
        channels=tuple(channels) if channels else tuple(CHANNELS),
        as_of=as_of,
        offset=offset,
        limit=limit,
    )


@router.get("/societies/{society:path}/industries", tags=["questions"], response_model=IndustriesServed)
def get_industries_served(
    store: StoreDep, society: SocietyRef, as_of: AsOf = None, offset: Offset = 0, limit: Limit = 50
) -> IndustriesServed:
    """Which industries does this society serve? The inverse question, with the same channels and evidence."""
    return industries_served_by(store, society, as_of=as_of, offset=offset, limit=limit)


@router.get("/industries/{industry:path}/recommendations", tags=["questions"], response_model=Recommendations)
def get_recommendations(
    store: StoreDep,
    industry: IndustryRef,
    limit: Annotated[
        int,
        Query(ge=1, le=100, description="At most this many societies."),
    ] = 10,
    as_of: AsOf = None,
    explain: Annotated[
        str | None,
        Query(
            max_length=300,
            description="A society (id or name): the answer's `explanation` says why it is, or is not, "
            "suggested (e.g. `中国电子学会`). An unknown society is a 404 with suggestions.",
        ),
    ] = None,
) -> Recommendations:
    """**Whom to approach** for an industry: societies that do not serve it yet, best first.

    Candidates come from the expertise layer (the society's field covers the industry, its
    division or its section), from serving related industries (parent, siblings), and from
    member talents advising its enterprises; a society already party to an agreement in force
    ranks above a stranger with the same expertise. Each reason is given in English (`text`)
    and Chinese (`text_zh`) with its evidence chains.
    """
    return recommendations(store, industry, limit=limit, as_of=as_of, explain=explain)


ScopeTaxonomy = Annotated[
    str | None,
    Query(
        max_length=100,
        description="Industries of this taxonomy, such as wenzhou-5+5 (Wenzhou's 5+5 list) or gbt4754. "
        "A taxonomy no industry has is a 404 naming those that exist.",
    ),
]
ScopeLevel = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Only this level: section, division, group, class (GB/T 4754), cluster (priority lists) …",
    ),
]
ScopeRegion = Annotated[
    str | None,
    Query(
        max_length=300,
        description="Only industries with enterprises or parks in this region (id or name, such as Yueqing).",
    ),
]
ScopeIndustries = Annotated[
    list[str] | None,
    Query(
        description="Explicit industries, by id or name (repeatable), such as 电气 and Footwear.",
    ),
]


@router.get(
    "/gaps",
    tags=["questions"],
    response_model=GapAnalysis,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv."}},
)
def get_gaps(
    store: StoreDep,
    taxonomy: ScopeTaxonomy = None,
    level: ScopeLevel = None,
    region: ScopeRegion = None,
    industries: ScopeIndustries = None,
    thin_below: Annotated[
        int,
        Query(
            ge=1,
            le=100,
            description="Fewer serving societies than this is 'thin'.",
        ),
    ] = 2,
    as_of: AsOf = None,
    format: Annotated[
        Literal["json", "csv"],
        Query(description="csv downloads a spreadsheet."),
    ] = "json",
) -> GapAnalysis | Response:
    """**Gap analysis**: for every industry of a scope, demand beside supply, a status
    (`uncovered`, `thin`, `covered`) and a severity order — the most urgent gap first."""
    scope = Scope(taxonomy=taxonomy, level=level, region=region, industries=industries or [])
    analysis = gap_analysis(store, scope, thin_below=thin_below, as_of=as_of)
    if format == "csv":
        return Response(
            gaps_csv(analysis),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="innograph-gaps.csv"'},
        )
    return analysis


@router.get("/coverage", tags=["questions"], response_model=CoverageMatrix)
def get_coverage(
    store: StoreDep,
    taxonomy: ScopeTaxonomy = None,
    level: ScopeLevel = None,
    region: ScopeRegion = None,
    industries: ScopeIndustries = None,
    as_of: AsOf = None,
) -> CoverageMatrix:
    """**Coverage matrix**: industries of a scope × kinds of support, each cell a count with its entities."""
    scope = Scope(taxonomy=taxonomy, level=level, region=region, industries=industries or [])
    return coverage_matrix(store, scope, as_of=as_of)


@router.get("/paths", tags=["questions"], response_model=Paths)
def get_paths(
    store: StoreDep,
    source: Annotated[
        str,
        Query(
            min_length=1,
            max_length=300,
            description="Where the chains start: an id or a name.",
            openapi_examples={"a society": {"value": "society:csae"}},
        ),
    ],
    target: Annotated[
        str,
        Query(
            min_length=1,
            max_length=300,
            description="Where the chains end: an id or a name.",
            openapi_examples={"an industry": {"value": "industry:wenzhou-5-5:electrical"}},
        ),
    ],
    k: Annotated[int, Query(ge=1, le=20, description="How many chains.")] = 3,
    max_hops: Annotated[int, Query(ge=1, le=MAX_HOPS, description="Longest chain.")] = 4,
    types: Types = None,
    as_of: AsOf = None,
) -> Paths:
    """The best chains between two entities (stated facts and specific links before hubs), each explained as a sentence."""
    return paths_between(store, source, target, k=k, max_hops=max_hops, types=types or (), as_of=as_of)


@router.get("/brokers", tags=["analytics"], response_model=Brokers)
def get_brokers(
    store: StoreDep, kinds: Kinds = None, types: Types = None, limit: Limit = 20, as_of: AsOf = None
) -> Brokers:
    """The best-placed go-betweens (betweenness centrality), among the chosen kinds."""
    if kinds:
        return brokers(store, kinds=kinds, types=types or (), limit=limit, as_of=as_of)
    return brokers(store, types=types or (), limit=limit, as_of=as_of)


@router.get("/communities", tags=["analytics"], response_model=Communities)
def get_communities(
    store: StoreDep,
    types: Types = None,
    resolution: Annotated[
        float,
        Query(
            ge=0.1,
            le=10,
            description="Higher gives more, smaller communities (1.5 is finer).",
        ),
    ] = 1.0,
    limit: Limit = 50,
    as_of: AsOf = None,
) -> Communities:
    """Communities of the graph (Louvain, seeded so answers repeat)."""
    return communities(store, types=types or (), resolution=resolution, limit=limit, as_of=as_of)


@router.get("/plans/{plan:path}/progress", tags=["questions"], response_model=PlanProgress)
def get_plan_progress(
    store: StoreDep,
    plan: Annotated[
        str,
        Path(
            min_length=1,
            max_length=300,
            description="A plan with targets: its id or name.",
            openapi_examples={
                "the three-year plan": {"value": "program:wenzhou-three-year-action-plan-2021-2023"}
            },
        ),
    ],
    as_of: AsOf = None,
) -> PlanProgress:
    """A plan's numeric targets against the programs the graph holds, with the plan's period."""
    return plan_progress(store, plan, as_of=as_of)


@router.get("/changes", tags=["questions"], response_model=Changes)
def get_changes(
    store: StoreDep,
    start: Annotated[
        DateParam,
        Query(max_length=40, description="From this date.", openapi_examples={"2021": {"value": "2021-01"}}),
    ],
    end: Annotated[
        DateParam,
        Query(max_length=40, description="Up to this date.", openapi_examples={"2021": {"value": "2021-12"}}),
    ],
    limit: Annotated[
        int,
        Query(ge=1, le=5000, description="At most this many of each."),
    ] = 1000,
) -> Changes:
    """What appeared (entities and relationships, by their start date) from `start` up to `end`, both included."""
    return changes(store, start, end, limit=limit)
